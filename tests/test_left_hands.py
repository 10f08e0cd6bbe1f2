"""A left hand shares the latent with right hands: its geometry is mirrored into a right hand's.

The left hand here is made, not written: the import corpus's 22-DOF right hand reflected through its
palm's lateral plane (every joint origin ``x -> -x``, rpy ``(r, p, y) -> (r, -p, -y)``, axis
``(x, y, z) -> (x, -y, -z)``: the same joint value then makes the mirror-image motion), scaffolded by
``new-hand --yes`` like any vendor file. At the same joint values its normalised geometry must be the
right hand's, and retargeting between the two must be (nearly) the identity on the fingertips.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from conftest import HandPlugin

import xlsdk
from xlsdk.cli import main
from xlsdk.latent.objectives import tip_error
from xlsdk.latent.refine import GeometryRefiner

HANDS = Path(__file__).parent / "data" / "hands"


def _numbers(text: str | None) -> list[float]:
    return [float(v) for v in (text or "0 0 0").split()]


def _mirrored_urdf(source: Path, out: Path) -> Path:
    tree = ET.parse(source)
    for origin in tree.iter("origin"):
        x, y, z = _numbers(origin.get("xyz"))
        r, p, yaw = _numbers(origin.get("rpy"))
        origin.set("xyz", f"{-x!r} {y!r} {z!r}")
        origin.set("rpy", f"{r!r} {-p!r} {-yaw!r}")
    for axis in tree.iter("axis"):
        x, y, z = _numbers(axis.get("xyz"))
        axis.set("xyz", f"{x!r} {-y!r} {-z!r}")
    for element in tree.iter():  # rh_ -> lh_: names say which hand it is, as vendors' files do
        for key in ("name", "link", "joint"):
            if element.get(key, "").startswith("rh_"):
                element.set(key, "lh_" + element.get(key)[3:])
    tree.write(out)
    return out


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from xlsdk.plugins import get_plugin_host, reset_plugin_host

    root = tmp_path_factory.mktemp("twins")
    left_urdf = _mirrored_urdf(HANDS / "five22.urdf", root / "mirror22_left.urdf")
    manifests = []
    for name, urdf in (("twin_right", HANDS / "five22.urdf"), ("twin_left", left_urdf)):
        assert main(["new-hand", name, "--urdf", str(urdf), "--yes", "--out", str(root / name)]) == 0
        manifests.append(next((root / name).rglob("hand.toml")))
    previous = reset_plugin_host()
    try:
        get_plugin_host().register(HandPlugin(*manifests), name="twins")
        yield xlsdk.load_hand("twin_right"), xlsdk.load_hand("twin_left")
    finally:
        reset_plugin_host(previous)


def test_the_mirror_is_scaffolded_as_a_left_hand(twins) -> None:  # noqa: ANN001
    right, left = twins
    assert right.spec.manifest.handedness == "right" and left.spec.manifest.handedness == "left"
    assert left.fingers == right.fingers and left.dof == right.dof
    assert [name[3:] for name in left.joint_names] == [name[3:] for name in right.joint_names]
    assert left.scale.mirrored and not right.scale.mirrored


def test_left_geometry_is_the_right_hands_at_the_same_joints(twins) -> None:  # noqa: ANN001
    right, left = twins
    q = right.sample(256, torch.Generator().manual_seed(1), dtype=torch.float64)
    raw_left, raw_right = left.fk(q), right.fk(q)
    # metrically the two are mirror images (thumb on the other side of the palm) ...
    assert torch.allclose(raw_left[..., 0], -raw_right[..., 0], atol=1e-6)
    assert float((raw_left - raw_right).norm(dim=-1).mean()) > 0.01
    # ... and the shared geometry, which the latent is trained on, cannot tell them apart
    assert float(tip_error(left.geometry(q), right.geometry(q)).max()) < 1e-6


def test_refinement_between_the_twins_keeps_the_pose(twins) -> None:  # noqa: ANN001
    right, left = twins
    q = right.sample(16, torch.Generator().manual_seed(2), dtype=torch.float64)
    refiner = GeometryRefiner(right, left)
    # the right hand's joints are already the left hand's answer: zero cost, and it stays put
    assert float(refiner.cost(q, refiner.goal(q)).max()) < 1e-10
    refined = refiner(refiner.goal(q), q)
    assert float(tip_error(left.geometry(refined), right.geometry(q)).max()) < 1e-6
