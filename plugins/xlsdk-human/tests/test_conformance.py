"""Conformance of the human hand plugin: the same checks as `xlsdk check human`."""

from __future__ import annotations

import pytest

from xlsdk.conformance import CHECK_NAMES, run_check


@pytest.mark.parametrize("check", CHECK_NAMES)
def test_conformance(check: str) -> None:
    result = run_check("human", check)
    assert result.passed, result.explain()
