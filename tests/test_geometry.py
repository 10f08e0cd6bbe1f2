"""Normalised hand geometry and grasp-like sampling behave the same on every hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import REFERENCE_DOF

import xlsdk
from xlsdk.geometry import shared_fingers
from xlsdk.latent.sampling import PoseSampler

HANDS = [*REFERENCE_DOF, "canonical"]


@pytest.mark.parametrize("name", HANDS)
def test_extended_fingertips_sit_about_one_reach_beyond_the_knuckles(name: str) -> None:
    hand = xlsdk.load_hand(name)
    geometry = hand.geometry(torch.tensor(hand.zero_pose(), dtype=torch.float32))
    fingers_z = geometry.tips[0, 1:, 2]
    assert bool(((fingers_z > 0.6) & (fingers_z < 1.3)).all()), fingers_z
    assert geometry.thumb_vectors.shape == (1, len(hand.fingers) - 1, 3)
    assert torch.allclose(geometry.thumb_distances, geometry.thumb_vectors.norm(dim=-1))


@pytest.mark.parametrize("name", HANDS)
def test_pinch_samples_bring_thumb_and_a_finger_together(name: str) -> None:
    hand = xlsdk.load_hand(name)
    sampler = PoseSampler(hand, seed=1, noise=0.0)
    pinch = hand.geometry(sampler.pinches(128)).thumb_distances.min(dim=1).values
    uniform = hand.geometry(sampler.uniform(128)).thumb_distances.min(dim=1).values
    assert float(pinch.median()) < 0.1, "a pinch brings the thumb within a tenth of the reach of a fingertip"
    assert float(pinch.median()) < 0.5 * float(uniform.median())


@pytest.mark.parametrize("name", HANDS)
def test_closing_samples_close_the_fingers_together(name: str) -> None:
    """In a "close" sample the flexion joints share one closure level (a grasp), unlike uniform samples."""
    hand = xlsdk.load_hand(name)
    sampler = PoseSampler(hand, seed=2)
    direction = sampler.closing_directions()
    flexion = direction != 0
    assert int(flexion.sum()) >= len(hand.fingers) - 1, "at least one flexion joint per finger is found"
    span = hand.upper() - hand.lower()

    def closure(q: torch.Tensor) -> torch.Tensor:
        fraction = (q - hand.lower()) / span
        return torch.where(direction > 0, fraction, 1 - fraction)[:, flexion]

    closed, uniform = closure(sampler.closing(512)), closure(sampler.uniform(512))
    assert float(closed.std(dim=1).mean()) < 0.6 * float(uniform.std(dim=1).mean())


def test_samples_respect_the_limits_and_the_seed() -> None:
    hand = xlsdk.load_hand("paxini")
    a = PoseSampler(hand, seed=3).sample(300)
    b = PoseSampler(hand, seed=3).sample(300)
    assert torch.equal(a, b)
    assert bool(((a >= hand.lower()) & (a <= hand.upper())).all())


def test_shared_fingers_follow_canonical_order() -> None:
    paxini, inspire = xlsdk.load_hand("paxini"), xlsdk.load_hand("inspire")
    assert shared_fingers(inspire.fingers, paxini.fingers) == ("thumb", "index", "middle", "ring")
    geometry = inspire.geometry(torch.tensor(inspire.zero_pose(), dtype=torch.float32)).select(("thumb", "ring"))
    assert geometry.tips.shape == (1, 2, 3) and geometry.thumb_vectors.shape == (1, 1, 3)


def test_hand_scale_is_deterministic() -> None:
    first = xlsdk.load_hand("xhand").scale
    again = xlsdk.get_plugin_host().__class__().load_hand("xhand").scale
    assert first == again
    assert np.isclose(first.reach, 0.1027, atol=0.002), "XHand: 17.8 + 55.8 + 42.5 mm from the abduction joint"


def test_one_descent_solves_both_banks_exactly_and_float32_pinches_too() -> None:
    """The pinch and tripod banks solved as one FK batch are the two separate solves, bit for bit (rows are
    independent); the fit's float32 IK still brings thumb and finger together."""
    hand = xlsdk.load_hand("ability")
    sampler = PoseSampler(hand, seed=5)
    together = sampler._solve_banks()
    start, cost, pick = sampler._pinch_problem()
    assert torch.equal(together["pinch"], pick(*sampler._descend(start, cost)))
    tripods = sampler._best(*sampler._descend(sampler._starts(128), sampler._tripod_cost()), 128)[0]
    assert torch.equal(together["tripod"], tripods)
    fast = PoseSampler(hand, seed=5, ik_dtype=torch.float32, noise=0.0)
    assert fast.banks() is not sampler.banks()  # the precision is part of the bank's key
    pinch = hand.geometry(fast.pinches(128)).thumb_distances.min(dim=1).values
    assert fast.banks()["pinch"].dtype == torch.float32 and float(pinch.median()) < 0.1
