"""The physics cross-hand benchmark: latent chunks vs padded raw joints, decided by contact in MuJoCo.

1. For every training hand, the scripted expert (:mod:`~xlsdk.bench.physics.expert`) runs every
   task on ``scenes_per_task`` seeded scenes; its successful episodes become a LeRobot v3 dataset
   (:mod:`~xlsdk.bench.physics.dataset`). Some hand x task combinations are dropped from
   training (held-out combinations); one whole hand never has data (held-out hand); zero-shot hands are
   onboarded from the test corpus through ``new-hand`` + ``fit`` (:mod:`~xlsdk.bench.physics.zero_shot`)
   or named with ``--zero-shot-hand``.
2. Per seed, the same XL-VLA network (patch-token vision over 96x96 wrist-camera images) is trained on
   the same frames for the same steps twice: ``latent`` (the hand part of each action is a chunk of
   the shared latent, through each hand's frozen head) and ``raw`` (joints scaled by the hand's limits,
   padded to the widest benchmark hand); and a stock LeRobot ACT (``act-latent``) in latent space
   through the processor steps. Every action also carries the 6-d wrist command.
3. Every hand x task is evaluated closed loop on fresh scenes; success comes from object state only.
   The expert's own success on those scenes is the ceiling, reported beside every result.
4. Mean and spread (population standard deviation) over seeds of every split and combination.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.bench.physics.dataset import CAMERA, write_hand_dataset
from xlsdk.bench.physics.tasks import TASKS, TaskScene, sample_scenes
from xlsdk.progress import step_progress

ARMS = ("latent", "raw", "act-latent")
SPLITS = ("seen", "held-out combination", "held-out hand", "zero-shot hand")
#: not a split of fresh scenes: seen combinations replayed on scenes the policy was trained on (the expert
#: succeeded there) by the first seed's policies, which tells "cannot fit its own data" from "does not
#: generalise to new scenes"
TRAINING_SCENES = "seen, training scenes"


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
    scenes_per_task: int = 16
    eval_scenes: int = 4
    steps: int = 2000
    act_steps: int = 600
    batch_size: int = 32
    act_batch_size: int = 32
    image_size: int = 96
    act_image_size: int = 96
    chunk_size: int = 8
    n_action_steps: int = 4
    seeds: tuple[int, ...] = (0, 1, 2)
    fit_steps: int = 600
    data_seed: int = 0
    training_scene_checks: int = Field(1, ge=0, description="training scenes replayed per seen combination "
                                       "(first seed only: a diagnostic, not a split)")

    @classmethod
    def quick(cls, **overrides: Any) -> PhysicsBenchConfig:
        """Under 15 minutes on two CPU cores (about 10 minutes of CPU time): fewer scenes and steps, the same
        protocol. ACT sees its images at 64x64 in batches of 8 here: its from-scratch ResNet-18 costs 1.4 s of
        CPU per 96x96 batch of 32 (0.54 s at 64x64 and 16), more than everything else per step together."""
        return cls(**{"scenes_per_task": 10, "eval_scenes": 1, "steps": 600, "act_steps": 100, "act_batch_size": 8,
                      "act_image_size": 64, "fit_steps": 300, **overrides})


class Spread(BaseModel):
    model_config = ConfigDict(frozen=True)
    mean: float
    spread: float = Field(description="population standard deviation over seeds")
    per_seed: list[float]

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        clean = [v for v in values if np.isfinite(v)]
        if not clean:
            return cls(mean=float("nan"), spread=float("nan"), per_seed=values)
        return cls(mean=round(float(np.mean(clean)), 4), spread=round(float(np.std(clean)), 4), per_seed=values)

    def text(self) -> str:
        return "n/a" if not np.isfinite(self.mean) else f"{self.mean:.2f} ± {self.spread:.2f}"


class ComboRecord(BaseModel):
    model_config = ConfigDict(frozen=True)
    hand: str
    task: str
    split: str
    success: dict[str, Spread]
    expert_success: Spread
    note: str = ""


class PhysicsBenchReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    config: PhysicsBenchConfig
    summary: dict[str, dict[str, Spread]]  # arm -> split -> success over seeds
    expert_summary: dict[str, Spread]  # split -> the expert's success (the ceiling)
    combos: list[ComboRecord]
    training_expert_success: dict[str, dict[str, float]]  # hand -> task -> share of demo scenes kept
    train_frames: int
    raw_width: int
    latency_ms: dict[str, float]
    final_loss: dict[str, list[float]]
    seconds: float
    cpu_seconds: dict[str, float] = Field(default_factory=dict, description="process CPU time per phase (all threads)")
    command: str
    strips: dict[str, str] = Field(default_factory=dict, description="hand/task/arm -> PNG file of an episode strip")

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

    def table(self) -> str:
        return self.combo_table() + "\n\n" + self.summary_table()


def reproduce_command(*, quick: bool, zero_shot: tuple[str, ...] = ()) -> str:
    return ("xlsdk bench physics" + (" --quick" if quick else "")
            + "".join(f" --zero-shot-hand {name}" for name in zero_shot))


def split_of(config: PhysicsBenchConfig, hand: str, task: str, zero_shot: list[str]) -> str:
    if hand in zero_shot:
        return "zero-shot hand"
    if hand == config.held_out_hand:
        return "held-out hand"
    if (hand, task) in config.held_out_combos:
        return "held-out combination"
    return "seen"


def run_physics_bench(config: PhysicsBenchConfig, out_dir: Path, *, progress: bool = True,
                      command: str = "xlsdk bench physics") -> PhysicsBenchReport:
    """Run the whole protocol; every random draw is seeded from ``config`` and the caller's RNG is left alone."""
    from xlsdk.training import global_rng_untouched

    with global_rng_untouched():  # stock LeRobot policies and dropout draw from the global generator
        return _run_physics_bench(config, out_dir, progress=progress, command=command)


