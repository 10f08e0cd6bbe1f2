"""`xlsdk view HAND --physics`: an episode page (frames of both cameras) and the world's MJCF, reloadable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("mujoco")


@pytest.mark.slow
def test_view_physics_writes_an_episode_page_and_a_loadable_mjcf(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import mujoco

    from xlsdk.cli import main

    assert main(["view", "xhand", "--physics", "--no-serve", "--out", str(tmp_path)]) == 0
    assert "holds the bottle" in capsys.readouterr().out
    page = (tmp_path / "xhand_episode.html").read_text(encoding="utf-8")
    frames = re.findall(r'"(/9j/[A-Za-z0-9+/=]+)"', page)  # base64 JPEGs
    assert len(frames) >= 2 * 50 and len(set(frames)) > 50  # two cameras, an episode that moves (about 3 s at 25 Hz)
    model = mujoco.MjModel.from_xml_path(str(tmp_path / "xhand_world.xml"))  # the generated MJCF stands alone
    assert model.nu == 12 + 6 and {model.camera(i).name for i in range(model.ncam)} >= {"front", "wrist"}
