"""The refinement's compact evaluator is the same chain as pytorch-kinematics, Jacobian included.

Checked on every installed hand (the canonical one too) and on import-corpus hands whose chains are
what a vendor URDF looks like: mimic couplings (inspire_mimic), a palm spread joint driving fingers
through mimic (svh_palm_mimic), a 2-joint wrist above the palm that new-hand skips (five22) and a
7-joint arm under the hand (arm_ability).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import xlsdk
from xlsdk.cli import main
from xlsdk.errors import ShapeError
from xlsdk.hand import Hand
from xlsdk.hand_spec import load_hand_spec
from xlsdk.tip_kinematics import TipKinematics

HANDS = Path(__file__).parent / "data" / "hands"
CORPUS = ("inspire_mimic", "svh_palm_mimic", "five22", "arm_ability")


def _corpus_hand(name: str, root: Path, urdf: Path | None = None) -> Hand:
    out = root / name
    urdf = urdf or HANDS / f"{name}.urdf"
    assert main(["new-hand", f"tk_{name}", "--urdf", str(urdf), "--yes", "--out", str(out)]) == 0
    return Hand(load_hand_spec(next(out.rglob("hand.toml"))))


@pytest.fixture(scope="module")
def hands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Hand]:
    root = tmp_path_factory.mktemp("tip_kinematics")
    loaded = {name: xlsdk.load_hand(name) for name in xlsdk.hands(include_core=True)}
    return loaded | {name: _corpus_hand(name, root) for name in CORPUS}


def _poses(hand: Hand, n: int, seed: int) -> np.ndarray:
    return hand.sample(n, torch.Generator().manual_seed(seed), dtype=torch.float64).numpy()


@pytest.mark.slow  # scaffolds four corpus hands (~10 s, once for the module)
def test_tips_match_pytorch_kinematics_on_every_hand(hands: dict[str, Hand]) -> None:
    assert len(hands) >= 5 + len(CORPUS)  # the four reference hands, the canonical hand, the corpus hands
    for name, hand in hands.items():
        limits = np.stack([hand.lower(torch.float64).numpy(), hand.upper(torch.float64).numpy()])
        q = np.concatenate([_poses(hand, 64, 3), limits])
        tips, _ = TipKinematics(hand).evaluate(q, jacobian=False)
        reference = hand.fk(torch.from_numpy(q)).numpy()
        # pytorch-kinematics reads the URDF's origins in float32 before its float64 chain: ~1e-8 m apart
        np.testing.assert_allclose(tips, reference, rtol=0, atol=1e-7, err_msg=name)


@pytest.mark.slow
def test_jacobian_matches_finite_differences_of_pytorch_kinematics(hands: dict[str, Hand]) -> None:
    step = 1e-6
    for name, hand in hands.items():
        q = _poses(hand, 8, 4)
        _, jacobian = TipKinematics(hand).evaluate(q)
        assert jacobian is not None and jacobian.shape == (8, len(hand.fingers), 3, hand.dof)
        probes = np.eye(hand.dof) * step
        plus = hand.fk(torch.from_numpy((q[:, None] + probes).reshape(-1, hand.dof))).numpy()
        minus = hand.fk(torch.from_numpy((q[:, None] - probes).reshape(-1, hand.dof))).numpy()
        numeric = ((plus - minus) / (2 * step)).reshape(8, hand.dof, -1, 3).transpose(0, 2, 3, 1)
        np.testing.assert_allclose(jacobian, numeric, rtol=0, atol=1e-6, err_msg=name)
        assert np.abs(jacobian).max() > 1e-3, f"{name}: the tips move with the joints"


@pytest.mark.slow
def test_mimic_followers_move_with_their_source(hands: dict[str, Hand]) -> None:
    hand = hands["inspire_mimic"]
    assert hand.spec.mimic, "the corpus hand has mimic couplings"
    kinematics = TipKinematics(hand)
    # every joint drives some tip; a follower adds to its source's column (not a column of its own)
    _, jacobian = kinematics.evaluate(_poses(hand, 4, 5))
    assert (np.abs(jacobian).max(axis=(0, 1, 2)) > 1e-4).all()
    assert kinematics.joints_kept > hand.dof, "mimic followers are joints of the compressed chain"


def test_a_subset_of_fingers_and_bad_shapes() -> None:
    hand = xlsdk.load_hand("paxini")
    fingers = ("thumb", "index")
    q = _poses(hand, 3, 6)
    tips, _ = TipKinematics(hand, fingers).evaluate(q, jacobian=False)
    columns = [hand.fingers.index(f) for f in fingers]
    np.testing.assert_allclose(tips, hand.fk(torch.from_numpy(q)).numpy()[:, columns], rtol=0, atol=1e-7)
    with pytest.raises(ShapeError, match="paxini has no finger.*little"):
        TipKinematics(hand, ("thumb", "little"))
    with pytest.raises(ShapeError, match=r"\(B, 13\)"):
        TipKinematics(hand).evaluate(q[:, :5])


def test_named_links_match_pytorch_kinematics_link_poses() -> None:
    """``links=``: any links below the palm (the human hand's landmarks, a corpus hand's knuckles), with Jacobian."""
    hand = xlsdk.load_hand("xhand")
    links = [tip.link for tip in hand.spec.manifest.fingers.values()]
    chosen = [hand.spec.urdf.parent_joint(link).parent for link in links] + [links[0]]  # the distal links too
    q = _poses(hand, 5, seed=3)
    evaluator = TipKinematics(hand, links=chosen)
    points, jacobian = evaluator.evaluate(q)
    poses = hand.kinematics.link_poses(torch.as_tensor(q), chosen).numpy()
    np.testing.assert_allclose(points, poses[:, :, :3, 3], rtol=0, atol=1e-7)
    step = 1e-6
    moved = np.stack([evaluator.evaluate(q + step * np.eye(hand.dof)[j], jacobian=False)[0]
                      for j in range(hand.dof)], axis=-1)
    np.testing.assert_allclose(jacobian, (moved - points[..., None]) / step, atol=1e-5)
    with pytest.raises(ShapeError, match="no link"):
        TipKinematics(hand, links=["not_a_link"])


@pytest.mark.slow  # scaffolds a hand (~3 s)
def test_a_prismatic_joint_and_a_link_fixed_to_a_turned_palm(tmp_path: Path) -> None:
    """Paths no reference hand takes: a slide (prismatic, mimicking the gripper's joint, tilted axis), and a
    link fixed to the palm link, whose palm frame turns it (read once, not twice), Jacobian included."""
    urdf = (HANDS / "jaw2.urdf").read_text()
    revolute = ('<joint name="right_outer_knuckle_joint" type="revolute"><parent link="base_link"/>'
                '<child link="right_outer_knuckle"/><origin xyz="-0.03 0 0.06"/><axis xyz="0 -1 0"/>'
                '<limit lower="0" upper="0.8" effort="10" velocity="2"/><mimic joint="finger_joint" multiplier="1"/>')
    slide = ('<joint name="right_outer_knuckle_joint" type="prismatic"><parent link="base_link"/>'
             '<child link="right_outer_knuckle"/><origin xyz="-0.03 0 0.06" rpy="0.1 0.2 0.3"/><axis xyz="0.6 0 0.8"/>'
             '<limit lower="-0.02" upper="0" effort="10" velocity="2"/>'
             '<mimic joint="finger_joint" multiplier="-0.025"/>')
    marker = ('<link name="marker"/><joint name="marker_fixed" type="fixed"><parent link="base_link"/>'
              '<child link="marker"/><origin xyz="0.01 0.02 0.03"/></joint></robot>')
    assert revolute in urdf
    (tmp_path / "slide.urdf").write_text(urdf.replace(revolute, slide).replace("</robot>", marker))
    hand = _corpus_hand("slide", tmp_path, tmp_path / "slide.urdf")
    assert hand.spec.manifest.palm_frame.rpy != (0.0, 0.0, 0.0), "the palm frame turns the palm link"
    links = ["marker"] + [tip.link for tip in hand.spec.manifest.fingers.values()]
    evaluator = TipKinematics(hand, links=links)
    limits = np.stack([hand.lower(torch.float64).numpy(), hand.upper(torch.float64).numpy()])
    q = np.concatenate([_poses(hand, 6, 8), limits])
    points, jacobian = evaluator.evaluate(q)
    poses = hand.kinematics.link_poses(torch.as_tensor(q), links).numpy()
    np.testing.assert_allclose(points, poses[:, :, :3, 3], rtol=0, atol=1e-7)
    step = 1e-6
    probes = [evaluator.evaluate(q + sign * step * np.eye(hand.dof)[j], jacobian=False)[0]
              for j in range(hand.dof) for sign in (1.0, -1.0)]
    numeric = np.stack([(plus - minus) / (2 * step) for plus, minus in zip(probes[::2], probes[1::2], strict=True)], -1)
    np.testing.assert_allclose(jacobian, numeric, rtol=0, atol=1e-6)
    assert np.abs(jacobian[:, 0]).max() == 0.0 and np.abs(jacobian[:, 1:]).max() > 1e-3, "the marker stays put"
    alone, alone_jacobian = TipKinematics(hand, links=["marker"]).evaluate(q)  # a chain of no joints
    np.testing.assert_allclose(alone, points[:, :1], rtol=0, atol=1e-15)
    assert alone_jacobian is not None and not alone_jacobian.any()
