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
from xlsdk.errors import DriverError

if TYPE_CHECKING:
    from xlsdk.hand import Hand


def driver_entry(hand: Hand, name: str) -> DriverEntry:
    """The registered driver ``name`` for ``hand``; the error lists the drivers that hand has."""
    from xlsdk.plugins import get_plugin_host

    entries = {entry.name: entry for entry in get_plugin_host().drivers_for(hand.name)}
    if name not in entries:
        raise DriverError(f"no driver {name!r} for hand {hand.name!r}; available: {', '.join(sorted(entries))}",
                          hint="`xlsdk hands` lists the drivers of every hand")
    return entries[name]


def open_driver(hand: Hand, name: str = "sim", options: dict[str, Any] | None = None) -> HandDriver:
    """Build (not connect) the driver ``name`` for ``hand`` with transport ``options``."""
    return driver_entry(hand, name).factory(hand, dict(options or {}))

__all__ = [
    "RetryPolicy",
    "driver_entry",
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
