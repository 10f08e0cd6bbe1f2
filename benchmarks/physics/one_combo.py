"""The "one hand x one task" stage, for any hand x task: does an arm reproduce its own training scenes?

The full benchmark trains every arm on every seen hand x task at once; when a cell stays low there (paxini's
cube: the expert 0.95, every arm 0.08-0.15, its own training scenes included) this script asks the smaller
question on that cell, in a minute or two on one core: the benchmark's expert makes ``--demos`` scenes of
DART demonstrations (the benchmark's own shard code and DART level), one arm is trained on them (the
benchmark's network, config and frame), and it is replayed (temporal ensembling unless told otherwise) on
the training scenes it succeeded on and on fresh evaluation scenes, against the expert on the same scenes.
Per replayed training scene it also says where the policy first left the demonstration: the first control
step at which its measured wrist was more than ``--depart-mm`` from the expert's, and how far the hand's
joints were apart then.

``--also`` adds other datasets to the training set (the benchmark's own, one per hand), which tells a cell
that fails alone from one that fails only beside the others. The switches that isolate a cause are the
benchmark's and the policy config's own: ``--arm`` (latent, raw, slots), ``--frame`` (grasp, wrist),
``--proprio`` (wrist+hand, wrist: the hand's joints hidden), ``--scene`` (wrist, wrist+tips: the object
relative to the thumb and index tips too), ``--execution`` (ensemble, receding), ``--steps``,
``--hidden-dim``, ``--state-std-floor`` and ``--environment-std-floor`` (the smallest scales the inputs
are normalised by).

Run: ``.venv/bin/python benchmarks/physics/one_combo.py HAND TASK [--demos 60] [--steps 2000] [--arm latent]
[--also DATASET ...] [--replay 12] [--fresh 12] [--out DIR]``; prints one JSON record. The measurements it
made are in docs/benchmarks/physics.md ("Training that reproduces its demonstrations").
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def departure(policy_states: list[np.ndarray], expert_states: list[np.ndarray], limit_m: float) -> dict | None:
    """The first control step at which the policy's measured wrist is more than ``limit_m`` from the expert's in
    the same scene, with the hand joints' largest difference then (radians); None: it never left."""
    for step, (mine, theirs) in enumerate(zip(policy_states, expert_states)):
        apart = float(np.linalg.norm(np.asarray(mine[:3]) - np.asarray(theirs[:3])))
        if apart > limit_m:
            joints = float(np.abs(np.asarray(mine[6:]) - np.asarray(theirs[6:])).max())
            return {"step": step, "wrist_mm": round(apart * 1000, 1), "joints_rad": round(joints, 3)}
    return None


