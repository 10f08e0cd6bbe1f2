"""`xlsdk demo` (what `make demo` runs): every installed hand replays the grasp; PNG and HTML are written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import INSTALLED_DOF

from xlsdk.cli import main


def test_demo_replays_the_grasp_on_every_hand(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["demo", "--out", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {row["hand"]: row for row in report["rows"]}
    assert set(rows) == set(INSTALLED_DOF) and report["rows"][0]["hand"] == report["source"] == "inspire"
    for row in rows.values():
        assert row["within_limits"] and row["clamped_commands"] == 0
        assert row["geometry_error"] < 0.25, row
        assert row["tracking_error_rad"] < 0.1
    png = tmp_path / "fingertip_paths.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    page = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in page and all(name in page for name in INSTALLED_DOF)
    # in physics: every hand grasped the bottle in MuJoCo; the source hand's own grasp holds it
    grasps = {row["hand"]: row for row in report["physics"]}
    assert set(grasps) == set(INSTALLED_DOF) and grasps["inspire"]["held"] and grasps["inspire"]["lifted_mm"] > 50
    for name in ("physics_grasps.png", "physics_held.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "The power grasp in physics" in page
