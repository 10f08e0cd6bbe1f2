"""PSYONIC Ability facts: API command order, four-bar linear fit, negative-going rotator, fingertips at q = 0."""

from __future__ import annotations

import numpy as np

import xlsdk

SHEET_TIPS = {"index": (-0.02993, -0.00882, 0.16665), "middle": (-0.00713, -0.0118, 0.16967),
              "ring": (0.01558, -0.00977, 0.16759), "little": (0.03372, -0.00678, 0.16163),
              "thumb": (-0.10123, 0.00244, 0.07933)}


def test_api_order_and_limits() -> None:
    hand = xlsdk.load_hand("ability")
    assert hand.joint_names == ("index_mcp", "middle_mcp", "ring_mcp", "pinky_mcp", "thumb_cmc_pitch", "thumb_cmc_yaw")
    assert hand.limits[-1].lower == -1.74 and hand.limits[-1].upper == 0.0, "the thumb rotator is negative-going"


def test_four_bar_linear_fit() -> None:
    hand = xlsdk.load_hand("ability")
    for finger in ("index", "middle", "ring", "pinky"):
        term = hand.spec.mimic[f"{finger}_pip"]
        assert (term.source, term.multiplier, term.offset) == (f"{finger}_mcp", 1.05851325, 0.0)


def test_palm_frame_is_the_source_frame_and_tips_match_the_sheet() -> None:
    hand = xlsdk.load_hand("ability")
    tips = hand.fk(np.zeros(6))
    for finger, tip in zip(hand.fingers, tips, strict=True):
        np.testing.assert_allclose(tip, SHEET_TIPS[finger], atol=2e-5)
