"""Paxini DexH13 facts: four fingers, 13 motors + 3 passive DIPs (estimated 1:1), fingertips at q = 0."""

from __future__ import annotations

import numpy as np

import xlsdk

SHEET_TIPS = {"thumb": (0.05216, -0.16871, 0.01081), "index": (0.22928, -0.0315, -0.00625),
              "middle": (0.22928, 0.0, -0.00624), "ring": (0.22928, 0.0315, -0.00624)}
SOURCE_TO_XLSDK = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float)


def test_four_fingers_and_thirteen_motors() -> None:
    hand = xlsdk.load_hand("paxini")
    assert hand.fingers == ("thumb", "index", "middle", "ring")
    assert hand.dof == 13
    assert {name: t.source for name, t in hand.spec.mimic.items()} == {
        "index_dip": "index_pip", "middle_dip": "middle_pip", "ring_dip": "ring_pip"}


def test_fingertips_at_zero_match_the_fact_sheet() -> None:
    hand = xlsdk.load_hand("paxini")
    tips = hand.fk(np.zeros(13))
    for finger, tip in zip(hand.fingers, tips, strict=True):
        np.testing.assert_allclose(tip, SOURCE_TO_XLSDK @ np.array(SHEET_TIPS[finger]), atol=2e-5)
