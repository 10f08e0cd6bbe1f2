"""pytest plugin (entry point ``pytest11: xlsdk``): ``pytest --xlsdk-hand NAME`` runs the conformance checks.

Registered wherever xlsdk is installed; it adds the option and, only when it is given, one test item
per (hand, check) — the same checks as ``xlsdk check NAME``.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xlsdk")
    group.addoption("--xlsdk-hand", action="append", default=[], metavar="NAME",
                    help="run the xlsdk conformance checks for this installed hand (repeatable)")


class ConformanceItem(pytest.Item):
    """One conformance check of one hand."""

    def __init__(self, *, hand: str, check: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hand = hand
        self.check = check

    def runtest(self) -> None:
        from xlsdk.conformance import run_check

        result = run_check(self.hand, self.check)
        if not result.passed:
            raise ConformanceFailure(result.explain())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "xlsdk-conformance", None, f"{self.hand}::{self.check}"


class ConformanceFailure(AssertionError):
    """A failed conformance check (the message says what to run to fix it)."""


class ConformanceCollector(pytest.Collector):
    def __init__(self, *, hands: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hands = hands

    def collect(self) -> list[pytest.Item]:
        from xlsdk.conformance import CHECK_NAMES

        return [ConformanceItem.from_parent(self, name=f"{hand}::{check}", hand=hand, check=check)
                for hand in self.hands for check in CHECK_NAMES]


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    hands = config.getoption("--xlsdk-hand")
    if not hands:
        return
    collector = ConformanceCollector.from_parent(session, name="xlsdk-conformance", hands=hands)
    items.extend(collector.collect())
