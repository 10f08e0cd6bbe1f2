"""Repository-wide pytest hooks: soak-test counters are printed in the test run's summary, and the
command line's answer cache lives in the run's temporary folder.

Fault-injection and soak tests call ``soak_counts.record(name, {...})``; whatever they record appears
at the end of every run (``make test``), whether or not output capture is on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture(autouse=True, scope="session")
def _answer_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``xlsdk hands``/``info`` store their answers (xlsdk/cli/answer_cache.py) in the run's temporary folder,
    never the user's cache: set in os.environ, so the CLI subprocesses tests start inherit it too."""
    previous = os.environ.get("XLSDK_CACHE_DIR")
    os.environ["XLSDK_CACHE_DIR"] = str(tmp_path_factory.mktemp("answer-cache"))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("XLSDK_CACHE_DIR", None)
        else:
            os.environ["XLSDK_CACHE_DIR"] = previous
