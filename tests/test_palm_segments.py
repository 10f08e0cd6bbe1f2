"""A palm of two links on a revolute cupping joint keeps all its fingers (issue 22 item 17).

tests/data/hands/cupped_palm.urdf (build_corpus.py): thumb, index and middle on ``palm``; ring and little on
``palm_outer``, which the actuated ``palm_cup`` joint turns; one spread joint on the palm driving three spread
joints through <mimic>. Every chain from the palm to a tip link is a finger, so `new-hand` proposes five
fingers (not four with the little finger's joints "moving no fingertip"), and the hand gets a MuJoCo world
whose fingertips are where FK puts them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from xlsdk.cli import main
from xlsdk.hand import Hand
from xlsdk.hand_spec import load_hand_spec
from xlsdk.urdf import load_urdf
from xlsdk.manifest_proposal import propose_manifest

HANDS = Path(__file__).parent / "data" / "hands"


def test_both_fingers_on_the_cupping_segment_are_fingers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from xlsdk.physics.world import World

    assert main(["new-hand", "cupped", "--urdf", str(HANDS / "cupped_palm.urdf"), "--yes",
                 "--out", str(tmp_path / "plugin")]) == 0
    printed = capsys.readouterr().out
    assert "move no fingertip" not in printed
    manifest = tmp_path / "plugin" / "xlsdk_cupped" / "hand.toml"
    written = tomllib.loads(manifest.read_text(encoding="utf-8"))
    assert {f: t["link"] for f, t in written["fingers"].items()} == {
        "thumb": "thumb_tip", "index": "index_tip", "middle": "middle_tip", "ring": "ring_tip", "little": "little_tip"}
    assert {"palm_cup", "finger_spread", "little_mcp", "little_pip"} <= set(written["joints"])

    hand = Hand(load_hand_spec(manifest))
    q = hand.sample(64, torch.Generator().manual_seed(0), dtype=torch.float64)
    cup = hand.joint_names.index("palm_cup")
    cupped = q.clone()
    cupped[:, cup] = hand.spec.upper[cup]
    flat = q.clone()
    flat[:, cup] = hand.spec.lower[cup]
    moved = (hand.fk(cupped) - hand.fk(flat)).norm(dim=-1).mean(dim=0)
    fingers = list(hand.fingers)
    assert float(moved[fingers.index("ring")]) > 0.005 and float(moved[fingers.index("little")]) > 0.005
    assert float(moved[fingers.index("index")]) < 1e-9, "the cupping joint moves only the outer palm's fingers"
    # each finger's knuckle is its own first joint, not the palm segment they share: the hand's knuckle centre is
    # the mean of index_base, middle_proximal, ring_base and little_base (with palm_outer twice it would not be)
    lower = torch.tensor([hand.spec.lower], dtype=torch.float64)
    knuckles = hand.kinematics.link_poses(lower, ["index_base", "middle_proximal", "ring_base", "little_base"])
    np.testing.assert_allclose(hand.scale.knuckle_center, knuckles[0, :, :3, 3].mean(dim=0).numpy(), atol=1e-9)
    assert float((knuckles[0, 2, :3, 3] - knuckles[0, 3, :3, 3]).norm()) > 0.015

    world = World(hand)
    for pose in hand.sample(3, torch.Generator().manual_seed(1), dtype=torch.float64).numpy():
        world.reset(q=pose)
        np.testing.assert_allclose(world.fingertips("palm"), np.asarray(hand.fk(pose)), atol=1e-4)
    world.set_hand_target(hand.mid_pose())
    world.step(0.3)
    assert np.all(np.isfinite(world.hand_positions()))


def test_a_short_side_branch_is_no_finger_of_its_own(tmp_path: Path) -> None:
    """A linkage bar on the index finger (a movable sub-branch reaching under half as far as the finger beside
    it) stays part of its finger: the hand keeps its five fingers, and no sixth chain is made of it."""
    text = (HANDS / "cupped_palm.urdf").read_text(encoding="utf-8")
    bar = ('<link name="index_bar"/><joint name="index_bar_joint" type="revolute"><parent link="index_proximal"/>'
           '<child link="index_bar"/><origin xyz="0 0.005 0.012"/><axis xyz="1 0 0"/>'
           '<limit lower="0" upper="1" effort="1" velocity="1"/><mimic joint="index_mcp"/></joint></robot>')
    path = tmp_path / "bar.urdf"
    path.write_text(text.replace("</robot>", bar), encoding="utf-8")
    proposal = propose_manifest(load_urdf(path))
    assert {c.finger: c.tip_link for c in proposal.chains} == {
        "thumb": "thumb_tip", "index": "index_tip", "middle": "middle_tip", "ring": "ring_tip", "little": "little_tip"}
