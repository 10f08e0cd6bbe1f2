"""What a plugin registers for a driver: a name, the hands it drives, a factory, and optionally a simulator."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xlsdk.hand import Hand


@dataclass(frozen=True)
class DriverEntry:
    """A registered driver.

    ``factory(hand, options)`` builds an unconnected driver for ``hand``; ``options`` holds the
    transport settings the user gave (``port``, ``baudrate``, ...). ``hands`` lists the hand names the
    driver can drive; empty means any hand. ``simulator(hand)``, when given, is a context manager that
    starts a simulated device speaking the real protocol (on a pseudo-terminal or loopback) and yields
    the options that connect the factory's driver to it: ``xlsdk drive --simulate`` and the
    conformance checks use it to exercise the real protocol code without hardware.
    """

    name: str
    factory: Callable[["Hand", dict[str, Any]], Any]
    description: str = ""
    hands: tuple[str, ...] = field(default_factory=tuple)
    simulator: Callable[["Hand"], AbstractContextManager[dict[str, Any]]] | None = None

    def supports(self, hand_name: str) -> bool:
        return not self.hands or hand_name in self.hands
