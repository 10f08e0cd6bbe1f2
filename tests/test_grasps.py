"""xlsdk's one grasp synthesis (:mod:`xlsdk.physics.grasps`) on the reference hands' FK."""

from __future__ import annotations

import numpy as np
import pytest

import xlsdk
from xlsdk.physics import grasps


@pytest.mark.parametrize("name", ["inspire", "xhand"])
def test_a_pinch_runs_across_the_palm_at_every_cube_size(name: str) -> None:
    """Several IK solutions put thumb and index the cube's width apart; the one kept has the line between
    them across the palm (thumb opposite the index's pad). Kept by cost alone, inspire's 15 and 16 mm
    pinches ran along the fingers (the index tip curled under the cube), and the expert pushed those cubes
    off the table instead of lifting them."""
    hand = xlsdk.load_hand(name)
    for mm in range(12, 19):  # every half edge the pinch and bin tasks draw
        grasp = grasps.pinch(hand, mm / 1000)
        tips = np.asarray(hand.fk(grasp.q_grasp))
        gap = float(np.linalg.norm(tips[0] - tips[hand.fingers.index("index")]))
        assert gap == pytest.approx(2 * mm / 1000, abs=5e-4), (name, mm)
        assert abs(float(grasp.direction[0])) >= 0.7, (name, mm, grasp.direction)
        assert abs(float(grasp.direction[1])) < 0.05, (name, mm, grasp.direction)  # parallel to the palm
