"""``xlsdk publish``: what it refuses before building (no head, a stale head, a mesh the package lacks, no
license) and what it proves of a wheel it builds (the hand's files, heads for every core, metadata).

The whole path (clean environment, ``xlsdk check`` from the installed wheel) needs a head that passes
check, so it runs where a real head is fitted: the vendor journey (tests/test_vendor_journey.py) publishes
the tutorial's hand.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import torch
from synthetic_hands import write_synthetic_hand

import xlsdk
from xlsdk.cli import main
from xlsdk.errors import PublishError
from xlsdk.geometry import GEOMETRY_VERSION
from xlsdk.hand import Hand
from xlsdk.hand_spec import load_hand_spec
from xlsdk.latent.head_network import HeadConfig, LatentHead
from xlsdk.latent.head_file import write_head
from xlsdk.latent.head_loading import installed_core_manifest
from xlsdk.new_hand import create_hand_plugin
from xlsdk.publish import publish_plugin


def _scaffold(tmp_path: Path, *, missing_mesh: bool = False) -> tuple[Path, Hand]:
    urdf = write_synthetic_hand(tmp_path / "vendor", name="gadget", fingers=("thumb", "index", "middle", "ring"),
                                with_manifest=False, missing_mesh=missing_mesh).urdf
    plugin = create_hand_plugin("gadget", urdf, tmp_path / "xlsdk-gadget", vendor="ACME").directory
    return plugin, Hand(load_hand_spec(plugin / "xlsdk_gadget" / "hand.toml"))


def _write_head(hand: Hand, fingerprint: str, folder: Path | None = None) -> None:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        head = LatentHead(HeadConfig(hand=hand.name, dof=hand.dof, lower=hand.spec.lower, upper=hand.spec.upper))
    folder = folder or hand.head_dir
    write_head(head, folder / "head.safetensors", folder / "head.json", hand_digest=hand.spec.digest,
               fingerprint=fingerprint, geometry_version=GEOMETRY_VERSION, origin="fit")


def test_a_hand_without_a_head_is_refused(tmp_path: Path) -> None:
    plugin, hand = _scaffold(tmp_path)
    with pytest.raises(PublishError, match=r"gadget: no head fitted .*fit it first: `xlsdk fit gadget`"):
        publish_plugin(hand, source=plugin, verify=False)
    assert not (plugin / "dist").exists(), "nothing is built before the checks pass"


def test_a_stale_head_is_refused(tmp_path: Path) -> None:
    plugin, hand = _scaffold(tmp_path)
    _write_head(hand, "e" * 64)
    with pytest.raises(PublishError, match=r"gadget: stale head, .*fitted against core latent eeeeeeeeeeee.*"
                                           r"refit it before publishing: `xlsdk fit gadget`"):
        publish_plugin(hand, source=plugin, verify=False)


def test_a_missing_license_is_refused(tmp_path: Path) -> None:
    plugin, hand = _scaffold(tmp_path)
    _write_head(hand, installed_core_manifest().fingerprint)
    pyproject = plugin / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('license = "Apache-2.0"\n', ""))
    with pytest.raises(PublishError, match=r"pyproject.toml: field `project.license` missing.*license = \"Apache-2.0\""):
        publish_plugin(hand, source=plugin, verify=False)


def test_a_mesh_the_package_lacks_is_refused_then_shipped_once_added(tmp_path: Path) -> None:
    plugin, hand = _scaffold(tmp_path, missing_mesh=True)
    core = installed_core_manifest().fingerprint
    _write_head(hand, core)
    older = "d" * 64  # a head for another core latent, carried beside the current one
    _write_head(hand, older, hand.head_dir / "heads" / older)
    with pytest.raises(PublishError, match=r"gadget.urdf: link 'palm' names mesh "
                                           r"'package://synthetic_description/meshes/palm.stl', which the package lacks"):
        publish_plugin(hand, source=plugin, verify=False)

    mesh = hand.urdf_path.parent / "synthetic_description" / "meshes" / "palm.stl"
    mesh.parent.mkdir(parents=True)
    mesh.write_text("solid palm\nendsolid palm\n")
    report = publish_plugin(hand, source=plugin, verify=False)
    assert report.sdist.parent == report.wheel.parent == plugin / "dist"
    assert (report.distribution, report.version, report.license, report.requires_xlsdk) == \
        ("xlsdk-gadget", "0.1.0", "Apache-2.0", "xlsdk>=0.1")
    assert report.fingerprint == core and report.fingerprints == sorted([core, older])
    names = set(zipfile.ZipFile(report.wheel).namelist())
    for relative in ("xlsdk_gadget/hand.toml", "xlsdk_gadget/urdf/gadget.urdf",
                     "xlsdk_gadget/urdf/synthetic_description/meshes/palm.stl", "xlsdk_gadget/head.safetensors",
                     "xlsdk_gadget/head.json", f"xlsdk_gadget/heads/{older}/head.safetensors",
                     f"xlsdk_gadget/heads/{older}/head.json"):
        assert relative in names and relative in report.wheel_files, relative
    assert report.upload_command.startswith("python -m twine upload ") and report.wheel.name in report.upload_command
    assert not list((plugin / "dist").glob(".build-*")), "the build folder is gone, only the finished files remain"


def test_publish_cli_turns_a_refusal_into_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["publish", "canonical"]) == 1
    err = capsys.readouterr().err
    assert "canonical is the core's own hand" in err and "Traceback" not in err
    assert xlsdk.load_hand("canonical").plugin == "xlsdk-core"


def test_a_vendor_hand_ships_the_meshes_its_urdf_names(tmp_path: Path) -> None:
    """A 16-DOF vendor-style model whose links name package:// STL meshes (tests/data/hands/leap16): new-hand
    copies them into the package, and the wheel carries every one the URDF names."""
    import shutil

    source = tmp_path / "leap16"
    shutil.copytree(Path(__file__).parent / "data" / "hands" / "leap16", source)
    plugin = create_hand_plugin("leap", source / "urdf" / "leap16.urdf", tmp_path / "xlsdk-leap").directory
    hand = Hand(load_hand_spec(plugin / "xlsdk_leap" / "hand.toml"))
    assert hand.dof == 16
    _write_head(hand, installed_core_manifest().fingerprint)
    report = publish_plugin(hand, source=plugin, out=tmp_path / "dist", verify=False)
    meshes = {f"xlsdk_leap/urdf/leap16/meshes/{name}.stl" for name in ("palm", "phalanx", "fingertip")}
    assert meshes <= set(report.wheel_files) and meshes <= set(zipfile.ZipFile(report.wheel).namelist())
    assert report.sdist.parent == tmp_path / "dist"
