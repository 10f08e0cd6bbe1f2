"""The Inspire RH56 driver: Modbus RTU over RS-485 (``/dev/ttyUSB0``) or Modbus TCP (``tcp://HOST:PORT``).

Commands arrive here already checked, clamped and rate-limited by the core's safety layer; this module
only speaks the protocol: six words to ANGLE_SET per command, one 36-word read from ANGLE_ACT for the
state (angles, forces, currents, errors, status in a single transaction). Every transaction is retried
within a bound (:class:`~xlsdk.drivers.retry.RetryPolicy`); a reading outside 0..1000 or an ERROR bit
is reported in ``HandState.faults`` and counted, never passed on as a position.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.drivers import DriverError, HandDriver, HandState, RetryPolicy, with_retries
from xlsdk.drivers.safety import SafetyConfig
from xlsdk_inspire import registers as reg


class InspireModbusConfig(BaseModel):
    """Transport settings (the CLI's ``--port``/``--option`` values land here)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    port: str = Field(..., description="/dev/ttyUSB0 (Modbus RTU) or tcp://HOST:PORT (Modbus TCP)")
    device_id: int = Field(1, ge=1, le=247, description="HAND_ID: the Modbus slave id (factory default 1)")
    baudrate: int = 115200
    timeout: float = Field(0.2, gt=0)
    retry: RetryPolicy = RetryPolicy()


class InspireModbusDriver(HandDriver):
    """Inspire RH56 over Modbus RTU or TCP."""

    name = "inspire-modbus"

    def __init__(self, hand: Any, config: InspireModbusConfig, *, safety: SafetyConfig | None = None,
                 **kwargs: Any) -> None:
        super().__init__(hand, safety=safety, **kwargs)
        if hand.dof != reg.DOF:
            raise DriverError(f"{self.name}: hand {hand.name!r} has {hand.dof} joints; the RH56 has {reg.DOF}")
        self.config = config
        self._lower = np.asarray(hand.spec.lower, dtype=np.float64)
        self._upper = np.asarray(hand.spec.upper, dtype=np.float64)
        self._client: Any = None

    # --- transport -----------------------------------------------------------------------------

    def _make_client(self) -> Any:
        from pymodbus.client import ModbusSerialClient, ModbusTcpClient

        port = self.config.port
        if port.startswith("tcp://"):
            host, _, number = port[len("tcp://"):].rpartition(":")
            if not host or not number.isdigit():
                raise DriverError(f"{self.name}: port {port!r} must look like tcp://HOST:PORT")
            return ModbusTcpClient(host, port=int(number), timeout=self.config.timeout, retries=0)
        return ModbusSerialClient(port, baudrate=self.config.baudrate, bytesize=8, parity="N", stopbits=1,
                                  timeout=self.config.timeout, retries=0)

    def _transaction(self, what: str, action: Any) -> Any:
        def attempt() -> Any:
            if not self._client.connected and not self._client.connect():
                raise DriverError(f"cannot open {self.config.port}")
            try:
                response = action()
            except Exception as exc:  # pymodbus raises its own IO/connection exceptions
                raise DriverError(f"{type(exc).__name__}: {exc}") from None
            if response.isError():
                raise DriverError(f"device answered with an error: {response}")
            return response

        def count_retry(_: Exception) -> None:
            self.stats.retries += 1
            if not self._client.connected:
                self._client.close()

        try:
            return with_retries(attempt, policy=self.config.retry, what=f"{self.name} {what} on {self.config.port}",
                                on_retry=count_retry)
        except DriverError:
            self.stats.faults += 1
            raise

    def _open(self) -> None:
        self._client = self._make_client()
        try:
            self._read_words(reg.HAND_ID, 1)
        except DriverError as exc:
            self._client.close()
            raise DriverError(f"{self.name}: no Inspire hand with id {self.config.device_id} answers on "
                              f"{self.config.port} ({exc.message})", hint="check the port, baud rate and HAND_ID") from None

    def _close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _read_words(self, address: int, count: int) -> list[int]:
        response = self._transaction(f"read {count} words at {address}", lambda: self._client.read_holding_registers(
            address, count=count, device_id=self.config.device_id))
        return list(response.registers)

    def _write_words(self, address: int, values: list[int]) -> None:
        self._transaction(f"write {len(values)} words at {address}", lambda: self._client.write_registers(
            address, [reg.to_word(v) for v in values], device_id=self.config.device_id))

    # --- HandDriver ----------------------------------------------------------------------------

    def _write_positions(self, q: np.ndarray) -> None:
        self._write_words(reg.ANGLE_SET, reg.to_raw(q, self._lower, self._upper))

    def _read_state(self) -> HandState:
        words = self._read_words(reg.ANGLE_ACT, reg.STATE_WORDS)
        angles = [reg.from_word(w) for w in words[: reg.DOF]]
        forces_at = reg.word_offset(reg.FORCE_ACT, reg.ANGLE_ACT)
        forces = [reg.from_word(w) for w in words[forces_at: forces_at + reg.DOF]]
        errors_at = reg.word_offset(reg.ERROR, reg.ANGLE_ACT)
        errors = reg.unpack_bytes(words[errors_at: errors_at + reg.DOF // 2])
        status_at = reg.word_offset(reg.STATUS, reg.ANGLE_ACT)
        status = reg.unpack_bytes(words[status_at: status_at + reg.DOF // 2])
        names = self.hand.joint_names
        faults = reg.describe_errors(errors, names)
        bad = [i for i, raw in enumerate(angles) if not 0 <= raw <= reg.RAW_MAX]
        for i in bad:
            faults.append(f"{names[i]}: ANGLE_ACT reads {angles[i]}, outside 0..{reg.RAW_MAX} (reading discarded)")
        if faults:
            self.stats.faults += 1
        clean = np.clip(np.asarray(angles, dtype=np.float64), 0, reg.RAW_MAX)
        positions = reg.from_raw(clean, self._lower, self._upper)
        return HandState(
            positions=tuple(float(v) for v in positions),
            forces=tuple(float(f) for f in forces),
            timestamp=self.clock(),
            faults=tuple(faults),
            extra={f"{name}.status": float(code) for name, code in zip(names, status, strict=True)},
        )

    def _halt(self) -> None:
        """Hold position: write the measured angles back as targets."""
        actual = self._read_words(reg.ANGLE_ACT, reg.DOF)
        self._write_words(reg.ANGLE_SET, [min(max(reg.from_word(w), 0), reg.RAW_MAX) for w in actual])

    # --- device functions ------------------------------------------------------------------------

    def clear_errors(self) -> None:
        """Write 1 to CLEAR_ERROR (after the cause, e.g. a blocked finger, is gone)."""
        self._require_connection()
        with self._lock:
            self._write_words(reg.CLEAR_ERROR, [1])

    def set_force_limits(self, raw: list[int]) -> None:
        """FORCE_SET per DOF (0..1000): the grip force at which a finger stops."""
        self._require_connection()
        if len(raw) != reg.DOF or not all(0 <= v <= reg.RAW_MAX for v in raw):
            raise DriverError(f"{self.name}: force limits must be {reg.DOF} values in 0..{reg.RAW_MAX}, got {raw}")
        with self._lock:
            self._write_words(reg.FORCE_SET, list(raw))
