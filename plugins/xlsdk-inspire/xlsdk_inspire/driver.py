"""Hardware drivers of the Inspire RH56 (the simulated driver comes from the core and needs nothing here)."""

from __future__ import annotations

from typing import Any

from xlsdk.drivers import DriverEntry


def _factory(hand: Any, options: dict[str, Any]) -> Any:
    from xlsdk_inspire.modbus_driver import InspireModbusConfig, InspireModbusDriver

    if "port" not in options:
        from xlsdk.errors import DriverError

        raise DriverError("inspire-modbus needs a port: a serial device such as /dev/ttyUSB0 (Modbus RTU) or "
                          "tcp://HOST:PORT (Modbus TCP)")
    return InspireModbusDriver(hand, InspireModbusConfig(**options))


def _simulator(hand: Any) -> Any:
    from xlsdk_inspire.simulated_device import simulator_for_hand

    return simulator_for_hand(hand)


def driver_entries() -> list[DriverEntry]:
    """The real-hardware drivers this plugin registers."""
    return [DriverEntry(name="inspire-modbus", hands=("inspire",), factory=_factory, simulator=_simulator,
                        description="Modbus RTU over RS-485 (--port /dev/ttyUSB0) or Modbus TCP (--port tcp://HOST:PORT)")]
