"""Drivers: one safe interface (:class:`HandDriver`), the simulated default, and the registry entries.

Real drivers live in hand plugins and are found through the ``xlsdk_register_drivers`` hook.
"""

from xlsdk.drivers.base import DriverStats, HandDriver, HandState
from xlsdk.drivers.entry import DriverEntry
from xlsdk.drivers.safety import CommandReport, SafetyConfig, SafetyLayer
from xlsdk.drivers.sim import SimConfig, SimDriver

__all__ = [
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
