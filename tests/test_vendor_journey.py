"""The vendor journey, end to end, with no hand-editing — by executing the "Add your hand" and "Publish
your hand" tutorials.

Every ``bash`` block of docs/tutorials/add-your-hand.md runs, in order, in a directory holding a
URDF generated here (a four-finger hand with a vendor palm frame and mimic chains, not one of the
four reference hands): ``xlsdk new-hand`` -> ``pip install -e`` (into a venv of the test's own, layered over
the suite's: :func:`layered_venv`) -> ``xlsdk fit`` ->
``xlsdk check`` -> ``xlsdk retarget`` inspire -> new hand -> inspire; then those of
docs/tutorials/publish-your-hand.md: the mesh new-hand could not find is put into the package and
``xlsdk publish`` builds the sdist and wheel, installs the wheel into a clean environment and runs
``xlsdk check`` there. Then the results are checked: the scaffold, the head, the conformance report,
the round trip, the retargeting to and from every reference hand, the wheel and its clean install.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import REFERENCE_DOF
from docs_blocks import commands
from synthetic_hands import write_synthetic_hand

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorials" / "add-your-hand.md"
PUBLISH_TUTORIAL = TUTORIAL.with_name("publish-your-hand.md")
# the mesh the generated URDF names and new-hand cannot find, as the vendor's CAD export holds it (a tetrahedron)
PALM_STL = """solid palm
facet normal 0 0 -1
 outer loop
  vertex 0 0 0
  vertex 0.01 0 0
  vertex 0 0.01 0
 endloop
endfacet
facet normal 0 -1 0
 outer loop
  vertex 0 0 0
  vertex 0 0 0.01
  vertex 0.01 0 0
 endloop
endfacet
facet normal -1 0 0
 outer loop
  vertex 0 0 0
  vertex 0 0.01 0
  vertex 0 0 0.01
 endloop
endfacet
facet normal 0.577 0.577 0.577
 outer loop
  vertex 0.01 0 0
  vertex 0 0 0.01
  vertex 0 0.01 0
 endloop
endfacet
endsolid palm
"""
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


def layered_venv(where: Path) -> Path:
    """A virtual environment at ``where`` whose interpreter also sees every package of the suite's (xlsdk and
    the plugins, editable), with an ``xlsdk`` command of its own; returns its ``bin`` folder.

    What the journey installs (``pip install -e``) goes into it and never into the suite's environment, so
    tests running beside it (``make test`` runs the suite on every core, pytest-xdist) never see ``my_hand``
    among the installed hands, and an interrupted run leaves nothing installed behind it.
    """
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, capture_output=True, timeout=300)
    bin_dir = where / "bin"
    layer = Path(sysconfig.get_path("purelib", vars={"base": str(where), "platbase": str(where)}))
    suite = sysconfig.get_path("purelib")
    # a .pth line that imports runs at start-up: the suite's site-packages, its own .pth files (the editable
    # installs) processed too, after the layer's own
    (layer / "_xlsdk_suite.pth").write_text(f"import site; site.addsitedir({suite!r})\n")
    (bin_dir / "xlsdk").write_text(f"#!{bin_dir / 'python'}\nimport sys\nfrom xlsdk.cli import main\n"
                                   "sys.exit(main())\n")
    (bin_dir / "xlsdk").chmod(0o755)
    return bin_dir


def tutorial_commands(path: Path = TUTORIAL) -> list[str]:
    """Every line of every executable ```bash block, in order."""
    return commands(path)


def executed_pages() -> dict[str, list[str]]:
    """The pages this journey executes (relative to docs/), each with the commands it runs, in order."""
    docs = TUTORIAL.parents[1]
    return {page.relative_to(docs).as_posix(): tutorial_commands(page) for page in (TUTORIAL, PUBLISH_TUTORIAL)}


def test_the_tutorial_has_the_whole_journey() -> None:
    commands = " ; ".join(c for page in executed_pages().values() for c in page)
    for step in ("xlsdk new-hand my_hand --urdf my_hand.urdf", "pip install -e", "xlsdk fit my_hand",
                 "xlsdk check my_hand", "xlsdk retarget --from inspire --to my_hand",
                 "xlsdk retarget --from my_hand --to inspire", "cad_export/palm.stl", "xlsdk publish my_hand"):
        assert step in commands, step
    assert "twine upload" not in commands, "the upload is the vendor's step, never run by the tests"


@pytest.mark.slow
def test_vendor_journey_from_the_tutorial(tmp_path: Path) -> None:
    write_synthetic_hand(tmp_path, name=HAND, fingers=("thumb", "index", "middle", "ring"), with_manifest=False,
                         missing_mesh=True, scale=1.1)
    bin_dir = layered_venv(tmp_path / "vendor-venv")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONUNBUFFERED": "1",
           "VIRTUAL_ENV": str(bin_dir.parent)}
    (tmp_path / "cad_export").mkdir()
    (tmp_path / "cad_export" / "palm.stl").write_text(PALM_STL)  # not where the URDF looks: new-hand warns
    outputs: dict[str, subprocess.CompletedProcess[str]] = {}
    for command in [c for page in executed_pages().values() for c in page]:
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
    result = subprocess.run([str(bin_dir / "python"), "-c", RETARGET_EVERY_WAY], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    ways = json.loads(result.stdout)
    assert set(REFERENCE_DOF) <= set(ways)
    for other, dof in REFERENCE_DOF.items():
        assert ways[other] == [[10, dof], [10, 13], True], (other, ways[other])

    # published: sdist and wheel; the wheel carries URDF, mesh, manifest and head, installed into a clean
    # environment (the hand loaded from inside it) and `xlsdk check` passed there
    wheel = next((plugin / "dist").glob("*.whl"))
    assert (plugin / "dist" / "xlsdk_my_hand-0.1.0.tar.gz").is_file()
    names = set(zipfile.ZipFile(wheel).namelist())
    for relative in ("xlsdk_my_hand/hand.toml", "xlsdk_my_hand/urdf/my_hand.urdf",
                     "xlsdk_my_hand/urdf/synthetic_description/meshes/palm.stl",
                     "xlsdk_my_hand/head.safetensors", "xlsdk_my_hand/head.json"):
        assert relative in names, f"{relative} missing from {wheel.name}"
    published = " ".join(outputs["publish"].stdout.split())
    assert "`xlsdk check my_hand` passes from the installed wheel" in published
    assert "/venv/lib/python3.12/site-packages/xlsdk_my_hand/hand.toml" in published
    assert f"python -m twine upload {plugin / 'dist' / 'xlsdk_my_hand-0.1.0.tar.gz'}" in published or \
        "python -m twine upload xlsdk-my-hand/dist/xlsdk_my_hand-0.1.0.tar.gz" in published

    # the suite's own environment never had the plugin: only the layered one did
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("xlsdk-my-hand")
