"""The cross-hand benchmark: the same policy trained on latent chunks vs padded raw joints.

1. For every training hand, write a LeRobot dataset: every task, ``scenes`` scenes each, demonstrations
   from the hand's own IK (``demos.py``).
2. Hold out some hand x task combinations (their frames are dropped before training) and one whole
   hand (no dataset at all).
3. Train the same architecture twice, same data, same steps, same seed: (a) ``latent`` (actions are
   chunks of the shared latent, encoded by each hand's frozen head) and (b) ``raw`` (joints scaled by
   each hand's limits and padded to the largest DOF, the pi0 convention).
4. Evaluate every hand x task on fresh scenes, closed loop on the simulated driver. Success: the
   executed fingertip geometry's task error is within ``tolerance`` of what the hand's own IK expert
   achieves on the same scene (so a target a hand cannot reach does not count against the policy).
5. Report success per arm for seen combinations, held-out combinations and the held-out hand, a
   per-hand x task table, and the inference latency per chunk (CPU, batch 1).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from xlsdk.bench import harness
from xlsdk.bench.crosshand.dataset import write_hand_dataset
from xlsdk.bench.crosshand.demos import solve_scenes
from xlsdk.bench.crosshand.tasks import (SUCCESS_TOLERANCE, TASKS, ImageScene, sample_scenes, task_error,
                                         task_success)
from xlsdk.bench.crosshand.episode import run_episode
from xlsdk.hand import Hand
from xlsdk.policy.action_space import space_of
from xlsdk.policy.train import make_config, read_demo_frames, to_training_set, train_policy, widest_hand
from xlsdk.progress import step_progress

ARMS = ("latent", "raw")


class CrosshandConfig(BaseModel):
    """Every knob of the benchmark (recorded in its report)."""

    model_config = ConfigDict(frozen=True)
    hands: tuple[str, ...] = ("inspire", "ability", "xhand", "paxini")
    held_out_hand: str = "ability"
    held_out_combos: tuple[tuple[str, str], ...] = (("inspire", "tripod"), ("xhand", "hook"), ("paxini", "point"))
    tasks: tuple[str, ...] = TASKS
    scenes_per_task: int = 64
    eval_scenes: int = 16
    frames: int = 12
    steps: int = 6000
    batch_size: int = 64
    tolerance: float = SUCCESS_TOLERANCE
    image_size: int = 48
    seed: int = 0

    @classmethod
    def quick(cls, **overrides: Any) -> CrosshandConfig:
        """Under 10 minutes on two CPU cores: fewer scenes and steps, the same protocol."""
        return cls(**{"scenes_per_task": 32, "eval_scenes": 8, "steps": 2500, **overrides})


class ComboResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    hand: str
    task: str
    split: str  # seen | held-out combination | held-out hand
    success: dict[str, float]
    error: dict[str, float]
    expert_error: float


class CrosshandReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    config: CrosshandConfig
    combos: list[ComboResult]
    summary: dict[str, dict[str, float]]
    train_frames: int
    final_loss: dict[str, float]
    latency_ms: dict[str, float]
    seconds: float
    command: str

    def table(self) -> str:
        """Markdown: the per hand x task table (like the paper's Table 2), then the summary per split."""
        return self.combo_table() + "\n\n" + self.summary_table()

    def combo_table(self) -> str:
        """Markdown table: success rate per hand x task and arm, with the split each combination is in."""
        lines = ["| hand | task | split | latent | raw |", "|---|---|---|---|---|"]
        for combo in self.combos:
            lines.append(f"| {combo.hand} | {combo.task} | {combo.split} | {combo.success['latent']:.2f} | "
                         f"{combo.success['raw']:.2f} |")
        return "\n".join(lines)

    def summary_table(self) -> str:
        """Markdown table: mean success per arm on seen combinations, held-out combinations, the held-out hand."""
        lines = ["| split | latent | raw |", "|---|---|---|"]
        for split, values in self.summary.items():
            lines.append(f"| {split} | {values['latent']:.2f} | {values['raw']:.2f} |")
        return "\n".join(lines)


def reproduce_command(*, quick: bool, seed: int) -> str:
    """The CLI line that reruns a benchmark run (recorded in its report and docs block)."""
    return harness.reproduce_command("crosshand", quick=quick, options=[f"--seed {seed}"] if seed else [])


def _split(config: CrosshandConfig, hand: str, task: str) -> str:
    return harness.split_of(hand, task, held_out_hand=config.held_out_hand, held_out_combos=config.held_out_combos)


def run_crosshand(config: CrosshandConfig, out_dir: Path, *, progress: bool = True,
                  command: str = "xlsdk bench crosshand") -> CrosshandReport:
    import xlsdk

    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)  # torch draws go through seeded local generators (xlsdk.training)
    data_dir = out_dir / "datasets"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    hands = {name: xlsdk.load_hand(name) for name in config.hands}  # names resolved here, the face; Hands below
    training_hands = [h for h in config.hands if h != config.held_out_hand]
    roots = []
    task_of: dict[str, str] = {}
    with step_progress("crosshand data", len(training_hands), enabled=progress) as bar:
        for index, name in enumerate(training_hands):
            hand = hands[name]
            scenes = [s for task in config.tasks for s in sample_scenes(task, config.scenes_per_task, rng)]
            task_of.update({s.instruction: s.task for s in scenes})
            demos = write_hand_dataset(hand, scenes, data_dir / name, frames=config.frames,
                                       image_size=config.image_size, seed=config.seed + index)
            roots.append(demos.root)
            bar.update(index + 1, hand=name)

    evaluation = _evaluation_scenes(config, rng)
    base_config = make_config("latent", image_size=config.image_size)
    frames = read_demo_frames(roots, base_config, hands)
    keep = [(hand, task_of.get(task, task)) not in config.held_out_combos for hand, task in zip(frames.hands, frames.tasks, strict=True)]
    results: dict[str, dict[tuple[str, str], list[float]]] = {}
    losses: dict[str, float] = {}
    latency: dict[str, float] = {}
    train_frames = 0
    for arm in ARMS:
        # the raw arm pads to the widest benchmark hand, held-out ones included, so that it can be evaluated there
        policy_config = make_config(arm, image_size=config.image_size,
                                    raw_dim=widest_hand(hands.values()) if arm == "raw" else None)
        space = space_of(policy_config)
        data = to_training_set(frames, space, hands=hands, keep=keep)
        train_frames = len(data)
        policy, history, _ = train_policy(data, policy_config, steps=config.steps, batch_size=config.batch_size,
                                          seed=config.seed, progress=progress)
        losses[arm] = float(np.mean(history[-50:]))
        latency[arm] = _latency_ms(policy, space, hands[config.hands[0]])
        results[arm] = _evaluate(policy, space, evaluation, config, progress=progress, arm=arm)

    combos = []
    for (hand, task), (scenes, expert) in evaluation.items():
        errors = {arm: results[arm][(hand, task)] for arm in ARMS}
        combos.append(ComboResult(
            hand=hand, task=task, split=_split(config, hand, task),
            success={arm: float(np.mean([task_success(e, x, config.tolerance)
                                         for e, x in zip(errors[arm], expert, strict=True)]))
                     for arm in ARMS},
            error={arm: float(np.mean(errors[arm])) for arm in ARMS}, expert_error=float(np.mean(expert))))
    summary = {}
    for split in (harness.SEEN, harness.HELD_OUT_COMBINATION, harness.HELD_OUT_HAND):
        chosen = [c for c in combos if c.split == split]
        summary[split] = {arm: float(np.mean([c.success[arm] for c in chosen])) if chosen else float("nan")
                          for arm in ARMS}
    return CrosshandReport(config=config, combos=combos, summary=summary, train_frames=train_frames,
                           final_loss=losses, latency_ms=latency, seconds=round(time.perf_counter() - started, 1),
                           command=command)


