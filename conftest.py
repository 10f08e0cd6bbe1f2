"""Repository-wide pytest hooks: soak-test counters are printed in the test run's summary.

Fault-injection and soak tests call ``soak_counts.record(name, {...})``; whatever they record appears
at the end of every run (``make test``), whether or not output capture is on.
"""

from __future__ import annotations

from typing import Any

import pytest

_RECORDS: list[tuple[str, dict[str, Any]]] = []


class SoakCounts:
    def record(self, name: str, counts: dict[str, Any]) -> None:
        _RECORDS.append((name, counts))


@pytest.fixture
def soak_counts() -> SoakCounts:
    return SoakCounts()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _RECORDS:
        return
    terminalreporter.section("driver soak and fault-injection counts")
    for name, counts in _RECORDS:
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
