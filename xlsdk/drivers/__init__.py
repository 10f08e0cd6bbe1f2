"""Drivers: one safe interface (:class:`HandDriver`), the simulated default, and the registry entries.

Real drivers live in hand plugins and are found through the ``xlsdk_register_drivers`` hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xlsdk.drivers.base import DriverStats, HandDriver, HandState
from xlsdk.drivers.entry import DriverEntry
from xlsdk.drivers.retry import RetryPolicy, with_retries
from xlsdk.drivers.safety import CommandReport, SafetyConfig, SafetyLayer
from xlsdk.drivers.sim import SimConfig, SimDriver
from xlsdk.errors import DriverError, PluginConflictError

if TYPE_CHECKING:
    from xlsdk.hand import Hand


def hand_drivers(hand: Hand) -> dict[str, DriverEntry | None]:
    """Every driver of ``hand`` by name, the one place this is decided (listing, info, check, drive).

    Order: ``sim``, then the drivers the hand's manifest offers, then any other registered driver that
    supports the hand (a generic one). A driver the manifest offers that no plugin registers maps to
    ``None``: the hand promises it, and ``xlsdk check`` fails until a plugin provides it.
    """
    from xlsdk.plugins import get_plugin_host

    registered = {entry.name: entry for entry in get_plugin_host().drivers_for(hand.name)}
    names = dict.fromkeys(["sim", *hand.drivers, *registered])
    return {name: registered.get(name) for name in names}


def driver_entry(hand: Hand, name: str) -> DriverEntry:
    """The registered driver ``name`` for ``hand``; the error lists the drivers that hand has."""
    from xlsdk.plugins import get_plugin_host

    conflict = get_plugin_host().driver_conflicts().get(name)
    if conflict is not None:
        raise PluginConflictError(f"driver {name!r} for hand {hand.name!r} cannot be used: {conflict}")
    drivers = hand_drivers(hand)
    entry = drivers.get(name)
    if entry is None:
        available = ", ".join(sorted(n for n, e in drivers.items() if e))
        if name in drivers:
            raise DriverError(f"hand {hand.name!r} offers driver {name!r} (hand.toml) but no installed plugin "
                              f"registers it; available: {available}", hint="reinstall the hand's plugin")
        raise DriverError(f"no driver {name!r} for hand {hand.name!r}; available: {available}",
                          hint="`xlsdk hands` lists the drivers of every hand")
    return entry


def open_driver(hand: Hand, name: str = "sim", options: dict[str, Any] | None = None) -> HandDriver:
    """Build (not connect) the driver ``name`` for ``hand`` with transport ``options``."""
    return driver_entry(hand, name).build(hand, options)

__all__ = [
    "RetryPolicy",
    "driver_entry",
    "hand_drivers",
    "open_driver",
    "with_retries",
    "CommandReport",
    "DriverEntry",
    "DriverStats",
    "HandDriver",
    "HandState",
    "SafetyConfig",
    "SafetyLayer",
    "SimConfig",
    "SimDriver",
]