def _run_physics_bench(config: PhysicsBenchConfig, out_dir: Path, *, progress: bool,
                       command: str) -> PhysicsBenchReport:
    import xlsdk
    from xlsdk.bench.physics.zero_shot import onboard
    from xlsdk.policy.train import read_demo_frames

    started = time.perf_counter()
    cpu = CpuClock()
    out_dir.mkdir(parents=True, exist_ok=True)
    zero_shot = list(config.zero_shot_hands)
    for name in zero_shot:
        xlsdk.load_hand(name)  # an unknown name fails here, before any work
    with cpu("zero-shot onboarding (new-hand + fit)"):
        for name in config.zero_shot_corpus:
            zero_shot.append(onboard(name, out_dir.parent / "zero-shot-cache", fit_steps=config.fit_steps,
                                     progress=progress))
    eval_hands = [*config.hands, *[h for h in zero_shot if h not in config.hands]]
    training_hands = [h for h in config.hands if h != config.held_out_hand and h not in zero_shot]

    # 1. demonstrations (a hand's dataset from an identical earlier run is reused: same scenes, same expert)
    data_dir = out_dir / "datasets"
    rng = np.random.default_rng(config.data_seed)
    roots, task_of, demos_kept = [], {}, {}
    replay: dict[tuple[str, str], list[TaskScene]] = {}  # seen combination -> training scenes the expert solved
    strips: dict[str, np.ndarray] = {}
    with cpu("expert demonstrations + datasets"), \
            step_progress("physics demos", len(training_hands), enabled=progress) as bar:
        for index, name in enumerate(training_hands):
            hand = xlsdk.load_hand(name)
            scenes = [s for task in config.tasks for s in sample_scenes(task, config.scenes_per_task, rng)]
            task_of.update({s.instruction: s.task for s in scenes})
            recipe = {"hand": name, "position": index, "data_seed": config.data_seed, "tasks": list(config.tasks),
                      "scenes_per_task": config.scenes_per_task, "image_size": config.image_size, "camera": CAMERA}
            record = _reusable(data_dir / name, recipe)
            if record is None:
                if (data_dir / name).exists():
                    shutil.rmtree(data_dir / name)
                demos = write_hand_dataset(hand, scenes, data_dir / name, image_size=config.image_size)
                record = {"kept": {task: round(demos.expert_success(task), 3) for task in config.tasks},
                          "kept_scenes": demos.kept_scenes}
                if demos.root is not None:
                    _write_recipe(data_dir / name, recipe, record)
            demos_kept[name] = record["kept"]
            for position in record["kept_scenes"]:
                scene = scenes[position]
                if (name, scene.task) not in config.held_out_combos:
                    replay.setdefault((name, scene.task), []).append(scene)
            if (data_dir / name / RECIPE).is_file():
                roots.append(data_dir / name)
            bar.update(index + 1, hand=name)

    from xlsdk.bench.physics.policies import make_xlvla_config, train_arm

    base = make_xlvla_config("latent", config, raw_width=1)
    with cpu("reading the datasets (LeRobot)"):
        frames = read_demo_frames(roots, base)
    keep = [(hand, task_of.get(task, task)) not in config.held_out_combos
            for hand, task in zip(frames.hands, frames.tasks, strict=True)]
    raw_width = max(xlsdk.load_hand(name).dof for name in eval_hands)

    # 2-3. per seed: train every arm on the same frames, evaluate every hand x task on fresh scenes
    successes: dict[str, dict[tuple[str, str], list[float]]] = {arm: {} for arm in config.arms}
    expert: dict[tuple[str, str], list[float]] = {}
    losses: dict[str, list[float]] = {arm: [] for arm in config.arms}
    latency: dict[str, float] = {}
    train_frames = int(sum(keep))
    on_training: dict[str, list[float]] = {arm: [] for arm in config.arms}
    for seed in config.seeds:
        scenes = _evaluation_scenes(config, eval_hands, seed)
        with cpu("expert ceiling on the evaluation scenes"):
            for (hand, task), rate in _expert_rates(scenes).items():
                expert.setdefault((hand, task), []).append(rate)
        again = {combo: group[:config.training_scene_checks] for combo, group in sorted(replay.items())
                 if config.training_scene_checks and seed == config.seeds[0]}
        for arm in config.arms:
            with cpu(f"train {arm}"):
                runner, history = train_arm(arm, frames, keep, config, raw_width=raw_width, seed=seed,
                                            progress=progress)
            losses[arm].append(round(float(np.mean(history[-20:])), 5))
            if arm not in latency:
                with cpu("latency"):
                    latency[arm] = runner.latency_ms(xlsdk.load_hand(training_hands[0]))
            first = seed == config.seeds[0]
            with cpu(f"evaluate {arm}"):
                rates = _evaluate(runner, scenes, progress=progress, label=f"{arm} seed {seed}",
                                  strips=strips if first else None)
                if again:
                    replayed = _evaluate(runner, again, progress=progress, label=f"{arm} seed {seed}, training scenes",
                                         strips=None)
                    on_training[arm].append(float(np.nanmean(list(replayed.values()))))
            for combo, rate in rates.items():
                successes[arm].setdefault(combo, []).append(rate)

    combos = []
    for hand in eval_hands:
        for task in config.tasks:
            note = ""
            per_arm = {arm: Spread.of(successes[arm][(hand, task)]) for arm in config.arms}
            if hand in zero_shot or hand == config.held_out_hand:
                note = "no data for this hand"
            combos.append(ComboRecord(hand=hand, task=task, split=split_of(config, hand, task, zero_shot),
                                      success=per_arm, expert_success=Spread.of(expert[(hand, task)]), note=note))
    summary = {arm: {} for arm in config.arms}
    expert_summary = {}
    for split in SPLITS:
        chosen = [(c.hand, c.task) for c in combos if c.split == split]
        if not chosen:
            continue
        for arm in config.arms:
            per_seed = [float(np.nanmean([successes[arm][c][i] for c in chosen])) for i in range(len(config.seeds))]
            summary[arm][split] = Spread.of(per_seed)
        expert_summary[split] = Spread.of([float(np.mean([expert[c][i] for c in chosen]))
                                           for i in range(len(config.seeds))])
    if all(on_training.values()):
        for arm in config.arms:
            summary[arm][TRAINING_SCENES] = Spread.of(on_training[arm])
        expert_summary[TRAINING_SCENES] = Spread.of([1.0])  # only solved scenes are replayed
    strip_files = _write_strips(strips, out_dir)
    return PhysicsBenchReport(config=config, summary=summary, expert_summary=expert_summary, combos=combos,
                              training_expert_success=demos_kept, train_frames=train_frames, raw_width=raw_width,
                              latency_ms=latency, final_loss=losses, seconds=round(time.perf_counter() - started, 1),
                              cpu_seconds=cpu.totals(), command=command, strips=strip_files)


