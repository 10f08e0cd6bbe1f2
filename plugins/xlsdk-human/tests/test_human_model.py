"""The human hand model holds the anthropometric facts it was written from, and moves like a hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import xlsdk
from xlsdk.point_fit import PointLeastSquares
from xlsdk.tip_kinematics import TipKinematics

PLUGIN = Path(__file__).resolve().parents[1]
MEDIAPIPE = ("wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
             *(f"{finger}_{joint}" for finger in ("index_finger", "middle_finger", "ring_finger", "pinky")
               for joint in ("mcp", "pip", "dip", "tip")))


def _writer():
    spec = importlib.util.spec_from_file_location("write_urdf", PLUGIN / "tools" / "write_urdf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_urdf_is_the_generators_output() -> None:
    writer = _writer()
    assert writer.URDF_PATH.read_text(encoding="utf-8") == writer.build(), "run tools/write_urdf.py and refit"


def test_landmark_spacing_is_the_published_segment_lengths() -> None:
    writer = _writer()
    hand = xlsdk.load_hand("human")
    points = TipKinematics(hand, links=MEDIAPIPE).evaluate(np.zeros((1, hand.dof)), jacobian=False)[0][0]
    for finger, first in (("index", 5), ("middle", 9), ("ring", 13), ("little", 17)):
        lengths = np.linalg.norm(np.diff(points[first:first + 4], axis=0), axis=1)
        np.testing.assert_allclose(lengths, np.array(writer.SEGMENTS[finger][1:]) * writer.HAND_LENGTH, atol=1e-9)
    thumb = np.linalg.norm(np.diff(points[1:5], axis=0), axis=1)
    np.testing.assert_allclose(thumb, np.array(writer.SEGMENTS["thumb"]) * writer.HAND_LENGTH, atol=1e-9)
    assert points[12, 2] == pytest.approx(writer.HAND_LENGTH, abs=1e-3), "the middle fingertip is one hand length out"
    assert points[0] == pytest.approx(np.zeros(3)), "the wrist landmark is the palm frame's origin"


def test_fingers_curl_toward_the_palm_and_the_thumb_sits_on_the_radial_side() -> None:
    hand = xlsdk.load_hand("human")
    open_tips = hand.fk(np.zeros(hand.dof))
    assert open_tips[0, 0] < open_tips[1, 0] < open_tips[2, 0] < open_tips[3, 0] < open_tips[4, 0]
    fist = np.zeros(hand.dof)
    for joint in ("mcp_flex", "pip", "dip"):
        for finger in ("index", "middle", "ring", "little"):
            fist[hand.joint_names.index(f"{finger}_{joint}")] = 1.2
    assert (hand.fk(fist)[1:, 1] > open_tips[1:, 1] + 0.03).all(), "flexion moves every fingertip palmar (+Y)"


@pytest.mark.parametrize("finger", ["index", "middle", "ring", "little"])
def test_the_thumb_opposes_every_finger(finger: str) -> None:
    """Kapandji's opposition: the thumb's pad reaches each fingertip inside the joint ranges."""
    hand = xlsdk.load_hand("human")
    solver = PointLeastSquares(TipKinematics(hand, ("thumb", finger)), np.array(hand.spec.lower),
                               np.array(hand.spec.upper))
    system = (np.hstack([np.eye(3), -np.eye(3)])[None], np.zeros((1, 6)))  # residual: thumb tip - finger tip
    starts = np.stack([hand.mid_pose(), hand.zero_pose()])[None]
    q = solver.solve(system, starts, steps=60)
    gap = np.sqrt(solver.cost_of(system, q)[0])
    assert gap < 0.005, f"the thumb stays {gap * 1000:.1f} mm from the {finger} tip"
