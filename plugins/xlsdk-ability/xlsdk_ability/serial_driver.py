"""The Ability Hand driver: its framed serial protocol over UART/RS-485 with pyserial.

Positions go out as degrees of the URDF joints in API order (the thumb rotator negative); every
command is answered with positions, currents and the 30 touch sensors, which become the state. A
keep-alive thread repeats the last command when the caller is quiet, because the hand leaves API mode
after 300 ms without a valid command (the core's watchdog decides *what* to hold; this keeps the
hand listening). Lost or damaged replies are retried within a bound; an impossible position reading is
reported as a fault and never passed on.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.drivers import DriverError, HandDriver, HandState, RetryPolicy, with_retries
from xlsdk.drivers.safety import SafetyConfig
from xlsdk_ability import protocol

READING_MARGIN_DEG = 15.0  # a reading this far outside the joint range is a sensor/link fault


class AbilitySerialConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    port: str = Field(..., description="serial device of the UART/RS-485 adapter, e.g. /dev/ttyUSB0")
    address: int = Field(protocol.DEFAULT_ADDRESS, ge=1, le=255)
    baudrate: int = Field(460800, gt=0, le=12_000_000, description="bits per second (the hand's default 460800)")
    timeout: float = Field(0.05, gt=0, description="seconds to wait for a reply")
    reply_variant: int = Field(1, ge=1, le=3)
    keepalive_s: float = Field(0.1, gt=0, lt=protocol.WATCHDOG_S)
    retry: RetryPolicy = RetryPolicy()


class AbilitySerialDriver(HandDriver):
    """PSYONIC Ability Hand over its serial packet protocol."""

    name = "ability-serial"

    def __init__(self, hand: Any, config: AbilitySerialConfig, *, safety: SafetyConfig | None = None,
                 **kwargs: Any) -> None:
        super().__init__(hand, safety=safety, **kwargs)
        if hand.dof != protocol.DOF:
            raise DriverError(f"{self.name}: hand {hand.name!r} has {hand.dof} joints; the Ability Hand has 6")
        self.config = config
        self._serial: Any = None
        self._buffer = bytearray()
        self._last_frame: bytes | None = None
        self._last_io = 0.0
        self._io_lock = threading.Lock()
        self._keepalive_stop = threading.Event()
        self._keepalive: threading.Thread | None = None
        self.last_touch: tuple[int, ...] = ()
        self._lower_deg = np.degrees(np.asarray(hand.spec.lower))
        self._upper_deg = np.degrees(np.asarray(hand.spec.upper))

    # --- transport -----------------------------------------------------------------------------

    def _open(self) -> None:
        import serial

        try:
            self._serial = serial.Serial(self.config.port, baudrate=self.config.baudrate, timeout=self.config.timeout)
        except (serial.SerialException, OSError, ValueError) as exc:  # ValueError: a rate the adapter refuses
            raise DriverError(f"{self.name}: cannot open {self.config.port}: {exc}",
                              hint="check the port name and permissions (dialout group)") from None
        try:
            # velocity 0 in velocity mode: a reply with the current state, without moving anything
            self._last_frame = protocol.encode_command([0.0] * 6, mode="velocity", variant=self.config.reply_variant,
                                                       address=self.config.address)
            self._exchange(self._last_frame)
        except DriverError as exc:
            self._serial.close()
            raise DriverError(f"{self.name}: no Ability Hand at address 0x{self.config.address:02x} answers on "
                              f"{self.config.port} ({exc.message})", hint="enable UART/RS-485 API mode in the app") from None
        self._keepalive_stop.clear()
        self._keepalive = threading.Thread(target=self._keep_alive, name="xlsdk-ability-keepalive", daemon=True)
        self._keepalive.start()

    def _close(self) -> None:
        self._keepalive_stop.set()
        if self._keepalive is not None:
            self._keepalive.join(timeout=1.0)
        if self._serial is not None:
            self._serial.close()

    def _keep_alive(self) -> None:
        while not self._keepalive_stop.wait(self.config.keepalive_s / 2):
            if time.monotonic() - self._last_io >= self.config.keepalive_s and self._last_frame is not None:
                try:
                    self._exchange(self._last_frame)
                except DriverError:
                    self.stats.faults += 1

    def _exchange(self, command: bytes) -> protocol.Reply:
        """Send one command frame and return its decoded reply (bounded retries)."""
        def attempt() -> protocol.Reply:
            with self._io_lock:
                self._serial.reset_input_buffer()
                self._buffer.clear()
                self._serial.write(command)
                deadline = time.monotonic() + self.config.timeout
                while time.monotonic() < deadline:
                    self._buffer += self._serial.read(max(1, self._serial.in_waiting or 1))
                    for raw in protocol.split_frames(self._buffer):
                        try:
                            reply = protocol.decode_reply(protocol.open_frame(raw))
                        except protocol.ProtocolError as exc:
                            raise DriverError(f"damaged reply: {exc}") from None
                        self._last_io = time.monotonic()
                        return reply
                raise DriverError(f"no reply within {self.config.timeout * 1000:.0f} ms")

        def count_retry(_: Exception) -> None:
            self.stats.retries += 1

        try:
            return with_retries(attempt, policy=self.config.retry, what=f"{self.name} exchange on {self.config.port}",
                                on_retry=count_retry)
        except DriverError:
            self.stats.faults += 1
            raise

    # --- HandDriver ----------------------------------------------------------------------------

    def _write_positions(self, q: np.ndarray) -> None:
        frame = protocol.encode_command([math.degrees(v) for v in q], mode="position",
                                        variant=self.config.reply_variant, address=self.config.address)
        self._last_frame = frame
        self._remember(self._exchange(frame))

    def _read_state(self) -> HandState:
        assert self._last_frame is not None
        reply = self._exchange(self._last_frame)
        return self._remember(reply)

    def _remember(self, reply: protocol.Reply) -> HandState:
        degrees = np.asarray(reply.positions_deg)
        faults = []
        names = self.hand.joint_names
        for i, value in enumerate(degrees):
            if value < self._lower_deg[i] - READING_MARGIN_DEG or value > self._upper_deg[i] + READING_MARGIN_DEG:
                faults.append(f"{names[i]}: position reads {value:.1f} deg, outside its range "
                              f"[{self._lower_deg[i]:.0f}, {self._upper_deg[i]:.0f}] (reading discarded)")
        if faults:
            self.stats.faults += 1
        clean = np.clip(np.radians(degrees), self.hand.spec.lower, self.hand.spec.upper)
        if reply.touch is not None:
            self.last_touch = reply.touch
        extra = {f"fsr{i}": float(v) for i, v in enumerate(reply.touch or ())}
        return HandState(
            positions=tuple(float(v) for v in clean),
            timestamp=self.clock(),
            forces=tuple(reply.currents_a) if reply.currents_a is not None else None,
            velocities=tuple(math.radians(v) for v in reply.velocities_dps) if reply.velocities_dps else None,
            faults=tuple(faults),
            extra=extra,
        )

    def _halt(self) -> None:
        state = self._read_state()
        self._write_positions(np.asarray(state.positions))
