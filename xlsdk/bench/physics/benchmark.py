"""The physics cross-hand benchmark: latent vs raw joints vs functional slots, decided by contact in MuJoCo.

1. **Demonstrations.** For every training hand and task, the closed-loop expert
   (:mod:`~xlsdk.bench.physics.expert`) runs seeded scenes with DART noise in shards
   (:mod:`~xlsdk.bench.physics.dataset`) until ``demos_per_task`` episodes succeeded (or the attempt cap
   says the combination is infeasible for the expert, with the measured reason). Shards run in a process
   pool on every core and are merged per hand with LeRobot's aggregation. Held-out combinations get no
   data; the held-out hand and the zero-shot hands (onboarded through ``new-hand`` + ``fit``,
   :mod:`~xlsdk.bench.physics.zero_shot`) get none at all.
2. **Training.** Per seed, the same XL-VLA network on the same frames for the same steps in every
   action space (``latent``, ``raw``, ``slots``, :mod:`~xlsdk.bench.physics.policies`); ``--obs state``
   reads the objects' poses, ``--obs vision`` the wrist and a fixed camera.
3. **Checkpoint by rollouts.** Snapshots during training are rolled out on validation scenes of the seen
   combinations; the best one is kept (the lowest loss is not the best policy), and the success per
   snapshot is the learning curve in the report.
4. **Evaluation.** Every hand x task on fresh scenes, closed loop, success from object state only; the
   expert on the same scenes is the ceiling. The arms also replay scenes they were trained on (does the
   learner reproduce its own data?). Every cell and split: mean and spread over seeds and a Wilson 95 %
   interval on the pooled episodes (:mod:`~xlsdk.bench.physics.stats`).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.bench import harness
from xlsdk.bench.harness import HELD_OUT_HAND, SPLITS, ZERO_SHOT_HAND
from xlsdk.bench.physics.dataset import (EVAL_STREAM, TRAIN_STREAM, VALIDATION_STREAM, ObsMode, Shard, ShardResult,
                                         scene_of)
from xlsdk.bench.physics.jobs import (Batch, Pool, default_workers, expert_job, grasp_calls, grasp_job, known_per_hand,
                                      policy_job, shard_job, train_job)
from xlsdk.bench.physics.observation import SCENE_FEATURES
from xlsdk.bench.physics.policies import ARMS, QUICK_ARMS
from xlsdk.bench.physics.stats import Rate
from xlsdk.bench.physics.tasks import TASKS, TaskScene
from xlsdk.hand import Hand
from xlsdk.progress import step_progress

#: not a split of fresh scenes: seen combinations replayed on scenes the arm was trained on, which tells
#: "cannot reproduce its own data" from "does not generalise to new scenes"
TRAINING_SCENES = "seen, training scenes"
RECIPE = "xlsdk_demos.json"


class PhysicsBenchConfig(BaseModel):
    """Every knob of the benchmark (recorded in its report)."""

    model_config = ConfigDict(frozen=True)
    hands: tuple[str, ...] = ("inspire", "xhand", "paxini", "ability")
    held_out_hand: str | None = "ability"
    held_out_combos: tuple[tuple[str, str], ...] = (("inspire", "bottle_upright"), ("xhand", "press_button"),
                                                    ("paxini", "place_in_bin"))
    zero_shot_corpus: tuple[str, ...] = ("numbered16",)
    zero_shot_hands: tuple[str, ...] = ()
    tasks: tuple[str, ...] = TASKS
    arms: tuple[str, ...] = ARMS
    obs: ObsMode = "state"
    demos_per_task: int = Field(200, ge=1, description="successful expert episodes per hand x task")
    shard_size: int = Field(25, ge=1, description="scenes per demonstration shard")
    attempts_per_demo: float = Field(2.5, ge=1.0, description="scenes tried per wanted demonstration before a "
                                     "combination counts as one the expert cannot do")
    dart: bool = True
    eval_scenes: int = Field(20, ge=1, description="fresh scenes per hand x task per seed")
    validation_scenes: int = Field(3, ge=0, description="scenes per seen combination for the checkpoint choice")
    checkpoints: int = Field(4, ge=1, description="evenly spaced snapshots the checkpoint is chosen from")
    training_scene_checks: int = Field(5, ge=0, description="training scenes replayed per seen combination")
    steps: int = Field(48000, ge=1, description="training steps of each arm: about 98 passes of 256 frames over "
                       "the full run's 125,000 (at 8,000 the policies reproduced 0.80-0.87 of their own training "
                       "scenes, at 36,000 0.86-0.91 with two arms under 0.9x of the expert; at 48,000 0.89-0.93, "
                       "every arm at >= 0.9x in three runs, experts 13, 14 and 15; docs/benchmarks/physics.md)")
    batch_size: int = 256
    act_steps: int | None = Field(
        None, ge=1, description="training steps of the ACT arm (None: the same as ``steps``; the issue asks for the "
        "same steps within a mode, and ACT's smaller batch of 64 frames costs 0.021 s of CPU a step against the "
        "XL-VLA arms' 0.007 at 256). At 4,000 steps it reproduced 0.75 of its own training scenes and 0.77 of "
        "fresh seen ones, at 36,000 0.80 and 0.86 (the same data, seeds and scenes; docs/benchmarks/physics.md)")
    act_batch_size: int = 64
    image_size: int = 64
    chunk_size: int = 8
    n_action_steps: int = 4
    wrist_loss_share: float | None = 0.5
    proprio: Literal["wrist+hand", "wrist"] = Field(
        "wrist+hand", description="what the XL-VLA arms read of their own state: the wrist and the hand's joints "
        "(in the arm's space), or the wrist alone (an ablation: a held-out hand's joint state is out of the "
        "training distribution)")
    scene: Literal["wrist", "wrist+tips"] = Field(
        "wrist", description="what the state policies read of the scene: the object and goal relative to the "
        "wrist (and the object's size, pose, lift, the button's travel), or that and the object relative to the "
        "thumb and index tips (an ablation: how far to move depends on the hand's fingers, which a held-out "
        "hand's wrist-relative position cannot show)")
    frame: Literal["wrist", "grasp"] = Field(
        "grasp", description="where the policies' wrist entries are measured from: the wrist, or each hand's "
        "grasp point (the mean centre of its reference grasps, from its model alone; "
        ":mod:`xlsdk.bench.physics.grasp_frame`), so one command puts any hand's grasp at the same place")
    execution: Literal["receding", "ensemble"] = Field(
        "ensemble", description="how the XL-VLA arms execute their chunks: a receding horizon (a chunk every "
        "n_action_steps, its first n_action_steps actions executed) or temporal ensembling (a chunk every step, "
        "the live chunks' actions for the step averaged)")
    act_execution: Literal["receding", "ensemble"] = Field(
        "receding", description="how the ACT arm executes its chunks: LeRobot's receding queue, or the XL-VLA arms' "
        "temporal ensembling over absolute commands (LeRobot's own ensembler would average wrist targets "
        "relative to different anchors)")
    seeds: tuple[int, ...] = (0, 1, 2)
    fit_steps: int | None = Field(None, ge=1, description="a cap on the zero-shot hands' head fit (None: `xlsdk "
                                  "fit`'s defaults, what a vendor runs; it stops early at its quality targets)")
    fit_cycle_weight: float = Field(1.0, ge=0.0, description="the zero-shot hands' fit's latent cycle (`xlsdk fit "
                                    "--cycle-weight`): a latent policy reads a hand's state through its encoder")
    data_seed: int = 0
    workers: int = Field(default_factory=default_workers, ge=1)
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="where the arms train: a GPU when torch sees one (auto), or the one named; evaluation "
        "runs on the CPU beside the physics. Every figure in docs/benchmarks/physics.md was trained on the CPU; the "
        "vision full run's training (about 250,000 s of CPU at 0.43 s a step) needs a GPU")
    strips: bool = True

    def ensembles(self, arm: str) -> bool:
        """Whether ``arm`` executes its chunks with temporal ensembling (else a receding horizon)."""
        return (self.act_execution if arm == "act-latent" else self.execution) == "ensemble"

    @property
    def act_training_steps(self) -> int:
        return self.steps if self.act_steps is None else self.act_steps

    @classmethod
    def quick(cls, **overrides: Any) -> PhysicsBenchConfig:
        """50 demonstrations per hand x task, fewer evaluation episodes, the three arms of :data:`QUICK_ARMS`.
        The XL-VLA arms train 4,000 steps (32 passes over the 31,640 frames): at 1,500 they reproduced 0.73-0.80
        of their own training scenes, at 6,000 0.84-0.90, but the expert's grasp choice grew (size bands, trials
        under noise: 458-591 s of CPU before the first demonstration, half the run with the demonstrations) and
        four arms at 6,000 steps took 16 min 53 s on 2 cores (1,920 s of CPU), over the 15 asked
        (docs/benchmarks/physics.md). ACT stays at 1,500: its 0.034 s of CPU a step at 6,000 would add 450 s."""
        return cls(**{"demos_per_task": 50, "eval_scenes": 2, "validation_scenes": 1, "checkpoints": 2,
                      "training_scene_checks": 2, "steps": 4000, "act_steps": 1500, "arms": QUICK_ARMS,
                      **overrides})


#: CPU seconds of one training step at the benchmark's batches (ACT 64 frames, the XL-VLA arms 256; measured on
#: one core, 2026-12-06): only their ratio matters, to queue the longest training jobs first
STEP_CPU_S = {"act": 0.034, "xlvla": 0.010}


class TrainingBudget(NamedTuple):
    """What one arm x seed is trained for: ``steps`` of ``batch`` frames, weights kept at ``snapshots`` (the
    checkpoint choice's candidates), about ``cpu_s`` seconds of one core (what orders the training queue)."""

    steps: int
    batch: int
    snapshots: tuple[int, ...]
    cpu_s: float


def training_budget(config: PhysicsBenchConfig, arm: str) -> TrainingBudget:
    """``arm``'s :class:`TrainingBudget` under ``config`` (ACT has steps and a batch of its own)."""
    act = arm == "act-latent"
    steps, batch = (config.act_training_steps, config.act_batch_size) if act else (config.steps, config.batch_size)
    snapshots = tuple(sorted({max(1, round(steps * (i + 1) / config.checkpoints)) for i in range(config.checkpoints)}))
    return TrainingBudget(steps, batch, snapshots, steps * STEP_CPU_S["act" if act else "xlvla"])


class ComboRecord(BaseModel):
    model_config = ConfigDict(frozen=True)
    hand: str
    task: str
    split: str
    success: dict[str, Rate]
    expert_success: Rate
    #: per arm, the replay of scenes of this combination's own demonstrations (seen combinations only; empty
    #: where none were replayed): which cells a policy fails to reproduce, not only how many in all
    training_success: dict[str, Rate] = Field(default_factory=dict)
    #: the expert on those same scenes (it succeeded on each when it made the demonstration)
    expert_training_success: Rate | None = None
    note: str = ""


class Infeasible(BaseModel):
    """A hand x task the expert cannot do, with what was measured."""

    model_config = ConfigDict(frozen=True)
    hand: str
    task: str
    reason: str


class ReportPart(BaseModel):
    """One run of a report merged from runs of the same protocol (:mod:`~xlsdk.bench.physics.merge`): the arms
    whose results it gave, its command and its time."""

    model_config = ConfigDict(frozen=True)
    command: str
    arms: list[str]
    seconds: float
    cpu_seconds: float | None = None


class PhysicsBenchReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    config: PhysicsBenchConfig
    summary: dict[str, dict[str, Rate]]  # arm -> split -> success (feasible combinations)
    expert_summary: dict[str, Rate]  # split -> the expert's success (the ceiling)
    combos: list[ComboRecord]
    infeasible: list[Infeasible]
    demonstrations: dict[str, dict[str, dict[str, int]]]  # hand -> task -> {attempted, kept}
    grasp_points: dict[str, list[float]] = Field(
        default_factory=dict, description="each hand's grasp point (palm frame, metres) where the policies ran in "
        "the grasp frame (``frame='grasp'``)")
    dart_levels: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="hand -> task -> the share of DART's noise its demonstrations got "
        "(calibrated per hand x task, expert.dart_level)")
    learning_curves: dict[str, dict[int, float]]  # arm -> step -> validation success (mean over seeds)
    chosen_checkpoints: dict[str, list[int]]  # arm -> the step chosen per seed
    train_frames: int
    raw_width: int
    latency_ms: dict[str, float]
    final_loss: dict[str, list[float]]
    seconds: float
    cpu_seconds: dict[str, float] = Field(default_factory=dict, description="CPU time per phase, every process")
    command: str
    strips: dict[str, str] = Field(default_factory=dict, description="hand/task/arm -> PNG of an episode strip")
    parts: list[ReportPart] = Field(default_factory=list, description="where the report was merged from runs that "
                                    "measured different arms (xlsdk.bench.physics.merge): each run; empty: one run "
                                    "measured it all (``seconds`` and ``cpu_seconds`` are then the whole run's, "
                                    "else the last part's)")

    def summary_table(self) -> str:
        arms = list(self.summary)
        lines = ["| split | " + " | ".join(arms) + " | expert (ceiling) |", "|---" * (len(arms) + 2) + "|"]
        for split in (*SPLITS, TRAINING_SCENES):
            if split not in self.expert_summary:
                continue
            lines.append(f"| {split} | " + " | ".join(self.summary[a][split].text() for a in arms)
                         + f" | {self.expert_summary[split].text()} |")
        return "\n".join(lines)

    def combo_table(self) -> str:
        arms = list(self.summary)
        lines = ["| hand | task | split | " + " | ".join(arms) + " | expert |", "|---" * (len(arms) + 4) + "|"]
        for combo in self.combos:
            cells = [combo.success[a].text() if a in combo.success else "n/a" for a in arms]
            note = f" ({combo.note})" if combo.note else ""
            lines.append(f"| {combo.hand} | {combo.task} | {combo.split}{note} | " + " | ".join(cells)
                         + f" | {combo.expert_success.text()} |")
        return "\n".join(lines)

    def training_table(self) -> str:
        """Per seen combination, each arm on scenes of its own demonstrations (pooled over seeds) and the expert."""
        arms = list(self.summary)
        rows = [combo for combo in self.combos if combo.training_success]
        if not rows:
            return "This report holds no per-combination replay of training scenes."
        lines = ["| hand | task | " + " | ".join(arms) + " | expert |", "|---" * (len(arms) + 3) + "|"]
        for combo in rows:
            cells = [combo.training_success[a].text() if a in combo.training_success else "n/a" for a in arms]
            expert = combo.expert_training_success.text() if combo.expert_training_success else "n/a"
            lines.append(f"| {combo.hand} | {combo.task} | " + " | ".join(cells) + f" | {expert} |")
        return "\n".join(lines)

    def infeasible_table(self) -> str:
        if not self.infeasible:
            return "The expert can do every hand x task."
        lines = ["| hand | task | why the expert cannot do it (measured) |", "|---|---|---|"]
        lines += [f"| {i.hand} | {i.task} | {i.reason} |" for i in self.infeasible]
        return "\n".join(lines)

    def table(self) -> str:
        return "\n\n".join((self.combo_table(), self.training_table(), self.summary_table(), self.infeasible_table()))


