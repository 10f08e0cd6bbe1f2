"""Retarget refinement: Levenberg-Marquardt on the fingertip geometry, batched and one pose at a time."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xlsdk
from xlsdk.geometry import shared_fingers
from xlsdk.latent.objectives import tip_error
from xlsdk.latent.refine import GeometryRefiner
from xlsdk.latent.retarget import StreamRetargeter, refine_retarget


def _poses(name: str, n: int, seed: int) -> torch.Tensor:
    return xlsdk.load_hand(name).sample(n, torch.Generator().manual_seed(seed))


def test_refinement_never_makes_a_pose_worse_and_stays_in_the_limits() -> None:
    source, target = xlsdk.load_hand("inspire"), xlsdk.load_hand("paxini")
    q = _poses("inspire", 24, 5)
    decoded = torch.as_tensor(xlsdk.retarget(q, source, target))
    refiner = GeometryRefiner(source, target)
    goal = refiner.goal(q)
    refined = refiner(goal, decoded, steps=2)
    before, after = refiner.cost(decoded, goal), refiner.cost(refined, goal)
    assert (after <= before + 1e-7).all()  # (the decode may sit 1e-8 outside a limit in float32; refined poses do not)
    assert after.mean() < 0.9 * before.mean(), "two LM steps clearly improve the geometry"
    assert (refined >= target.lower(torch.float64) - 1e-9).all() and (refined <= target.upper(torch.float64) + 1e-9).all()
    fingers = shared_fingers(source.fingers, target.fingers)
    reference = source.geometry(q).select(fingers)
    assert tip_error(target.geometry(refined.float()).select(fingers), reference).mean() < \
        tip_error(target.geometry(decoded).select(fingers), reference).mean()


def test_the_stream_refines_each_pose_like_the_batch_does() -> None:
    source, target = xlsdk.load_hand("xhand"), xlsdk.load_hand("ability")
    q = _poses("xhand", 6, 7)
    decoded = torch.as_tensor(xlsdk.retarget(q, source, target))
    batched = refine_retarget(q, source, target, decoded).numpy()
    stream = StreamRetargeter(source, target, refine=True)
    for row in range(q.shape[0]):
        stream.reset()  # unrelated poses: no warm start from the previous frame
        np.testing.assert_allclose(stream(q[row].numpy()), batched[row], atol=1e-5)


def test_a_slowly_moving_stream_starts_from_the_previous_answer() -> None:
    source, target = xlsdk.load_hand("inspire"), xlsdk.load_hand("xhand")
    start = _poses("inspire", 1, 9)[0]
    span = source.upper() - source.lower()
    frames = [start + 0.01 * k * span / 10 for k in range(5)]
    stream = StreamRetargeter(source, target, refine=True)
    refiner = GeometryRefiner(source, target)
    for frame in frames:
        answer = torch.as_tensor(stream(frame.numpy()))
        cold = refine_retarget(frame[None], source, target, torch.as_tensor(xlsdk.retarget(frame[None], source, target)))
        goal = refiner.goal(frame[None])
        assert refiner.cost(answer[None], goal) <= refiner.cost(cold, goal) * 1.05 + 1e-9


def test_the_refined_cost_is_the_training_objectives_tip_and_vector_terms() -> None:
    from xlsdk.latent.objectives import GeometryWeights, pinch_weight

    source, target = xlsdk.load_hand("paxini"), xlsdk.load_hand("inspire")
    q_source, q_target = _poses("paxini", 16, 11), _poses("inspire", 16, 12).double()
    weights = GeometryWeights()
    refiner = GeometryRefiner(source, target, weights=weights)
    goal = refiner.goal(q_source)
    fingers = shared_fingers(source.fingers, target.fingers)
    assert goal.fingers == fingers
    reached = target.geometry(q_target).select(fingers)
    expected = weights.tips * (reached.tips - goal.tips).pow(2).sum(-1).mean(-1) + weights.vectors * (
        pinch_weight(goal, weights) * (reached.thumb_vectors - goal.thumb_vectors).pow(2).sum(-1)).mean(-1)
    # the refiner's tips are the numpy chain's (float64 URDF origins), hand.geometry's pytorch-kinematics' (origins
    # read in float32): ~1e-8 m apart, a few 1e-7 of the cost
    torch.testing.assert_close(refiner.cost(q_target, goal), expected, rtol=1e-6, atol=1e-12)


def test_a_stream_frame_runs_no_pytorch_kinematics_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-frame work is the heads and the compact evaluator: pytorch-kinematics runs only at set-up."""
    import pytorch_kinematics as pk

    stream = StreamRetargeter(xlsdk.load_hand("ability"), xlsdk.load_hand("xhand"), refine=True)
    calls = []
    original = pk.Chain.forward_kinematics_tensor
    def counted(self: pk.Chain, *args: object, **kwargs: object) -> torch.Tensor:
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pk.Chain, "forward_kinematics_tensor", counted)
    for row in _poses("ability", 5, 13).numpy():
        answer = stream(row)
        assert answer.shape == (12,) and np.isfinite(answer).all()
    assert calls == []
    xlsdk.load_hand("xhand").fk(np.zeros(12))
    assert calls == [1], "the counter sees pytorch-kinematics calls"


def test_the_goal_system_of_known_fingertips_is_the_source_poses() -> None:
    """``goal_system`` (the human stream's path: fingertips already fitted) builds what the source pose builds."""
    source, target = xlsdk.load_hand("xhand"), xlsdk.load_hand("inspire")
    refiner = GeometryRefiner(source, target)
    q = _poses("xhand", 5, 11).double()
    geometry = refiner.goal(q)
    matrix, goal = refiner.goal_system(geometry.tips.numpy())  # thumb distances from the tips
    expected_matrix, expected_goal = refiner.system_from_source(q.numpy())
    np.testing.assert_allclose(matrix, expected_matrix, rtol=0, atol=1e-12)
    np.testing.assert_allclose(goal, expected_goal, rtol=0, atol=1e-12)
    pinched = geometry.tips.numpy().copy()
    pinched[:, 1] = pinched[:, 0]  # the index tip on the thumb's: its vector rows weigh more
    heavier = refiner.goal_system(pinched)[0]
    rows = slice(3 * len(refiner.fingers), 3 * len(refiner.fingers) + 3)
    assert (np.abs(heavier[:, rows]).max(axis=(1, 2)) > np.abs(matrix[:, rows]).max(axis=(1, 2))).all()