def measure(args: argparse.Namespace, root: Path) -> dict:
    import xlsdk
    from xlsdk.bench.physics.dataset import EVAL_STREAM, Shard, generate_shard, read_frames, scene_of
    from xlsdk.bench.physics.expert import dart_level, run_expert
    from xlsdk.bench.physics.grasp_frame import grasp_point
    from xlsdk.bench.physics.policies import XlvlaRunner, policy_frames, space_for, xlvla_training_set
    from xlsdk.bench.physics.stats import Rate
    from xlsdk.policy.train import train_policy

    hand = xlsdk.load_hand(args.hand)
    started, cpu = time.perf_counter(), time.process_time()
    made = generate_shard(Shard(hand=args.hand, task=args.task, first=0, count=args.demos), hand, root / "demos")
    if not made.kept:
        raise SystemExit(f"the expert succeeded on none of {args.demos} {args.hand} x {args.task} scenes")
    frames = read_frames([root / "demos", *args.also], history=2, chunk=8, scene=args.scene)
    hands = {name: xlsdk.load_hand(name) for name in sorted(set(frames.hands))}
    points = {name: np.asarray(grasp_point(other)) for name, other in hands.items()} if args.frame == "grasp" else None
    frames = policy_frames(frames, points)
    overrides = {field: getattr(args, field) for field in ("state_std_floor", "environment_std_floor", "hidden_dim")
                 if getattr(args, field) is not None}
    width = max(other.dof for other in hands.values())
    config, data = xlvla_training_set(args.arm, frames, hands, obs="state", raw_width=width, image_size=64,
                                      chunk_size=8, n_action_steps=4, wrist_loss_share=0.5, proprio=args.proprio,
                                      scene=args.scene, **overrides)
    space = space_for(config)
    policy, losses, _ = train_policy(data, config, steps=args.steps, batch_size=256, seed=args.seed, progress=False,
                                     device="cpu")
    runner = XlvlaRunner(args.arm, policy, space, "state", 64, ensemble=args.execution == "ensemble")

    def replay(scenes: list) -> tuple[list[bool], list[bool], list[dict | None]]:
        mine, theirs, left = [], [], []
        for scene in scenes:
            episode = runner.episode(hand, scene, point=None if points is None else points[args.hand])
            expert = run_expert(hand, scene)
            mine.append(bool(episode is not None and episode.success))
            theirs.append(expert.success)
            left.append(None if episode is None else departure(episode.states, expert.states, args.depart_mm / 1000))
        return mine, theirs, left

    training = [scene_of(args.task, i) for i in made.kept[:args.replay]]
    fresh = [scene_of(args.task, i, stream=EVAL_STREAM) for i in range(args.fresh)]
    own, own_expert, left = replay(training)
    new, new_expert, _ = replay(fresh)

    def rate(results: list[bool]) -> str:
        return Rate.of([(sum(results), len(results))]).text()

    return {"hand": args.hand, "task": args.task, "arm": args.arm, "frame": args.frame, "proprio": args.proprio,
            "execution": args.execution, "scene": args.scene, "hidden_dim": config.hidden_dim,
            "std_floors": [config.state_std_floor, config.environment_std_floor],
            "dart_level": dart_level(hand, args.task), "demonstrations": len(made.kept), "scenes_tried": args.demos,
            "also": [str(path) for path in args.also], "training_frames": len(frames.states),
            "steps": args.steps, "loss_first_last": [round(float(np.mean(losses[:20])), 4),
                                                     round(float(np.mean(losses[-50:])), 4)],
            "own_training_scenes": rate(own), "expert_on_them": rate(own_expert),
            "fresh_scenes": rate(new), "expert_on_fresh": rate(new_expert),
            "departures": [{"scene": i, "solved": ok, "left": where}
                           for i, ok, where in zip(made.kept[:args.replay], own, left)],
            "wall_s": round(time.perf_counter() - started, 1), "cpu_s": round(time.process_time() - cpu, 1)}


def positive(text: str) -> float:
    value = float(text)
    if not value > 0.0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hand")
    parser.add_argument("task")
    parser.add_argument("--demos", type=int, default=60, help="scenes the expert tries (its successes are the data)")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--arm", default="latent", choices=("latent", "raw", "slots"))
    parser.add_argument("--frame", default="grasp", choices=("grasp", "wrist"))
    parser.add_argument("--proprio", default="wrist+hand", choices=("wrist+hand", "wrist"))
    parser.add_argument("--scene", default="wrist", choices=("wrist", "wrist+tips"))
    parser.add_argument("--execution", default="ensemble", choices=("ensemble", "receding"))
    parser.add_argument("--state-std-floor", type=positive, default=None, help="the policy config's state_std_floor")
    parser.add_argument("--environment-std-floor", type=positive, default=None,
                        help="the policy config's environment_std_floor")
    parser.add_argument("--replay", type=int, default=12, help="training scenes replayed")
    parser.add_argument("--fresh", type=int, default=12, help="fresh evaluation scenes")
    parser.add_argument("--depart-mm", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden-dim", type=int, default=None, help="the policy config's hidden_dim")
    parser.add_argument("--also", type=Path, nargs="*", default=[],
                        help="more LeRobot datasets trained on with the cell's (e.g. the benchmark's merged ones, "
                        "out/bench/physics/datasets/HAND): does the cell fail alone or only among the others?")
    parser.add_argument("--out", type=Path, default=None, help="where the demonstrations go (default: a temp dir)")
    args = parser.parse_args(argv)
    from xlsdk.errors import XlsdkError

    try:
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            record = measure(args, args.out)
        else:
            with tempfile.TemporaryDirectory(prefix="xlsdk-one-combo-") as folder:
                record = measure(args, Path(folder))
    except XlsdkError as exc:  # a bad setting (e.g. --hidden-dim 0, refused by the policy config) or hand
        print(f"one_combo: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