def tally(outcome: list[bool] | None) -> tuple[int, int]:
    """(successes, episodes) of one job's outcomes; None (a hand an arm cannot drive) counts as no episodes."""
    return (sum(outcome), len(outcome)) if outcome is not None else (0, 0)


def reproduce_command(*, quick: bool, obs: str = "state", zero_shot: tuple[str, ...] = (),
                      proprio: str = "wrist+hand", scene: str = "wrist", frame: str = "grasp",
                      execution: str = "ensemble", act_execution: str = "receding", fit_cycle_weight: float = 1.0,
                      arms: tuple[str, ...] | None = None, steps: int | None = None, seeds: int = 3,
                      device: str = "auto") -> str:
    """The CLI line that reruns a benchmark run (recorded in its report and docs block); options left at their
    defaults are left out (``arms``: None or the mode's own, :data:`QUICK_ARMS` or :data:`ARMS`)."""
    default_arms = QUICK_ARMS if quick else ARMS
    return harness.reproduce_command("physics", quick=quick,
                                     options=[f"--obs {obs}", *(f"--zero-shot-hand {name}" for name in zero_shot),
                                              *([f"--arms {','.join(arms)}"] if arms and tuple(arms) != default_arms else []),
                                              *([f"--steps {steps}"] if steps else []),
                                              *([f"--seeds {seeds}"] if seeds != 3 else []),
                                              *([f"--proprio {proprio}"] if proprio != "wrist+hand" else []),
                                              *([f"--scene {scene}"] if scene != "wrist" else []),
                                              *([f"--frame {frame}"] if frame != "grasp" else []),
                                              *([f"--execution {execution}"] if execution != "ensemble" else []),
                                              *([f"--act-execution {act_execution}"]
                                                if act_execution != "receding" else []),
                                              *([f"--fit-cycle-weight {fit_cycle_weight:g}"]
                                                if fit_cycle_weight != 1.0 else []),
                                              *([f"--device {device}"] if device != "auto" else [])])


