"""Inspire RH56 facts: DOF, hardware command order, Variant A couplings, fingertips at q = 0."""

from __future__ import annotations

import numpy as np
import torch

import xlsdk

# fingertips at q = 0 in the source palm frame (shared/hands/inspire_rh56.md, Variant A), metres
SHEET_TIPS = {"thumb": (-0.04423, -0.11756, -0.1071), "index": (-0.00733, -0.20869, -0.02978),
              "middle": (-0.00714, -0.21414, -0.00795), "ring": (-0.00414, -0.20859, 0.01505),
              "little": (-0.00414, -0.19888, 0.03715)}
SOURCE_TO_XLSDK = np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], dtype=float)


def test_six_actuators_in_hardware_order() -> None:
    hand = xlsdk.load_hand("inspire")
    assert hand.joint_names == ("pinky_mcp", "ring_mcp", "middle_mcp", "index_mcp", "thumb_cmc_pitch", "thumb_cmc_yaw")
    assert [(j.lower, j.upper) for j in hand.limits] == [(0.0, 1.7)] * 4 + [(0.0, 0.5), (-0.1, 1.3)]


def test_variant_a_couplings() -> None:
    hand = xlsdk.load_hand("inspire")
    terms = {name: (t.source, t.multiplier, t.offset) for name, t in hand.spec.mimic.items()}
    assert terms["thumb_mcp"] == ("thumb_cmc_pitch", 1.6, 0.0)
    assert terms["thumb_ip"] == ("thumb_cmc_pitch", 2.4, 0.0)
    for finger in ("index", "middle", "ring", "pinky"):
        assert terms[f"{finger}_pip"] == (f"{finger}_mcp", 1.0, 0.0)


def test_fingertips_at_zero_match_the_fact_sheet() -> None:
    hand = xlsdk.load_hand("inspire")
    tips = hand.fk(np.zeros(6))
    for finger, tip in zip(hand.fingers, tips, strict=True):
        np.testing.assert_allclose(tip, SOURCE_TO_XLSDK @ np.array(SHEET_TIPS[finger]), atol=2e-5)


def test_closing_the_index_curls_it_toward_the_palm() -> None:
    hand = xlsdk.load_hand("inspire")
    q = torch.zeros(2, 6, dtype=torch.float64)
    q[1, 3] = 1.2
    tips = hand.fk(q)
    assert tips[1, 1, 1] > tips[0, 1, 1] + 0.02, "index tip moves toward +Y (palm normal)"
