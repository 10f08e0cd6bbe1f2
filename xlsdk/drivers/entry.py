"""What a plugin registers for a driver: a name, the hands it drives, a factory, and optionally a simulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from xlsdk.errors import field_location

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

    def build(self, hand: Hand, options: dict[str, Any] | None = None) -> Any:
        """The factory's (unconnected) driver for ``hand``; options it refuses raise a DriverError naming them.

        Factories validate their options with pydantic models; a ValidationError (an unknown key, a value
        out of range) reaches the user as one line per option instead of a traceback.
        """
        from pydantic import ValidationError

        from xlsdk.errors import DriverError, validation_problems

        try:
            return self.factory(hand, dict(options or {}))
        except ValidationError as exc:
            problems = "; ".join(validation_problems(exc, describe=_option_problem))
            raise DriverError(f"driver {self.name!r}: {problems}",
                              hint="see the driver's documentation for its options") from None

    @contextmanager
    def simulated(self, hand: Hand, options: dict[str, Any] | None = None) -> Iterator[Any]:
        """The factory's (unconnected) driver for ``hand``, wired to the plugin's simulated device.

        The simulator starts first and runs until the block ends; its options (a pseudo-terminal, a loopback
        port) connect the driver, and ``options`` given here win over them. ``xlsdk drive --simulate`` and
        the conformance check's driver test both run a protocol driver this way. A driver registered without
        a simulator raises a DriverError.
        """
        from xlsdk.errors import DriverError

        if self.simulator is None:
            raise DriverError(f"driver {self.name!r} has no simulated device", hint="drive real hardware instead")
        with self.simulator(hand) as device:
            yield self.build(hand, {**device, **(options or {})})


def _option_problem(error: Mapping[str, Any]) -> str:
    """A driver option's error names the option and the value given (a user typed it on the command line)."""
    where = field_location(error)
    if error["type"] == "extra_forbidden":
        return f"option {where}: not an option of this driver"
    return f"option {where}={error.get('input')!r}: {error['msg']}"
