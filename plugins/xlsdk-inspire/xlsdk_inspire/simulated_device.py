"""A simulated Inspire RH56 that speaks Modbus like the real one, served by pymodbus.

The device side of the protocol from the same facts as the driver (``registers.py``): byte-addressed
registers, ANGLE_SET driving six actuators toward their targets at a speed set by SPEED_SET,
ANGLE_ACT/FORCE_ACT/ERROR/STATUS read back, CLEAR_ERROR clearing faults. A finger can be *blocked*
(an object in the way): it stops there, its force rises with how far the target lies beyond the
obstacle, STATUS reads "force reached" once FORCE_SET is exceeded, and a full-scale force sets the
stall bit in ERROR. ``inject_out_of_range`` makes a DOF report an impossible angle.

:func:`simulated_inspire` serves it over Modbus TCP on loopback or Modbus RTU on a pseudo-terminal,
optionally behind a fault-injecting link, and yields the driver options that reach it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from pymodbus.datastore import ModbusServerContext
from pymodbus.pdu import ExceptionResponse  # noqa: F401 - re-exported for tests that check exception codes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

from xlsdk.drivers.links import FaultPlan, PtyLink, TcpLink
from xlsdk_inspire import registers as reg

_MEMORY = 4096


class InspireDeviceModel:
    """Register memory and actuator physics of one hand (thread-safe)."""

    def __init__(self, hand_id: int = 1, *, clock: Any = time.monotonic) -> None:
        self.hand_id = hand_id
        self.clock = clock
        self.memory = bytearray(_MEMORY)
        self.lock = threading.Lock()
        self.actual = [float(reg.RAW_MAX)] * reg.DOF  # start open
        self.target = [float(reg.RAW_MAX)] * reg.DOF
        self.blocked: dict[int, float] = {}
        self.out_of_range: dict[int, int] = {}
        self.writes = 0
        self.last_update = clock()
        self._set_word(reg.HAND_ID, hand_id)
        for dof in range(reg.DOF):
            self._set_word(reg.ANGLE_SET + 2 * dof, reg.RAW_MAX)
            self._set_word(reg.FORCE_SET + 2 * dof, 500)
            self._set_word(reg.SPEED_SET + 2 * dof, 1000)
            self.memory[reg.TEMP + dof] = 35
        self._publish()

    # --- memory --------------------------------------------------------------------------------

    def _set_word(self, address: int, value: int) -> None:
        word = reg.to_word(value)
        self.memory[address] = word & 0xFF
        self.memory[address + 1] = word >> 8

    def _word(self, address: int) -> int:
        return self.memory[address] | (self.memory[address + 1] << 8)

    def read_words(self, address: int, count: int) -> list[int]:
        with self.lock:
            self._advance()
            return [self._word(address + 2 * k) for k in range(count)]

    def write_words(self, address: int, values: Sequence[int]) -> None:
        with self.lock:
            self._advance()
            self.writes += 1
            for k, value in enumerate(values):
                register = address + 2 * k
                if register == reg.CLEAR_ERROR:
                    if value == 1:
                        for dof in range(reg.DOF):
                            self.memory[reg.ERROR + dof] = 0
                    continue
                if reg.ANGLE_SET <= register < reg.ANGLE_SET + 2 * reg.DOF:
                    dof = (register - reg.ANGLE_SET) // 2
                    signed = reg.from_word(value)
                    if signed == reg.KEEP:
                        continue
                    self.target[dof] = float(min(max(signed, 0), reg.RAW_MAX))
                self._set_word(register, value)
            self._publish()

    # --- physics -------------------------------------------------------------------------------

    def block(self, dof: int, at_raw: float) -> None:
        """Put an object in finger ``dof``'s way: it cannot close (raw below) past ``at_raw``."""
        with self.lock:
            self._advance()
            self.blocked[dof] = at_raw

    def inject_out_of_range(self, dof: int, raw: int) -> None:
        with self.lock:
            self.out_of_range[dof] = raw
            self._publish()

    def clear_injections(self) -> None:
        with self.lock:
            self.blocked.clear()
            self.out_of_range.clear()
            self._publish()

    def _advance(self) -> None:
        now = self.clock()
        dt = max(0.0, now - self.last_update)
        self.last_update = now
        for dof in range(reg.DOF):
            speed = reg.from_word(self._word(reg.SPEED_SET + 2 * dof))
            rate = 1.5 * max(speed, 1)  # raw units per second: full stroke in ~0.67 s at speed 1000
            step = max(-rate * dt, min(rate * dt, self.target[dof] - self.actual[dof]))
            position = self.actual[dof] + step
            obstacle = self.blocked.get(dof)
            if obstacle is not None and position < obstacle:
                position = obstacle
            self.actual[dof] = position
        self._publish()

    def _publish(self) -> None:
        for dof in range(reg.DOF):
            angle = self.out_of_range.get(dof, round(self.actual[dof]))
            self._set_word(reg.ANGLE_ACT + 2 * dof, angle)
            self._set_word(reg.POS_ACT + 2 * dof, round(2 * self.actual[dof]))
            obstacle = self.blocked.get(dof)
            squeeze = max(0.0, (obstacle - self.target[dof])) if obstacle is not None else 0.0
            force = int(min(reg.RAW_MAX, 4 * squeeze))
            self._set_word(reg.FORCE_ACT + 2 * dof, force)
            self._set_word(reg.CURRENT + 2 * dof, 80 + force // 4)
            threshold = reg.from_word(self._word(reg.FORCE_SET + 2 * dof))
            if force >= reg.RAW_MAX:
                self.memory[reg.ERROR + dof] |= 0x01  # stall
                status = 6
            elif force and force >= threshold:
                status = 3
            elif abs(self.actual[dof] - self.target[dof]) < 1.0:
                status = 2
            else:
                status = 1 if self.target[dof] < self.actual[dof] else 0
            self.memory[reg.STATUS + dof] = status


class InspireServerContext(ModbusServerContext):
    """pymodbus datastore hook: every holding-register access goes to the device model."""

    def __init__(self, model: InspireDeviceModel) -> None:  # noqa: D107 - the base requires devices we do not use
        self.model = model
        self.old_simulator = True  # pymodbus then calls our async_getValues/async_setValues directly
        self.simdevices = []
        self._devices = {model.hand_id: model}  # type: ignore[dict-item]

    async def async_getValues(self, device_id: int, func_code: int, address: int, count: int = 1) -> list[int]:
        return self.model.read_words(address, count)

    async def async_setValues(self, device_id: int, func_code: int, address: int, values: Sequence[int]) -> None:
        self.model.write_words(address, list(values))
        return None

    def device_ids(self) -> list[int]:
        """The ids this context serves: pymodbus's request handler asks (broadcast requests go to each)."""
        return [self.model.hand_id]


class _ServerThread:
    """A pymodbus server running its own event loop in a daemon thread (built inside that loop)."""

    def __init__(self, make_server: Callable[[], Any]) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.server: Any = None
        self._make_server = make_server
        self.thread = threading.Thread(target=self._run, name="xlsdk-inspire-device", daemon=True)
        self.thread.start()
        if not self.ready.wait(10.0):
            raise RuntimeError("the simulated Inspire device did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def serve() -> None:
            self.server = self._make_server()
            self.ready.set()
            await self.server.serve_forever()

        self.loop.run_until_complete(serve())

    def stop(self) -> None:
        future = asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop)
        try:
            future.result(timeout=5.0)
        except Exception:  # the server may already be down; the thread is a daemon either way
            pass
        self.thread.join(timeout=5.0)


@dataclass
class SimulatedInspire:
    """What a running simulation exposes to tests: the model, the fault plan, the link, the options."""

    model: InspireDeviceModel
    faults: FaultPlan
    link: PtyLink | TcpLink
    options: dict[str, Any]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def simulated_inspire(transport: Literal["tcp", "rtu"] = "tcp", *, hand_id: int = 1,
                      faults: FaultPlan | None = None) -> Iterator[SimulatedInspire]:
    """Serve a simulated hand over Modbus TCP (loopback) or RTU (PTY); yields how to reach it."""
    model = InspireDeviceModel(hand_id)
    plan = faults or FaultPlan()
    context = InspireServerContext(model)
    if transport == "tcp":
        port = _free_port()
        server = _ServerThread(lambda: ModbusTcpServer(context, address=("127.0.0.1", port)))
        _wait_for_port(port)
        link: PtyLink | TcpLink = TcpLink(("127.0.0.1", port), plan)
        options = {"port": link.url, "device_id": hand_id}
    else:
        link = PtyLink(plan)
        server = _ServerThread(lambda: ModbusSerialServer(context, port=link.device_port, baudrate=115200, timeout=0.05))
        time.sleep(0.2)  # let the server open its end of the line
        options = {"port": link.driver_port, "device_id": hand_id, "baudrate": 115200}
    try:
        yield SimulatedInspire(model=model, faults=plan, link=link, options=options)
    finally:
        link.close()
        server.stop()


def _wait_for_port(port: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"the simulated Inspire device did not listen on 127.0.0.1:{port}")


@contextmanager
def simulator_for_hand(hand: Any) -> Iterator[dict[str, Any]]:
    """The DriverEntry simulator hook: an RTU device on a PTY (the hand's default bus)."""
    with simulated_inspire("rtu") as simulation:
        yield simulation.options
