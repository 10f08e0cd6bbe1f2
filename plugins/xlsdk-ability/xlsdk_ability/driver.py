"""Hardware drivers of this hand (the simulated driver comes from the core and needs nothing here)."""

from __future__ import annotations

from xlsdk.drivers import DriverEntry


def driver_entries() -> list[DriverEntry]:
    """The real-hardware drivers this plugin registers."""
    return []
