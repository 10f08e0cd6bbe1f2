"""Drivers that delegate to a vendor's own SDK: imported lazily, with an exact message when it is absent.

XHand and Paxini ship closed protocol stacks as Python SDKs. Their xlsdk drivers import the SDK only
when connecting, so a missing SDK breaks nothing else, and the error says what to install. The sim
driver works for these hands regardless.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from xlsdk.errors import DriverError


def import_vendor_sdk(module: str, *, driver: str, install: str) -> ModuleType:
    """Import the vendor SDK ``module`` or raise a DriverError that says what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DriverError(f"{driver}: the vendor SDK module {module!r} is not installed ({exc})",
                          hint=f"{install}; until then the sim driver drives this hand in simulation") from None
