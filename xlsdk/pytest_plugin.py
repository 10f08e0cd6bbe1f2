"""pytest plugin (entry point ``pytest11: xlsdk``): ``pytest --xlsdk-hand NAME`` runs the conformance checks.

Registered for every environment that has xlsdk installed; it adds one option and does nothing unless
the option is given.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xlsdk")
    group.addoption("--xlsdk-hand", action="append", default=[], metavar="NAME",
                    help="run the xlsdk conformance checks for this installed hand (repeatable)")
