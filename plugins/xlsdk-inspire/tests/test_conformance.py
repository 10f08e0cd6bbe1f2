"""Conformance of the Inspire RH56DFX (right hand) plugin: the same checks as `xlsdk check inspire`."""

from __future__ import annotations

import pytest

from xlsdk.conformance import CHECK_NAMES, run_check


@pytest.mark.parametrize("check", CHECK_NAMES)
def test_conformance(check: str) -> None:
    result = run_check("inspire", check)
    assert result.passed, result.explain()
