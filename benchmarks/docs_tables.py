"""Writing a benchmark's measured table into its docs page, between a pair of HTML-comment markers.

Every benchmark page under docs/benchmarks/ keeps its generated part between
``<!-- NAME:start -->`` and ``<!-- NAME:end -->``; the prose around it is written by hand and never
touched. The page is rewritten atomically, so an interrupted run leaves it as it was.
"""

from __future__ import annotations

from pathlib import Path

from xlsdk.files import write_text_atomic


def replace_marked_block(page: Path, marker: str, body: str) -> None:
    """Put ``body`` between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` in ``page``."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = page.read_text(encoding="utf-8")
    if start not in text or end not in text or text.index(end) < text.index(start):
        raise SystemExit(f"{page}: markers {start} ... {end} not found (in that order); add them where the table goes")
    before, after = text[: text.index(start)], text[text.index(end) + len(end):]
    write_text_atomic(page, f"{before}{start}\n{body.strip()}\n{end}{after}")