RECIPE = "xlsdk_demos.json"


class CpuClock:
    """Process CPU seconds (every thread of this process) spent per named phase, summed over repeats.

    CPU time rather than wall time: on a shared machine the wall clock measures the neighbours too.
    """

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.start = time.process_time()

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        start = time.process_time()
        try:
            yield
        finally:
            self.spent[phase] = self.spent.get(phase, 0.0) + time.process_time() - start

    def totals(self) -> dict[str, float]:
        return {**{k: round(v, 1) for k, v in self.spent.items()}, "total": round(time.process_time() - self.start, 1)}


def _reusable(root: Path, recipe: dict[str, Any]) -> dict[str, Any] | None:
    """What a dataset written by the same recipe kept (share per task, scene positions), or None (rewrite it)."""
    try:
        record = json.loads((root / RECIPE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if record.get("recipe") != recipe or not (root / "meta" / "info.json").is_file() or "kept_scenes" not in record:
        return None
    return record


def _write_recipe(root: Path, recipe: dict[str, Any], record: dict[str, Any]) -> None:
    from xlsdk.files import write_json_atomic

    write_json_atomic(root / RECIPE, {"recipe": recipe, **record})


def _evaluation_scenes(config: PhysicsBenchConfig, hands: list[str], seed: int
                       ) -> dict[tuple[str, str], list[TaskScene]]:
    """Fresh scenes per hand x task (never the training scenes: their own seed stream)."""
    rng = np.random.default_rng(10_000 + seed)
    return {(hand, task): sample_scenes(task, config.eval_scenes, rng) for hand in hands for task in config.tasks}


def _expert_rates(scenes: dict[tuple[str, str], list[TaskScene]]) -> dict[tuple[str, str], float]:
    """The expert's success on the evaluation scenes: the ceiling of every hand x task."""
    import xlsdk
    from xlsdk.bench.physics.expert import run_expert

    rates = {}
    for (name, task), group in scenes.items():
        hand = xlsdk.load_hand(name)
        rates[(name, task)] = float(np.mean([_safe(lambda s=s: run_expert(hand, s, camera=None,
                                                                           record_images=False).success)
                                             for s in group]))
    return rates


def _safe(run: Any) -> bool:
    """An episode whose simulation diverges counts as a failure (and is not hidden: it scores 0)."""
    from xlsdk.errors import PhysicsError

    try:
        return bool(run())
    except PhysicsError:
        return False


def _evaluate(runner: Any, scenes: dict[tuple[str, str], list[TaskScene]], *, progress: bool, label: str,
              strips: dict[str, np.ndarray] | None) -> dict[tuple[str, str], float]:
    import xlsdk

    rates: dict[tuple[str, str], float] = {}
    with step_progress(f"evaluate {label}", len(scenes), enabled=progress) as bar:
        for index, ((name, task), group) in enumerate(scenes.items()):
            hand = xlsdk.load_hand(name)
            if not runner.can_drive(hand):
                rates[(name, task)] = float("nan")
                continue
            results = []
            for number, scene in enumerate(group):
                keep_frames = strips is not None and number == 0
                episode = runner.episode(hand, scene, record_images=keep_frames)
                if episode is None:
                    results.append(False)
                    continue
                results.append(episode.success)
                if keep_frames and episode.images:
                    strips[f"{name}/{task}/{runner.arm}"] = np.concatenate(episode.images[::5], axis=1)
            rates[(name, task)] = float(np.mean(results))
            bar.update(index + 1, combo=f"{name}/{task}")
    return rates


def _write_strips(strips: dict[str, np.ndarray], out_dir: Path) -> dict[str, str]:
    from PIL import Image

    folder = out_dir / "strips"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for key, image in strips.items():
        path = folder / (key.replace("/", "__") + ".png")
        Image.fromarray(image).save(path)
        files[key] = str(path.relative_to(out_dir))
    return files


def write_report(report: PhysicsBenchReport, out_dir: Path) -> Path:
    from xlsdk.files import write_json_atomic, write_text_atomic

    write_json_atomic(out_dir / "physics.json", json.loads(report.model_dump_json()))
    write_text_atomic(out_dir / "physics.md", report.table() + "\n")
    write_text_atomic(out_dir / "physics.html", html_report(report))
    return out_dir / "physics.json"


def html_report(report: PhysicsBenchReport) -> str:
    """A self-contained page: the summary, the per hand x task table, an episode strip per combination."""
    import html

    def table(markdown: str) -> str:
        rows = [line.strip("|").split("|") for line in markdown.splitlines() if not line.startswith("|---")]
        head, body = rows[0], rows[1:]
        return ("<table><tr>" + "".join(f"<th>{html.escape(c.strip())}</th>" for c in head) + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in row) + "</tr>" for row in body)
                + "</table>")

    parts = ["<!doctype html><meta charset='utf-8'><title>xlsdk physics benchmark</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:3px 8px}img{image-rendering:pixelated;height:96px}</style>",
             f"<h1>Physics cross-hand benchmark</h1><p><code>{html.escape(report.command)}</code>, "
             f"{report.seconds:.0f} s, seeds {list(report.config.seeds)}; success is mean ± spread over seeds.</p>",
             "<h2>Summary</h2>", table(report.summary_table()), "<h2>Per hand and task</h2>", table(report.combo_table()),
             f"<h2>Episodes ({CAMERA} camera, every 5th control step, seed {report.config.seeds[0]})</h2>"]
    for key, file in sorted(report.strips.items()):
        parts.append(f"<p>{html.escape(key)}<br><img src='{html.escape(file)}'></p>")
    return "\n".join(parts)
