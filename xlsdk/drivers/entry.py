"""What a plugin registers for a driver: a name, the hands it drives and a factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xlsdk.hand import Hand


@dataclass(frozen=True)
class DriverEntry:
    """A registered driver.

    ``factory(hand, options)`` builds an unconnected driver for ``hand``; ``options`` holds the
    transport settings the user gave (``port``, ``baudrate``, ...). ``hands`` lists the hand names the
    driver can drive; empty means any hand.
    """

    name: str
    factory: Callable[["Hand", dict[str, Any]], Any]
    description: str = ""
    hands: tuple[str, ...] = field(default_factory=tuple)

    def supports(self, hand_name: str) -> bool:
        return not self.hands or hand_name in self.hands