def split_of(config: PhysicsBenchConfig, hand: str, task: str, zero_shot: list[str]) -> str:
    return harness.split_of(hand, task, held_out_hand=config.held_out_hand, held_out_combos=config.held_out_combos,
                            zero_shot=zero_shot)


def run_physics_bench(config: PhysicsBenchConfig, out_dir: Path, *, progress: bool = True,
                      command: str = "xlsdk bench physics") -> PhysicsBenchReport:
    """Run the whole protocol; every random draw is seeded from ``config`` and the caller's RNG is left alone."""
    from xlsdk.training import global_rng_untouched

    with global_rng_untouched():
        return _Run(config, out_dir, progress, command).run()


class _Run:
    """One benchmark run's state, phase by phase (each phase a method, in the order they run)."""

    def __init__(self, config: PhysicsBenchConfig, out_dir: Path, progress: bool, command: str) -> None:
        from xlsdk.training import resolve_device

        self.config, self.out_dir, self.progress, self.command = config, out_dir, progress, command
        # resolved here, before any work: a run asked for a GPU it cannot have fails now, not after an hour of
        # demonstrations (resolve_device raises with the fix)
        self.device = resolve_device(config.device).type
        self.started = time.perf_counter()
        self.parent_cpu_start = time.process_time()

    def run(self) -> PhysicsBenchReport:
        import xlsdk
        from xlsdk.bench.physics.zero_shot import onboard

        config = self.config
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name in config.zero_shot_hands:
            xlsdk.load_hand(name)  # an unknown name fails here, before any work
        cache = self.out_dir.parent / "zero-shot-cache"
        onboard_start = time.process_time()
        self.zero_shot = list(config.zero_shot_hands) + [
            onboard(name, cache, fit_steps=config.fit_steps, cycle_weight=config.fit_cycle_weight,
                    progress=self.progress) for name in config.zero_shot_corpus]
        onboarding_cpu = time.process_time() - onboard_start
        zero_shot_jobs = [(name, str(cache), config.fit_steps, config.fit_cycle_weight)
                          for name in config.zero_shot_corpus]
        self.eval_hands = [*config.hands, *[h for h in self.zero_shot if h not in config.hands]]
        self.training_hands = [h for h in config.hands if h != config.held_out_hand and h not in self.zero_shot]
        with Pool(config.workers, zero_shot_jobs) as self.pool:
            self.pool.cpu["zero-shot onboarding (new-hand + fit)"] = onboarding_cpu
            self.synthesise_grasps()
            shards = self.demonstrations()
            ceiling = self.submit_ceiling()  # needs no policy: the workers run it while this process merges
            frames = self.read(self.merge(*shards))
            weights, losses, curves, chosen = self.train(frames)
            results = self.evaluate(weights, ceiling)
        return self.report(results, losses, curves, chosen, weights)

    # --- 1. grasps and demonstrations -------------------------------------------------------------

    def synthesise_grasps(self) -> None:
        """Every grasp the expert can need, each synthesised once in the pool and handed to every job of its
        hand and task (otherwise each worker would synthesise the same grasps again: more than half of a
        shard's CPU time was grasp synthesis)."""
        config = self.config
        calls = grasp_calls(self.eval_hands, tuple(config.tasks), lambda hand: (
            [t for t in config.tasks if (hand, t) not in config.held_out_combos]
            if config.dart and hand in self.training_hands else []))
        with step_progress("grasp synthesis", len(calls), enabled=self.progress) as bar:
            found = self.pool.map("grasp synthesis and DART calibration", grasp_job, calls, done=bar.update)
        self.known = known_per_hand(calls, found)
        self.points: dict[str, tuple[float, ...] | None] = {hand: None for hand in self.eval_hands}
        if config.frame == "grasp":
            import xlsdk
            from xlsdk.bench.physics.grasp_frame import grasp_point
            from xlsdk.bench.physics.jobs import warm

            for hand in self.eval_hands:
                warm(self.known[hand])
                self.points[hand] = tuple(float(v) for v in grasp_point(xlsdk.load_hand(hand), config.tasks))


    def _recipe(self, hand: str) -> dict[str, Any]:
        c = self.config
        return {"hand": hand, "tasks": [t for t in c.tasks if (hand, t) not in c.held_out_combos],
                "demos_per_task": c.demos_per_task, "shard_size": c.shard_size, "cap": c.attempts_per_demo,
                "obs": c.obs, "image_size": c.image_size if c.obs == "vision" else None, "dart": c.dart,
                "data_seed": c.data_seed, "expert": EXPERT_VERSION, "scene_features": list(SCENE_FEATURES)}

    def demonstrations(self) -> tuple[list[str], dict[str, list[Path]], list[Path]]:
        """Shards in waves until every combination has its demonstrations: the hands made now, their shards
        and the datasets a cache already held (:meth:`merge` makes one dataset per hand of the shards)."""
        config = self.config
        data_dir = self.out_dir / "datasets"
        self.kept: dict[tuple[str, str], list[int]] = {}
        self.attempted: dict[tuple[str, str], int] = {}
        roots: list[Path] = []
        todo = []
        for hand in self.training_hands:
            record = _reusable(data_dir / hand, self._recipe(hand))
            if record is not None:
                for task, scenes in record["kept"].items():
                    self.kept[(hand, task)] = scenes
                    self.attempted[(hand, task)] = record["attempted"][task]
                if any(record["kept"].values()):
                    roots.append(data_dir / hand)
                continue
            todo.append(hand)
        combos = [(hand, task) for hand in todo for task in config.tasks if (hand, task) not in config.held_out_combos]
        cap = int(np.ceil(config.demos_per_task * config.attempts_per_demo))
        shard_roots: dict[str, list[Path]] = {hand: [] for hand in todo}
        staging = self.out_dir / "shards"
        next_first = dict.fromkeys(combos, 0)
        for combo in combos:
            self.kept[combo], self.attempted[combo] = [], 0
        with step_progress("expert demonstrations", len(combos) * config.demos_per_task,
                           enabled=self.progress) as bar:
            while True:
                wave = []
                for combo in combos:
                    missing = config.demos_per_task - len(self.kept[combo])
                    if missing <= 0 or next_first[combo] >= cap or self._hopeless(combo):
                        continue
                    expected = 0.9 if not self.attempted[combo] else max(len(self.kept[combo]) / self.attempted[combo],
                                                                          0.2)
                    want = min(int(np.ceil(missing / expected)), cap - next_first[combo])
                    while want > 0:  # shards of shard_size scenes, so every shard is the same unit of work
                        count = min(config.shard_size, want)
                        wave.append(Shard(hand=combo[0], task=combo[1], first=next_first[combo], count=count,
                                          obs=config.obs, image_size=config.image_size, data_seed=config.data_seed,
                                          dart=config.dart))
                        next_first[combo] += count
                        want -= count
                if not wave:
                    break
                results: list[ShardResult] = self.pool.map(
                    "expert demonstrations (shards)", shard_job,
                    [(shard, str(staging / shard.name), self.known[shard.hand]) for shard in wave])
                for result in results:
                    combo = (result.shard.hand, result.shard.task)
                    self.attempted[combo] += result.shard.count
                    self.kept[combo].extend(result.kept)
                    if result.root:
                        shard_roots[combo[0]].append(Path(result.root))
                bar.update(sum(min(len(self.kept[c]), config.demos_per_task) for c in combos))
        return todo, shard_roots, roots

    def merge(self, todo: list[str], shard_roots: dict[str, list[Path]], roots: list[Path]) -> list[Path]:
        """One dataset per hand of its shards (LeRobot's aggregation), its recipe beside it for the cache."""
        from xlsdk.bench.physics.dataset import merge_shards

        config, data_dir, staging = self.config, self.out_dir / "datasets", self.out_dir / "shards"
        roots = list(roots)
        start = time.process_time()
        for hand in todo:
            if (data_dir / hand).exists():
                shutil.rmtree(data_dir / hand)
            if shard_roots[hand]:
                merge_shards(sorted(shard_roots[hand]), data_dir / hand, f"xlsdk/physics_{hand}")
                roots.append(data_dir / hand)
            record = {"kept": {t: sorted(self.kept[(hand, t)]) for t in config.tasks if (hand, t) in self.kept},
                      "attempted": {t: self.attempted[(hand, t)] for t in config.tasks if (hand, t) in self.kept}}
            if shard_roots[hand]:
                _write_recipe(data_dir / hand, self._recipe(hand), record)
        if staging.exists():
            shutil.rmtree(staging)
        self.pool.cpu["merging shards (LeRobot aggregation)"] = time.process_time() - start
        return sorted(roots)

    def _dart_levels(self) -> dict[str, dict[str, float]]:
        """The DART levels the pool calibrated, hand -> task -> level (the report's ``dart_levels``)."""
        levels: dict[str, dict[str, float]] = {}
        for hand, known in self.known.items():
            for key, value in known:
                if len(key) == 2 and key[0] == "dart":
                    levels.setdefault(hand, {})[key[1][-1]] = value
        return levels

    def _dart_level(self, hand: str, task: str) -> float:
        """The DART level the pool calibrated for ``hand`` x ``task`` (1.0 where it calibrated none)."""
        return self._dart_levels().get(hand, {}).get(task, 1.0)

    def _hopeless(self, combo: tuple[str, str]) -> bool:
        """After a first full shard, an expert that kept under a fifth of its scenes gets no more tries: the
        combination will be reported as one it cannot do, and its attempts would cost the run most of its
        demonstration time."""
        attempted = self.attempted[combo]
        return attempted >= self.config.shard_size and len(self.kept[combo]) < 0.2 * attempted

    # --- 2. reading and training ------------------------------------------------------------------

    def read(self, roots: list[Path]) -> Any:
        from xlsdk.bench.physics.dataset import read_frames

        start = time.process_time()
        frames = read_frames(roots, history=2, chunk=self.config.chunk_size, images=self.config.obs == "vision",
                             scene=self.config.scene)
        self.pool.cpu["reading the datasets (LeRobot)"] = time.process_time() - start
        return frames

    def train(self, frames: Any) -> tuple[dict, dict, dict, dict]:
        """Every arm x seed trained in the pool, then its checkpoint chosen by rollouts on validation scenes."""
        import xlsdk
        from xlsdk.bench.physics.policies import policy_frames, xlvla_training_set

        config = self.config
        self.raw_width = max(xlsdk.load_hand(name).dof for name in self.eval_hands)
        hands = {name: xlsdk.load_hand(name) for name in sorted(set(frames.hands))}  # the face resolves names
        frames = policy_frames(frames, self.points if config.frame == "grasp" else None)
        start = time.process_time()
        self.policy_configs, sets = {}, {}
        for arm in config.arms:
            if arm == "act-latent":
                from xlsdk.bench.physics.act_arm import act_config, encode_frames

                sets[arm] = encode_frames(frames, config.chunk_size)
                self.policy_configs[arm] = act_config(obs=config.obs, width=sets[arm]["actions"].shape[-1],
                                                      image_size=config.image_size, chunk=config.chunk_size,
                                                      n_action_steps=config.n_action_steps, scene=config.scene)
                continue
            self.policy_configs[arm], sets[arm] = xlvla_training_set(
                arm, frames, hands, obs=config.obs, raw_width=self.raw_width, image_size=config.image_size,
                chunk_size=config.chunk_size, n_action_steps=config.n_action_steps,
                wrist_loss_share=config.wrist_loss_share, proprio=config.proprio, scene=config.scene)
        self.train_frames = len(frames.states)
        self.pool.cpu["encoding the frames into each action space"] = time.process_time() - start
        budgets = {arm: training_budget(config, arm) for arm in config.arms}
        # the longest jobs first (longest-processing-time order), so the pool does not end on one long job with
        # the other cores idle: with ACT queued last, one of two cores sat out most of the last ACT run (by the
        # step costs, the full run's training ends about 6 minutes sooner this way, the quick run's about 10 s).
        # The results do not depend on the order.
        jobs = sorted(((arm, seed) for arm in config.arms for seed in config.seeds),
                      key=lambda job: -budgets[job[0]].cpu_s)
        with step_progress("train arms x seeds", len(jobs), enabled=self.progress) as bar:
            trained = self.pool.map("training", train_job,
                                    [(arm, self.policy_configs[arm], sets[arm], budgets[arm].steps, budgets[arm].batch,
                                      seed, budgets[arm].snapshots, config.wrist_loss_share, self.device)
                                     for arm, seed in jobs],
                                    done=bar.update)
        snapshots = {job: result[0] for job, result in zip(jobs, trained, strict=True)}
        losses = {arm: [round(float(np.mean(trained[i][1][-50:])), 5) for i, (a, _) in enumerate(jobs) if a == arm]
                  for arm in config.arms}
        # the checkpoint of every arm x seed chosen by rollouts on the validation scenes of the seen combinations
        validation = {combo: [scene_of(combo[1], i, stream=VALIDATION_STREAM) for i in range(config.validation_scenes)]
                      for combo in self.seen_combos()}
        calls, keys = [], []
        if config.checkpoints > 1 and config.validation_scenes:
            for (arm, seed), by_step in snapshots.items():
                for step, weights in by_step.items():
                    for (hand, task), scenes in validation.items():
                        calls.append((arm, self.policy_configs[arm], weights, config.obs, config.image_size, hand,
                                      scenes, False, self.points[hand], config.ensembles(arm)))
                        keys.append((arm, seed, step))
        with step_progress("checkpoint choice (rollouts)", len(calls), enabled=self.progress) as bar:
            outcomes = self.pool.map("checkpoint choice (validation rollouts)", policy_job, calls, done=bar.update)
        score: dict[tuple[str, int, int], list[bool]] = {}
        for key, (results, _) in zip(keys, outcomes, strict=True):
            score.setdefault(key, []).extend(results or [])
        chosen_weights, chosen, curves = {}, {arm: [] for arm in config.arms}, {arm: {} for arm in config.arms}
        for (arm, seed), by_step in snapshots.items():
            rates = {step: float(np.mean(score[(arm, seed, step)])) if score.get((arm, seed, step)) else 0.0
                     for step in by_step}
            best = max(by_step, key=lambda step: (rates[step], step))  # ties: the later (longer trained) one
            chosen_weights[(arm, seed)] = by_step[best]
            chosen[arm].append(best)
            for step, rate in rates.items():
                curves[arm].setdefault(step, []).append(rate)
        curves = {arm: {step: round(float(np.mean(v)), 4) for step, v in sorted(by.items())}
                  for arm, by in curves.items()}
        return chosen_weights, losses, curves, chosen

    def seen_combos(self) -> list[tuple[str, str]]:
        return [(hand, task) for hand in self.training_hands for task in self.config.tasks
                if (hand, task) not in self.config.held_out_combos and self.kept.get((hand, task))]

    # --- 3. evaluation ----------------------------------------------------------------------------

    def _evaluation_scenes(self) -> dict[tuple[int, str], list[TaskScene]]:
        config = self.config
        return {(seed, task): [scene_of(task, i, stream=EVAL_STREAM, seed=seed) for i in range(config.eval_scenes)]
                for seed in config.seeds for task in config.tasks}

    def _evaluation_combos(self) -> list[tuple[str, str]]:
        return [(hand, task) for hand in self.eval_hands for task in self.config.tasks]

    def submit_ceiling(self) -> Batch:
        """The expert on every evaluation scene (the ceiling of each cell), queued in the pool."""
        config, scenes, first = self.config, self._evaluation_scenes(), self.config.seeds[0]
        return self.pool.submit("expert ceiling on the evaluation scenes", expert_job,
                                [(hand, scenes[(seed, task)], config.strips and seed == first, self.known[hand])
                                 for seed in config.seeds for hand, task in self._evaluation_combos()])

    def evaluate(self, weights: dict, ceiling: Batch) -> dict[str, Any]:
        """The arms on the evaluation scenes and on scenes of their own training data, the expert beside them.
        Every phase is queued before any is collected, so no worker idles at a phase's end."""
        config = self.config
        scenes, combos, first = self._evaluation_scenes(), self._evaluation_combos(), config.seeds[0]
        policy_calls, policy_keys = [], []
        for arm in config.arms:
            for seed in config.seeds:
                for hand, task in combos:
                    policy_calls.append((arm, self.policy_configs[arm], weights[(arm, seed)], config.obs,
                                         config.image_size, hand, scenes[(seed, task)], config.strips and seed == first,
                                         self.points[hand], config.ensembles(arm)))
                    policy_keys.append((arm, seed, hand, task))
        evaluation = self.pool.submit("evaluate the arms", policy_job, policy_calls)
        # the training-scene replay: every seed's policies on scenes of their own data, the expert beside
        replay = {combo: [scene_of(combo[1], i, stream=TRAIN_STREAM, seed=config.data_seed)
                          for i in self.kept[combo][: config.training_scene_checks]]
                  for combo in self.seen_combos()} if config.training_scene_checks else {}
        replay_calls, replay_keys = [], []
        for arm in config.arms:
            for seed in config.seeds:
                for (hand, task), group in replay.items():
                    replay_calls.append((arm, self.policy_configs[arm], weights[(arm, seed)], config.obs,
                                         config.image_size, hand, group, False, self.points[hand],
                                         config.ensembles(arm)))
                    replay_keys.append((arm, seed, hand, task))
        replaying = self.pool.submit("replay of training scenes", policy_job, replay_calls)
        replaying_expert = self.pool.submit("expert ceiling on the training scenes", expert_job,
                                            [(hand, group, False, self.known[hand])
                                             for (hand, task), group in replay.items()])
        with step_progress("expert ceiling", len(ceiling), enabled=self.progress) as bar:
            expert = ceiling.results(done=bar.update)
        with step_progress("evaluate arms", len(evaluation), enabled=self.progress) as bar:
            outcomes = evaluation.results(done=bar.update)
        with step_progress("replay training scenes", len(replaying), enabled=self.progress) as bar:
            replayed = replaying.results(done=bar.update)
        replay_expert = replaying_expert.results()
        return {"expert": dict(zip([(s, h, t) for s in config.seeds for h, t in combos], expert, strict=True)),
                "policy": dict(zip(policy_keys, outcomes, strict=True)),
                "replay": dict(zip(replay_keys, replayed, strict=True)),
                "replay_expert": dict(zip(list(replay), replay_expert, strict=True))}

    # --- 4. the report ----------------------------------------------------------------------------

    def infeasible(self) -> list[Infeasible]:
        """Training combinations where the expert kept under half of the scenes it tried, with the numbers
        (feasibility is judged on the DART demonstrations, the scenes it had the most tries on): how each
        grasp it could use did in the choice, and how far the chosen grasp's fingertips are from the surface."""
        import xlsdk
        from xlsdk.bench.physics.expert import choice_key, describe_choice, grasp_residual_mm

        out = []
        for (hand, task), kept in sorted(self.kept.items()):
            attempted = self.attempted[(hand, task)]
            if attempted and len(kept) / attempted < 0.5:
                loaded = xlsdk.load_hand(hand)
                residual = grasp_residual_mm(loaded, task)
                known, key = dict(self.known.get(hand, [])), choice_key(loaded, task)
                _, tried = describe_choice(task, known.get(("choice", key)), known.get(("trials", key), ()))
                out.append(Infeasible(hand=hand, task=task, reason=(
                    f"the expert succeeded in {len(kept)} of {attempted} demonstration scenes (DART noise on, "
                    f"{self._dart_level(hand, task):g} of its full scale)"
                    + (f"; how each grasp did in the choice (lifted of tried, lifted again under noise): {tried}"
                       if tried else "")
                    + (f"; the chosen grasp's fingertips end {residual:.1f} mm from the object's surface (FK)"
                       if residual is not None else ""))))
        return out

    def report(self, results: dict[str, Any], losses: dict, curves: dict, chosen: dict,
               weights: dict) -> PhysicsBenchReport:
        import xlsdk
        from xlsdk.bench.physics.policies import runner_from_weights

        config = self.config
        infeasible = self.infeasible()
        skip = {(i.hand, i.task) for i in infeasible}
        combos, strips = [], {}
        per_split: dict[str, dict[str, list[list[tuple[int, int]]]]] = {}
        for hand in self.eval_hands:
            for task in config.tasks:
                split = split_of(config, hand, task, self.zero_shot)
                expert_counts = []
                for seed in config.seeds:
                    outcome, picture = results["expert"][(seed, hand, task)]
                    expert_counts.append(tally(outcome))
                    if picture is not None:
                        strips[f"{hand}/{task}/expert"] = picture
                success = {}
                for arm in config.arms:
                    counts = []
                    for seed in config.seeds:
                        outcome, picture = results["policy"][(arm, seed, hand, task)]
                        counts.append(tally(outcome))
                        if picture is not None:
                            strips[f"{hand}/{task}/{arm}"] = picture
                    success[arm] = Rate.of(counts)
                    if (hand, task) not in skip:
                        per_split.setdefault(split, {}).setdefault(arm, []).append(counts)
                if (hand, task) not in skip:
                    per_split.setdefault(split, {}).setdefault("expert", []).append(expert_counts)
                note = "no data for this hand" if split in (HELD_OUT_HAND, ZERO_SHOT_HAND) else ""
                if (hand, task) in skip:
                    note = "the expert cannot do it"
                elif (expert_rate := Rate.of(expert_counts)).mean < EXPERT_BAR:
                    note = "; ".join(filter(None, [note, below_bar_note(xlsdk.load_hand(hand), task, expert_rate,
                                                                        self.known.get(hand, []))]))
                replay = results["replay"]
                replayed = {arm: Rate.of([tally(replay[(arm, seed, hand, task)][0]) for seed in config.seeds])
                            for arm in config.arms if (arm, config.seeds[0], hand, task) in replay}
                expert_replay = results["replay_expert"].get((hand, task))
                combos.append(ComboRecord(hand=hand, task=task, split=split, success=success,
                                          expert_success=Rate.of(expert_counts), training_success=replayed,
                                          expert_training_success=None if expert_replay is None else
                                          Rate.of([tally(expert_replay[0])]), note=note))
        summary: dict[str, dict[str, Rate]] = {arm: {} for arm in config.arms}
        expert_summary: dict[str, Rate] = {}
        for split in SPLITS:
            if split not in per_split:
                continue
            for name, cells in per_split[split].items():
                pooled = [(sum(c[i][0] for c in cells), sum(c[i][1] for c in cells)) for i in range(len(config.seeds))]
                (expert_summary if name == "expert" else summary[name])[split] = Rate.of(pooled)
        if results["replay"]:
            for arm in config.arms:
                pooled = []
                for seed in config.seeds:
                    outcomes = [results["replay"][(arm, seed, h, t)][0] or [] for h, t in results["replay_expert"]
                                if (h, t) not in skip]
                    pooled.append((sum(sum(o) for o in outcomes), sum(len(o) for o in outcomes)))
                summary[arm][TRAINING_SCENES] = Rate.of(pooled)
            expert_outcomes = [o for (combo, (o, _)) in results["replay_expert"].items() if combo not in skip]
            expert_summary[TRAINING_SCENES] = Rate.of([(sum(sum(o) for o in expert_outcomes),
                                                        sum(len(o) for o in expert_outcomes))])
        latency = {}
        start = time.process_time()
        probe = xlsdk.load_hand(self.training_hands[0])
        for arm in config.arms:
            runner = runner_from_weights(arm, self.policy_configs[arm], weights[(arm, config.seeds[0])], config.obs,
                                         config.image_size)
            latency[arm] = round(runner.latency_ms(probe), 3)
        self.pool.cpu["latency"] = time.process_time() - start
        demonstrations = {hand: {task: {"attempted": self.attempted[(hand, task)], "kept": len(self.kept[(hand, task)])}
                                 for task in config.tasks if (hand, task) in self.kept}
                          for hand in self.training_hands}
        cpu = {phase: round(seconds, 1) for phase, seconds in self.pool.cpu.items()}
        # this process's own time, plus the workers' (inline jobs are already inside this process's time)
        cpu["total"] = round(time.process_time() - self.parent_cpu_start
                             + (self.pool.jobs_cpu if self.pool.workers > 1 else 0.0), 1)
        return PhysicsBenchReport(config=config, summary=summary, expert_summary=expert_summary, combos=combos,
                                  infeasible=infeasible, demonstrations=demonstrations, dart_levels=self._dart_levels(),
                                  grasp_points={h: [round(v, 5) for v in p] for h, p in self.points.items() if p},
                                  learning_curves=curves,
                                  chosen_checkpoints=chosen, train_frames=self.train_frames, raw_width=self.raw_width,
                                  latency_ms=latency, final_loss=losses, seconds=round(time.perf_counter() - self.started, 1),
                                  cpu_seconds=cpu, command=self.command,
                                  strips=_write_strips(strips, self.out_dir) if config.strips else {})