def _evaluation_scenes(config: CrosshandConfig, rng: np.random.Generator
                       ) -> dict[tuple[str, str], tuple[list[ImageScene], list[float]]]:
    """Fresh scenes for every hand x task, with the hand's own IK expert error on each."""
    import xlsdk

    evaluation = {}
    for index, name in enumerate(config.hands):
        hand = xlsdk.load_hand(name)
        for task in config.tasks:
            scenes = sample_scenes(task, config.eval_scenes, rng)
            _, expert = solve_scenes(hand, scenes, seed=config.seed + 1000 + index)
            evaluation[(name, task)] = (scenes, [float(e) for e in expert])
    return evaluation


def _evaluate(policy: Any, space: Any, evaluation: dict, config: CrosshandConfig, *, progress: bool,
              arm: str) -> dict[tuple[str, str], list[float]]:
    import xlsdk

    errors: dict[tuple[str, str], list[float]] = {}
    with step_progress(f"evaluate ({arm})", len(evaluation), enabled=progress) as bar:
        for index, ((name, task), (scenes, _)) in enumerate(evaluation.items()):
            hand = xlsdk.load_hand(name)
            finals = [run_episode(policy, space, hand, scene, frames=config.frames, fps=10.0) for scene in scenes]
            with torch.no_grad():
                geometry = hand.geometry(torch.as_tensor(np.stack(finals), dtype=torch.float32))
                errors[(name, task)] = [float(e) for e in task_error(geometry, scenes)]
            bar.update(index + 1, combo=f"{name}/{task}")
    return errors


def _latency_ms(policy: Any, space: Any, hand: Hand, calls: int = 100) -> float:
    """Median wall time of one chunk prediction + decode onto ``hand`` (the run's first), CPU, batch 1."""
    config = policy.config
    batch = {"observation.images.scene": torch.full((1, 3, config.image_size, config.image_size), 0.5),
             "task": ["pinch the small red cube"],
             "observation.state": torch.zeros(1, config.history, config.action_dim)}

    def predict() -> None:
        with torch.no_grad():
            space.decode(hand, policy.predict_action_chunk(batch)[0])

    return harness.median_ms(lambda: predict, calls)


def write_report(report: CrosshandReport, out_dir: Path) -> Path:
    """``crosshand.json`` and ``crosshand.md`` in ``out_dir``; returns the JSON's path."""
    return harness.write_report_files(report, out_dir, "crosshand")
