"""Closed-loop evaluation of a trained policy on one hand: the library behind ``xlsdk policy run``.

For each of ``episodes`` fresh scenes of a task, the policy drives the hand (the simulated driver on a
virtual clock by default, or any registered driver in real time), and the executed final pose's task
error is compared with what the hand's own IK expert reaches on the same scene, by the benchmark's
success rule (:func:`xlsdk.bench.crosshand.tasks.task_success`)::

    from xlsdk.bench.crosshand.evaluate import evaluate_policy
    report = evaluate_policy("out/policy", "ability", task="pinch", episodes=4)
    report.success_rate
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from xlsdk.hand import Hand


class EpisodeResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    instruction: str
    error: float
    expert_error: float
    success: bool
    final_q: list[float]


class PolicyRunReport(BaseModel):
    """What ``xlsdk policy run --json`` prints."""

    model_config = ConfigDict(frozen=True)
    hand: str
    seen_in_training: bool
    action_space: str
    driver: str
    task: str
    episodes: list[EpisodeResult]

    @property
    def success_rate(self) -> float:
        return sum(e.success for e in self.episodes) / len(self.episodes) if self.episodes else 0.0


def evaluate_policy(policy: Path | str, hand: Hand | str, *, task: str = "pinch", episodes: int = 1, seed: int = 0,
                    driver: str = "sim", driver_options: dict[str, Any] | None = None) -> PolicyRunReport:
    """Run the policy saved in directory ``policy`` on ``hand`` for ``episodes`` scenes of ``task``.

    ``driver`` other than ``sim`` runs in real time on that driver (``driver_options``: its transport
    settings, e.g. ``{"port": "/dev/ttyUSB0"}``); ``sim`` runs on a virtual clock, faster than real time.
    """
    import time

    import numpy as np
    import torch

    import xlsdk
    from xlsdk.drivers import driver_entry
    from xlsdk.errors import PolicyError
    from xlsdk.policy.action_space import space_of
    from xlsdk.bench.crosshand.demos import solve_scenes
    from xlsdk.bench.crosshand.tasks import check_task, sample_scenes, task_error, task_success
    from xlsdk.bench.crosshand.episode import run_episode
    from xlsdk.policy.train import load_policy

    check_task(task)
    if episodes < 1:
        raise PolicyError(f"episodes must be at least 1, got {episodes}")
    if isinstance(hand, str):
        hand = xlsdk.load_hand(hand)
    entry = driver_entry(hand, driver)  # an unknown driver fails before the policy is loaded
    model, metadata = load_policy(Path(policy))
    space = space_of(model.config)
    scenes = sample_scenes(task, episodes, np.random.default_rng(seed))
    _, expert = solve_scenes(hand, scenes, seed=seed)
    results = []
    for scene, expert_error in zip(scenes, expert.tolist(), strict=True):
        if driver == "sim":
            final = run_episode(model, space, hand, scene, frames=metadata.frames, fps=metadata.fps)
        else:
            final = run_episode(model, space, hand, scene, frames=metadata.frames, fps=metadata.fps,
                                driver=entry.build(hand, driver_options), sleep=time.sleep)
        with torch.no_grad():
            error = float(task_error(hand.geometry(torch.as_tensor(final[None], dtype=torch.float32)), [scene])[0])
        results.append(EpisodeResult(instruction=scene.instruction, error=error, expert_error=float(expert_error),
                                     success=task_success(error, float(expert_error)),
                                     final_q=[float(v) for v in final]))
    return PolicyRunReport(hand=hand.name, seen_in_training=hand.name in metadata.hands,
                           action_space=metadata.action_space, driver=driver, task=task, episodes=results)
