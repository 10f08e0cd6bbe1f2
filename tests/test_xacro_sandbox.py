"""The xacro sandbox keeps the expressions vendor xacros use and gives what Python gives for them.

The hostile side (code execution, files and environment leaking, unbounded evaluation) is in
tests/test_bad_input.py, through ``xlsdk new-hand``; here the same expansion is held to the answers of
plain Python arithmetic, and xacro is shown to be left as it was found.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from xlsdk.errors import UrdfError
from xlsdk.xacro_sandbox import expand_xacro

# expressions of the kinds published hand xacros use, each with the value Python gives
EXPRESSIONS = {
    "-15 * pi / 180": -15 * math.pi / 180,
    "radians(30) + math.radians(15)": math.radians(45),
    "atan2(1, 2) - sqrt(2) ** 2": math.atan2(1, 2) - 2.0,
    "length / 2 if reflect == -1 else -length / 2": 0.0225,
    "2 ** 10 // 3 % 7": 2**10 // 3 % 7,
    "max(length, 0.05) * abs(reflect)": 0.05,
    "prefix + '_link'": "left_link",
    "prefix == 'left' and not reflect > 0": True,
    "int(3.9) + round(2.567, 2) + float('1.5')": 3 + 2.57 + 1.5,
    "0.1 < length <= 0.045": False,
    "'ef' in prefix": True,
    "math.cos(pi) + e - tau / 2": math.cos(math.pi) + math.e - math.tau / 2,
}


def _expand(tmp_path: Path, body: str) -> str:
    path = tmp_path / "hand.urdf.xacro"
    path.write_text('<robot name="r" xmlns:xacro="http://www.ros.org/wiki/xacro">'
                    '<xacro:property name="length" value="0.045"/><xacro:property name="reflect" value="-1"/>'
                    f'<xacro:property name="prefix" value="left"/>{body}</robot>')
    return expand_xacro(path)[0]


@pytest.mark.parametrize("expression", sorted(EXPRESSIONS))
def test_expressions_give_what_python_gives(expression: str, tmp_path: Path) -> None:
    text = _expand(tmp_path, f'<link name="${{{expression.replace("<", "&lt;")}}}"/>')
    value = text.split('<link name="', 1)[1].split('"', 1)[0]
    expected = EXPRESSIONS[expression]
    if isinstance(expected, float):
        assert float(value) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    else:
        assert value == str(expected)


def test_a_refused_expansion_leaves_xacro_as_it_was(tmp_path: Path) -> None:
    """The sandbox replaces xacro's evaluation only for one expansion; its own functions come back after."""
    import xacro

    before = {name: getattr(xacro, name) for name in ("safe_eval", "eval_extension", "get_include_files", "parse",
                                                       "eval_all")}
    with pytest.raises(UrdfError, match=r"\$\{python.sum\(python.range\(10\*\*13\)\)\}"):
        _expand(tmp_path, '<link name="${python.sum(python.range(10**13))}"/>')
    assert {name: getattr(xacro, name) for name in before} == before
    assert "0.09" in _expand(tmp_path, '<link name="${length * 2}"/>')  # and the next expansion works
