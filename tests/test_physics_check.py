"""`xlsdk check HAND --physics`: a fitted hand holds the standard objects; a hand with no grip fails."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("mujoco")


def _weak_copy(directory: Path, name: str = "weakinspire") -> Path:
    """The Inspire hand with its head, renamed, every joint's effort set to 0 (servos that cannot push)."""
    import xlsdk

    source = xlsdk.load_hand("inspire").spec
    package = source.manifest_path.parent
    directory.mkdir(parents=True)
    manifest = source.manifest_path.read_text(encoding="utf-8")
    renamed = re.sub(r'(?m)^name = "inspire"', f'name = "{name}"', manifest)
    (directory / "hand.toml").write_text(renamed, encoding="utf-8")
    urdf = directory / source.manifest.urdf
    urdf.parent.mkdir(parents=True, exist_ok=True)
    urdf.write_text(re.sub(r'effort="[0-9.]+"', 'effort="0"', source.urdf.text), encoding="utf-8")
    head = json.loads((package / "head.json").read_text(encoding="utf-8"))
    head["hand"] = head["config"]["hand"] = name  # effort is not kinematics: the fitted head stays valid
    (directory / "head.json").write_text(json.dumps(head), encoding="utf-8")
    shutil.copy(package / "head.safetensors", directory / "head.safetensors")
    return directory / "hand.toml"


@pytest.mark.slow
def test_inspire_holds_the_standard_objects_and_a_gripless_hand_fails(tmp_path: Path, fresh_host, hand_plugin) -> None:
    from xlsdk.conformance import _check_physics

    result = _check_physics("inspire", tmp_path)
    assert result.passed, result.message
    assert "holds 3 of 3" in result.message or "holds 2 of 3" in result.message
    strip = tmp_path / "inspire_physics.png"
    assert strip.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and strip.stat().st_size > 20_000

    fresh_host.register(hand_plugin(_weak_copy(tmp_path / "weak")), name="weak-plugin")
    weak = _check_physics("weakinspire", tmp_path)
    assert not weak.passed and "holds 0 of 3" in weak.message, weak.message
    assert "effort" in weak.fix
