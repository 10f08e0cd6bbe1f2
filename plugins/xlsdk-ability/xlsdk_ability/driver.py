"""Hardware drivers of the PSYONIC Ability Hand (the simulated driver comes from the core)."""

from __future__ import annotations

from typing import Any

from xlsdk.drivers import DriverEntry


def _factory(hand: Any, options: dict[str, Any]) -> Any:
    from xlsdk.errors import DriverError
    from xlsdk_ability.serial_driver import AbilitySerialConfig, AbilitySerialDriver

    if "port" not in options:
        raise DriverError("ability-serial needs a port (the UART/RS-485 adapter, e.g. /dev/ttyUSB0)")
    return AbilitySerialDriver(hand, AbilitySerialConfig(**options))


def _simulator(hand: Any) -> Any:
    from xlsdk_ability.simulated_device import simulator_for_hand

    return simulator_for_hand(hand)


def driver_entries() -> list[DriverEntry]:
    """The real-hardware drivers this plugin registers."""
    return [DriverEntry(name="ability-serial", hands=("ability",), factory=_factory, simulator=_simulator,
                        description="framed serial protocol over UART/RS-485 (--port /dev/ttyUSB0, 460800 baud)")]
