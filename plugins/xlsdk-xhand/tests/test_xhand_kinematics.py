"""Robotera XHAND1 facts: 12 direct-driven joints, vendor limits, fingertips at q = 0."""

from __future__ import annotations

import numpy as np

import xlsdk

SHEET_TIPS = {"thumb": (0.15701, 0.02212, -0.02872), "index": (0.0265, 0.0065, -0.206),
              "middle": (0.004, 0.0065, -0.20611), "ring": (-0.016, 0.0065, -0.2035), "little": (-0.036, 0.0065, -0.2005)}
SOURCE_TO_XLSDK = np.diag([-1.0, 1.0, -1.0])


def test_twelve_direct_driven_joints() -> None:
    hand = xlsdk.load_hand("xhand")
    assert hand.dof == 12 and hand.spec.mimic == {}
    limits = {j.name: (j.lower, j.upper) for j in hand.limits}
    assert limits["thumb_mcp"] == (-1.05, 1.57) and limits["index_abd"] == (-0.175, 0.175)


def test_fingertips_at_zero_match_the_fact_sheet() -> None:
    hand = xlsdk.load_hand("xhand")
    tips = hand.fk(np.zeros(12))
    for finger, tip in zip(hand.fingers, tips, strict=True):
        np.testing.assert_allclose(tip, SOURCE_TO_XLSDK @ np.array(SHEET_TIPS[finger]), atol=2e-5)
