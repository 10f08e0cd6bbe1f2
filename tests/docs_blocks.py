"""Command blocks of the documentation pages, for the tests that execute them.

A fenced ``bash`` or ``python`` block is executed by the tests; a block preceded by the line
``<!-- illustrative -->`` (or fenced as ``text``) is shown to readers only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
_FENCE = re.compile(r"(<!-- illustrative -->\s*\n)?```(bash|python)\n(.*?)```", re.S)


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    illustrative: bool


def command_blocks(page: Path) -> list[Block]:
    return [Block(language=m.group(2), text=m.group(3), illustrative=bool(m.group(1)))
            for m in _FENCE.finditer(page.read_text(encoding="utf-8"))]


def commands(page: Path) -> list[str]:
    """Every line of every executable bash block, in order."""
    return [line for block in command_blocks(page) if block.language == "bash" and not block.illustrative
            for line in block.text.strip().splitlines() if line.strip()]
