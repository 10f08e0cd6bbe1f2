"""The vendor journey, end to end, with no hand-editing — by executing the "Add your hand" tutorial.

Every ``bash`` block of docs/tutorials/add-your-hand.md runs, in order, in a directory holding a
URDF generated here (a four-finger hand with a vendor palm frame and mimic chains, not one of the
four reference hands): ``xlsdk new-hand`` -> ``pip install -e`` into this venv -> ``xlsdk fit`` ->
``xlsdk check`` -> ``xlsdk retarget`` inspire -> new hand -> inspire -> ``python -m build``.
Then the results are checked: the scaffold, the head, the conformance report, the round trip, the
retargeting to and from every reference hand, the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import REFERENCE_DOF
from docs_blocks import commands
from synthetic_hands import write_synthetic_hand

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorials" / "add-your-hand.md"
HAND = "my_hand"


RETARGET_EVERY_WAY = """
import json, torch, xlsdk
mine = xlsdk.load_hand("my_hand")
q = mine.sample(10, torch.Generator().manual_seed(4))
ways = {}
for name in xlsdk.hands():
    if name == "my_hand":
        continue
    other = xlsdk.load_hand(name)
    there = xlsdk.retarget(q, mine, other)
    back = xlsdk.retarget(there, other, mine)
    ways[name] = [list(there.shape), list(back.shape), bool(torch.isfinite(there).all() and torch.isfinite(back).all())]
    assert there.shape[1] == other.dof
print(json.dumps(ways))
"""


def tutorial_commands(path: Path = TUTORIAL) -> list[str]:
    """Every line of every executable ```bash block, in order."""
    return commands(path)


def test_the_tutorial_has_the_whole_journey() -> None:
    commands = " ; ".join(tutorial_commands())
    for step in ("xlsdk new-hand my_hand --urdf my_hand.urdf", "pip install -e", "xlsdk fit my_hand",
                 "xlsdk check my_hand", "xlsdk retarget --from inspire --to my_hand",
                 "xlsdk retarget --from my_hand --to inspire", "python -m build"):
        assert step in commands, step


@pytest.mark.slow
def test_vendor_journey_from_the_tutorial(tmp_path: Path) -> None:
    write_synthetic_hand(tmp_path, name=HAND, fingers=("thumb", "index", "middle", "ring"), with_manifest=False,
                         missing_mesh=True, scale=1.1)
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONUNBUFFERED": "1"}
    outputs: dict[str, subprocess.CompletedProcess[str]] = {}
    try:
        for command in tutorial_commands():
            result = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                                    timeout=900)
            assert result.returncode == 0, f"`{command}` failed:\n{result.stdout}\n{result.stderr}"
            outputs[command.split()[1] if command.startswith("xlsdk") else command.split()[0]] = result
        plugin = tmp_path / "xlsdk-my-hand"
        package = plugin / "xlsdk_my_hand"

        # scaffold: the proposals became a manifest with a palm-frame conversion and four fingers
        manifest = (package / "hand.toml").read_text()
        assert "[palm_frame]" in manifest
        assert all(f"[fingers.{f}]" in manifest for f in ("thumb", "index", "middle", "ring"))
        assert "does not resolve" in outputs["new-hand"].stderr, "the unresolved mesh was a warning"
        for relative in (".copier-answers.yml", "tests/test_conformance.py", "docs/my_hand.md", "README.md",
                         "xlsdk_my_hand/driver.py"):
            assert (plugin / relative).is_file(), relative
        assert "my_hand" in outputs["hands"].stdout

        # fit: on CPU at default settings (its time budget is measured in benchmarks/budgets.py)
        head = json.loads((package / "head.json").read_text())
        assert head["origin"] == "fit" and head["metrics"]["steps"] > 0
        assert head["metrics"]["recon_rad"] < 0.03

        # check passed (exit code 0) and said so
        assert "my_hand conforms" in outputs["check"].stdout

        # retarget there and back
        start = np.load(tmp_path / "inspire_grasp.npy")
        there = np.load(tmp_path / "my_hand_grasp.npy")
        back = np.load(tmp_path / "back_on_inspire.npy")
        assert there.shape == (25, 13) and back.shape == start.shape
        assert np.abs(back - start).mean() < 0.35, "inspire -> my_hand -> inspire stays close to where it started"

        # the fitted hand retargets to and from every installed hand (in a fresh process that sees the plugin)
        result = subprocess.run([sys.executable, "-c", RETARGET_EVERY_WAY], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        ways = json.loads(result.stdout)
        assert set(REFERENCE_DOF) <= set(ways)
        for other, dof in REFERENCE_DOF.items():
            assert ways[other] == [[10, dof], [10, 13], True], (other, ways[other])

        # the wheel carries URDF, manifest and head
        wheel = next((plugin / "dist").glob("*.whl"))
        names = set(zipfile.ZipFile(wheel).namelist())
        for relative in ("xlsdk_my_hand/hand.toml", "xlsdk_my_hand/urdf/my_hand.urdf",
                         "xlsdk_my_hand/head.safetensors", "xlsdk_my_hand/head.json"):
            assert relative in names, f"{relative} missing from {wheel.name}"
    finally:
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "xlsdk-my-hand"],
                       capture_output=True, timeout=300)
