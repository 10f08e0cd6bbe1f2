"""The reachable floor: the smallest fingertip error any joint vector of a target hand reaches.

`xlsdk check` holds a hand whose kinematics cannot follow the canonical hand's fingertips (a
three-finger gripper) to this floor instead of the absolute geometry limit, so the floor must be a
real optimum: never above the latent's own answer, clearly below it where IK can do better, and
zero where the target can reach exactly.
"""

from __future__ import annotations

import torch

import xlsdk
from xlsdk.geometry import shared_fingers
from xlsdk.latent.evaluate import evaluate_latent, reachable_error
from xlsdk.latent.head_loading import load_head
from xlsdk.latent.objectives import tip_error
from xlsdk.latent.sampling import PoseSampler


def test_a_hand_reaches_its_own_poses_from_random_starts() -> None:
    hand = xlsdk.load_hand("inspire")
    q = hand.sample(64, torch.Generator().manual_seed(3), dtype=torch.float64)
    floor = reachable_error(hand, hand, q, [])  # random starts only: no start is the answer
    assert floor.shape == (64,)
    assert float(floor.median()) < 1e-3, floor
    assert float(floor.mean()) < 0.02, floor


def test_floor_is_at_or_below_the_latents_answer_and_improves_on_it() -> None:
    canonical, target = xlsdk.load_hand("canonical"), xlsdk.load_hand("ability")
    q = PoseSampler(canonical, seed=11).grasps(48)
    fingers = shared_fingers(canonical.fingers, target.fingers)
    with torch.no_grad():
        decoded = load_head(target).decode(load_head(canonical).encode(q))
    reference = canonical.geometry(q).select(fingers)
    latent = tip_error(target.geometry(decoded).select(fingers), reference)
    floor = reachable_error(canonical, target, q, [decoded], known=latent)
    assert bool((floor <= latent.to(floor.dtype) + 1e-9).all())
    assert float(floor.mean()) < 0.9 * float(latent.mean()), "IK from the latent's answer should improve on it"
    assert bool((floor >= 0).all())


def test_evaluate_latent_reports_the_floor_only_when_asked() -> None:
    hands = {name: xlsdk.load_hand(name) for name in ("canonical", "xhand")}
    plain = evaluate_latent(hands, n=64, seed=5)
    floored = evaluate_latent(hands, n=64, seed=5, floor=True)
    assert all(p.floor_error is None for p in plain.pairs)
    for before, after in zip(plain.pairs, floored.pairs, strict=True):
        assert after.geometry_error == before.geometry_error  # the same poses
        assert 0.0 <= after.floor_error <= after.geometry_error
