"""A simulated Ability Hand on a pseudo-terminal, speaking the framed serial protocol of ``protocol.py``.

It answers commands addressed to it with the reply variant the header asks for, moves six actuators
(first-order toward position targets, capped at 460 deg/s; velocity mode integrates), reports currents
and 30 FSR values that rise when a finger presses on an obstacle (:meth:`block`), leaves API mode when
no valid command arrives for 300 ms (like the real hand) and re-enters it on the next valid command.
Damaged frames (bad checksum, wrong length) are dropped without a reply, as a real device would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import serial

from xlsdk.drivers.links import FaultPlan, PtyLink
from xlsdk_ability import protocol

MAX_SPEED_DPS = 460.0
TIME_CONSTANT_S = 0.03


class AbilityDeviceModel:
    """Actuators, touch sensors and the API-mode watchdog of one hand (thread-safe)."""

    def __init__(self, address: int = protocol.DEFAULT_ADDRESS, *, clock: Any = time.monotonic) -> None:
        self.address = address
        self.clock = clock
        self.lock = threading.Lock()
        self.positions = [0.0] * protocol.DOF  # degrees, API order
        self.targets = [0.0] * protocol.DOF
        self.velocities = [0.0] * protocol.DOF
        self.mode: protocol.Mode = "position"
        self.api_mode = False
        self.api_mode_exits = 0
        self.commands = 0
        self.rejected_frames = 0
        self.blocked: dict[int, float] = {}
        self.out_of_range: dict[int, float] = {}
        self.last_command = clock()
        self.last_update = clock()

    def block(self, joint: int, at_deg: float) -> None:
        with self.lock:
            self.blocked[joint] = at_deg

    def inject_out_of_range(self, joint: int, degrees: float) -> None:
        with self.lock:
            self.out_of_range[joint] = degrees

    def clear_injections(self) -> None:
        with self.lock:
            self.blocked.clear()
            self.out_of_range.clear()

    def _advance(self) -> None:
        now = self.clock()
        dt = max(0.0, now - self.last_update)
        self.last_update = now
        if self.api_mode and now - self.last_command > protocol.WATCHDOG_S:
            self.api_mode = False  # the real hand drops out of API mode and holds
            self.api_mode_exits += 1
            self.targets = list(self.positions)
            self.mode = "position"
        for joint in range(protocol.DOF):
            if self.mode == "velocity" and self.api_mode:
                step = self.velocities[joint] * dt
            else:
                error = self.targets[joint] - self.positions[joint]
                step = error * (1.0 - pow(2.718281828, -dt / TIME_CONSTANT_S)) if dt else 0.0
            step = max(-MAX_SPEED_DPS * dt, min(MAX_SPEED_DPS * dt, step))
            position = self.positions[joint] + step
            obstacle = self.blocked.get(joint)
            if obstacle is not None:
                # fingers and the flexor close toward positive angles, the rotator toward negative ones
                position = min(position, obstacle) if joint < 5 else max(position, obstacle)
            self.positions[joint] = position

    def handle(self, body: bytes) -> bytes | None:
        """The reply frame to a command body, or None (not for us / damaged)."""
        try:
            command = protocol.decode_command(body)
        except protocol.ProtocolError:
            self.rejected_frames += 1
            return None
        if command.address != self.address:
            return None
        with self.lock:
            self._advance()
            self.commands += 1
            self.api_mode = True
            self.last_command = self.clock()
            self.mode = command.mode
            if command.mode == "position":
                self.targets = list(command.values)
            elif command.mode == "velocity":
                self.velocities = list(command.values)
            reported = [self.out_of_range.get(j, p) for j, p in enumerate(self.positions)]
            pressing = [max(0.0, (self.targets[j] - self.blocked[j]) * (1 if j < 5 else -1)) if j in self.blocked else 0.0
                        for j in range(protocol.DOF)]
            currents = [0.05 + 0.02 * p for p in pressing]
            touch = [0] * protocol.FSR_COUNT
            for joint, force in enumerate(pressing[:5]):
                for site in range(6):  # six FSR sites per digit; the thumb's are 24..29
                    index = (joint if joint < 4 else 4) * 6 + site
                    touch[index] = min(4095, int(40 * force))
            header = protocol.MODE_BASE[command.mode] + command.variant - 1
            return protocol.encode_reply(header, reported, currents_a=currents, velocities_dps=self.velocities,
                                         touch=touch)


class _DeviceLoop:
    """Reads frames from the device end of the line and answers them."""

    def __init__(self, model: AbilityDeviceModel, port: str) -> None:
        self.model = model
        self.serial = serial.Serial(port, baudrate=460800, timeout=0.01)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="xlsdk-ability-device", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        buffer = bytearray()
        while not self._stop.is_set():
            try:
                chunk = self.serial.read(max(1, self.serial.in_waiting))  # never wait for bytes that are not coming
            except (serial.SerialException, OSError):
                return
            with self.model.lock:
                self.model._advance()
            if not chunk:
                continue
            buffer += chunk
            for raw in protocol.split_frames(buffer):
                try:
                    body = protocol.open_frame(raw)
                except protocol.ProtocolError:
                    self.model.rejected_frames += 1
                    continue
                reply = self.model.handle(body)
                if reply is not None:
                    self.serial.write(reply)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2.0)
        self.serial.close()


@dataclass
class SimulatedAbility:
    model: AbilityDeviceModel
    faults: FaultPlan
    link: PtyLink
    options: dict[str, Any]


@contextmanager
def simulated_ability(*, address: int = protocol.DEFAULT_ADDRESS,
                      faults: FaultPlan | None = None) -> Iterator[SimulatedAbility]:
    """A simulated hand on a PTY (optionally behind a fault plan); yields how to reach it."""
    link = PtyLink(faults)
    model = AbilityDeviceModel(address)
    loop = _DeviceLoop(model, link.device_port)
    try:
        yield SimulatedAbility(model=model, faults=link.faults, link=link,
                               options={"port": link.driver_port, "address": address})
    finally:
        loop.stop()
        link.close()


@contextmanager
def simulator_for_hand(hand: Any) -> Iterator[dict[str, Any]]:
    """The DriverEntry simulator hook."""
    with simulated_ability() as simulation:
        yield simulation.options
