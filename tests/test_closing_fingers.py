"""Which finger a touching link stops: the grasp machine's close, shared by the expert and ``check --physics``.

:class:`~xlsdk.physics.grasp.ClosingFingers` advances each finger until one of its links touches the object.
Which finger a link is comes from :func:`~xlsdk.physics.grasp.finger_joints`, and the rule it must keep is a
kinematic one: a link is finger F's exactly when F's own joints move it. Vendor URDFs break a naive reading of
the palm-to-tip chains two ways, both on every reference hand: the palm body hangs off the palm link on a
fixed joint (``hand_base``), so it lies on every finger's chain; and the tip pads hang past the manifest's tip
link, so they lie on none. Before the rule, the palm touching a ball stopped the thumb (the first finger
listed) and the fingertips touching stopped nothing; the thumb then swung shut in one step at the squeeze
and flung ability's largest balls off the table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import HandPlugin

import xlsdk
from xlsdk.physics.grasp import ClosingFingers, finger_joints

HANDS = Path(__file__).parent / "data" / "hands"
#: corpus hands whose chains differ from the reference hands': a thumb on a palm segment, a split palm, a
#: palm joint mimicked across fingers, a left hand
CORPUS = ("dex3_thumb_palm", "split_palm", "svh_palm_mimic", "thumb_palm5_left")


def _links_each_finger_moves(hand: xlsdk.Hand) -> dict[str, set[str]]:
    """finger -> the links under the palm whose pose (in the palm frame) changes when that finger's own joints
    move 0.1 rad from the middle of their range, computed by forward kinematics alone."""
    urdf, palm = hand.spec.urdf, hand.spec.manifest.palm_link
    links = [link for link in urdf.links_below(palm) if link != palm]
    owned, _ = finger_joints(hand)
    middle = torch.tensor((np.asarray(hand.spec.lower) + np.asarray(hand.spec.upper)) / 2, dtype=torch.float64)
    rest = hand.kinematics.link_poses(middle[None], links)[0]
    moved: dict[str, set[str]] = {}
    for finger, joints in owned.items():
        q = middle.clone()
        q[joints] += 0.1 * torch.sign(torch.tensor(np.asarray(hand.spec.upper)[joints]) - q[joints])
        poses = hand.kinematics.link_poses(q[None], links)[0]
        change = (poses - rest).abs().flatten(1).amax(dim=1)
        moved[finger] = {link for link, delta in zip(links, change.tolist(), strict=True) if delta > 1e-9}
    return moved


def _assert_links_are_the_fingers_that_move_them(hand: xlsdk.Hand) -> None:
    _, finger_of = finger_joints(hand)
    moved = _links_each_finger_moves(hand)
    expected = {link: finger for finger, links in moved.items() for link in links}
    assert finger_of == expected, (
        f"{hand.name}: links filed under a finger that does not move them: "
        f"{ {k: v for k, v in finger_of.items() if expected.get(k) != v} }; "
        f"links a finger moves but not filed under it: { {k: v for k, v in expected.items() if finger_of.get(k) != v} }")


@pytest.mark.parametrize("name", ["inspire", "xhand", "paxini", "ability"])
def test_a_reference_hands_link_is_the_finger_whose_joints_move_it(name: str) -> None:
    hand = xlsdk.load_hand(name)
    _assert_links_are_the_fingers_that_move_them(hand)
    _, finger_of = finger_joints(hand)
    assert "hand_base" not in finger_of, "the palm body moves with no finger"
    tips = {finger: tip.link for finger, tip in hand.spec.manifest.fingers.items()}
    pads = [(link, finger) for finger, tip in tips.items() for link in hand.spec.urdf.links_below(tip) if link != tip]
    assert pads, f"{name}: the reference hands hang tip bodies past their tip links"
    assert all(finger_of[link] == finger for link, finger in pads)


@pytest.mark.parametrize("name", CORPUS)
def test_a_corpus_hands_link_is_the_finger_whose_joints_move_it(name: str, tmp_path: Path, fresh_host,  # noqa: ANN001
                                                                 capsys) -> None:
    from xlsdk.cli import main

    assert main(["new-hand", f"c_{name}", "--urdf", str(HANDS / f"{name}.urdf"), "--yes",
                 "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    fresh_host.register(HandPlugin(next((tmp_path / name).rglob("hand.toml"))), name=f"plugin-{name}")
    _assert_links_are_the_fingers_that_move_them(fresh_host.load_hand(f"c_{name}"))


def test_the_palm_touching_stops_no_finger_and_a_fingertip_stops_its_own() -> None:
    hand = xlsdk.load_hand("ability")
    owned, _ = finger_joints(hand)
    q_open, q_grasp = np.zeros(hand.dof), np.asarray(hand.spec.upper) * 0.8
    closing = ClosingFingers(hand, q_open, q_grasp, steps=4)
    first = closing.advance(["hand_base"])
    np.testing.assert_allclose(first, q_open + 0.25 * (q_grasp - q_open), err_msg="the palm stops nothing")
    second = closing.advance(["index_tip"])
    index, thumb = owned["index"], owned["thumb"]
    np.testing.assert_allclose(second[index], first[index], err_msg="the index tip stops the index")
    np.testing.assert_allclose(second[thumb], q_open[thumb] + 0.5 * (q_grasp - q_open)[thumb])
