"""Demonstrations from each hand's own IK — never from the latent decoders.

For every scene the hand's joints are optimised (projected Adam on the differentiable FK, several
random restarts, the best kept) to minimise the task error in the normalised geometry. The demo
trajectory moves from the open pose to that solution with a minimum-jerk profile, with a little
Gaussian noise on the way (as a teleoperator's hand would wobble). The expert's final error per scene
is kept: the benchmark's success threshold is relative to what the hand itself can achieve.
"""

from __future__ import annotations

import numpy as np
import torch

from xlsdk.hand import Hand
from xlsdk.ik import descend
from xlsdk.bench.crosshand.tasks import ImageScene, task_error

RESTARTS = 6
IK_STEPS = 200


def solve_scenes(hand: Hand, scenes: list[ImageScene], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(q* (N, dof), expert error (N,)) for ``scenes``.

    Per task, the nominal scene (object centred, medium size) is solved from several random restarts;
    every scene of that task is then solved warm-started from that solution. Demonstrations therefore
    vary smoothly with the scene (one grasp strategy per task, as a consistent teleoperator would),
    instead of jumping between equally good IK branches that no policy could learn to predict.
    """
    from dataclasses import replace

    q = torch.empty(len(scenes), hand.dof)
    errors = torch.empty(len(scenes))
    for task in sorted({scene.task for scene in scenes}):
        rows = [i for i, scene in enumerate(scenes) if scene.task == task]
        nominal = replace(scenes[rows[0]], u=0.5, v=0.5, size=0.5)
        generator = torch.Generator().manual_seed(seed)
        lower, upper = hand.lower(torch.float64), hand.upper(torch.float64)
        starts = lower + (upper - lower) * torch.rand(RESTARTS, hand.dof, generator=generator, dtype=torch.float64)
        starts[0] = torch.tensor(hand.mid_pose(), dtype=torch.float64)
        solutions, costs = _descend(hand, starts, [nominal] * RESTARTS)
        reference = solutions[costs.argmin()]
        group = [scenes[i] for i in rows]
        solved, cost = _descend(hand, reference.repeat(len(rows), 1), group)
        q[rows], errors[rows] = solved.float(), cost.float()
    return q, errors


def _descend(hand: Hand, start: torch.Tensor, scenes: list[ImageScene]) -> tuple[torch.Tensor, torch.Tensor]:
    """IK on the task error from ``start`` (one row per scene); the solutions and their errors."""
    q = descend(hand, start, lambda x: task_error(hand.geometry(x), scenes), steps=IK_STEPS, lr=0.04)
    with torch.no_grad():
        return q, task_error(hand.geometry(q), scenes)


def open_pose(hand: Hand) -> np.ndarray:
    """Where every demonstration starts: the URDF zero pose (fingers straight), clipped to the limits."""
    return hand.zero_pose().astype(np.float32)


def min_jerk(fraction: np.ndarray) -> np.ndarray:
    return 10 * fraction**3 - 15 * fraction**4 + 6 * fraction**5


def demo_trajectory(hand: Hand, goal: np.ndarray, frames: int, rng: np.random.Generator,
                    noise: float = 0.01) -> np.ndarray:
    """(frames, dof) from the open pose to ``goal``; the last frame is the goal itself."""
    start = open_pose(hand)
    profile = min_jerk(np.linspace(0.0, 1.0, frames))[:, None]
    path = start + profile * (goal - start)
    path[1:-1] += rng.normal(0.0, noise, path[1:-1].shape)
    return np.clip(path, hand.spec.lower, hand.spec.upper).astype(np.float32)