#: the issue's bar for the expert: >= 0.9 on every hand x task it can do. A cell it does but below the bar gets
#: a note in the report (:func:`below_bar_note`), so a low ceiling is never read without its reason
EXPERT_BAR = 0.9


def below_bar_note(hand: Hand, task: str, rate: Rate, known: list[tuple[tuple, Any]]) -> str:
    """What the report says of a cell whose expert is below :data:`EXPERT_BAR`: its rate, the grasp it used (per
    size band) and how every grasp option did in the choice, from ``known`` (what the pool's grasp jobs found
    for ``hand``: :func:`~xlsdk.bench.physics.jobs.grasp_job`)."""
    from xlsdk.bench.physics.expert import choice_key, describe_choice

    found, key = dict(known), choice_key(hand, task)
    grasp, tried = describe_choice(task, found.get(("choice", key)), found.get(("trials", key), ()))
    return (f"the expert at {rate.mean:.2f}, below {EXPERT_BAR:g}, grasping with {grasp}"
            + (f"; how each grasp did in the choice (lifted of tried, lifted again under noise): {tried}"
               if tried else ""))


#: bumped whenever the expert's behaviour changes, so cached demonstrations of an older expert are rewritten
EXPERT_VERSION = 15


def _reusable(root: Path, recipe: dict[str, Any]) -> dict[str, Any] | None:
    """What a dataset written by the same recipe kept (scene indices per task), or None (rewrite it)."""
    try:
        record = json.loads((root / RECIPE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("recipe") != recipe or not (root / "meta" / "info.json").is_file() or "kept" not in record:
        return None
    return record


def _write_recipe(root: Path, recipe: dict[str, Any], record: dict[str, Any]) -> None:
    from xlsdk.files import write_json_atomic

    write_json_atomic(root / RECIPE, {"recipe": recipe, **record})


def _write_strips(strips: dict[str, np.ndarray], out_dir: Path) -> dict[str, str]:
    from PIL import Image

    folder = out_dir / "strips"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for key, image in sorted(strips.items()):
        path = folder / (key.replace("/", "__") + ".png")
        Image.fromarray(image).save(path)
        files[key] = str(path.relative_to(out_dir))
    return files


def write_report(report: PhysicsBenchReport, out_dir: Path) -> Path:
    """``physics.json``, ``physics.md`` and ``physics.html`` in ``out_dir``; returns the JSON's path."""
    return harness.write_report_files(report, out_dir, "physics", html=html_report(report))


def html_report(report: PhysicsBenchReport) -> str:
    """A self-contained page: the summary, the per hand x task table, an episode strip per combination."""
    import html

    def table(markdown: str) -> str:
        rows = [line.strip("|").split("|") for line in markdown.splitlines() if not line.startswith("|---")]
        if not rows:
            return ""
        head, body = rows[0], rows[1:]
        return ("<table><tr>" + "".join(f"<th>{html.escape(c.strip())}</th>" for c in head) + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in row) + "</tr>" for row in body)
                + "</table>")

    curves = "".join(f"<li>{html.escape(arm)}: " + ", ".join(f"step {s}: {r:.2f}" for s, r in by.items()) + "</li>"
                     for arm, by in report.learning_curves.items())
    parts = ["<!doctype html><meta charset='utf-8'><title>xlsdk physics benchmark</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:3px 8px}img{image-rendering:pixelated;height:192px}</style>",
             f"<h1>Physics cross-hand benchmark</h1><p><code>{html.escape(report.command)}</code>, "
             f"{report.seconds:.0f} s, seeds {list(report.config.seeds)}, observations: {report.config.obs}; "
             "success is the mean over seeds [Wilson 95 % interval].</p>",
             "<h2>Summary</h2>", table(report.summary_table()), "<h2>Per hand and task</h2>", table(report.combo_table()),
             "<h2>What the expert cannot do</h2>", table(report.infeasible_table()) or "<p>nothing</p>",
             f"<h2>Learning curves (validation success per snapshot)</h2><ul>{curves}</ul>",
             f"<h2>Episodes (seed {report.config.seeds[0]}: the fixed camera above the wrist camera, every "
             "5th control step)</h2>"]
    for key, file in sorted(report.strips.items()):
        parts.append(f"<p>{html.escape(key)}<br><img src='{html.escape(file)}'></p>")
    return "\n".join(parts)
