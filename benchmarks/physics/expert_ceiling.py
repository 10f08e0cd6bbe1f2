"""The physics benchmark's ceiling alone: the closed-loop expert on the evaluation scenes, no training.

Every policy row of the physics benchmark is read against the expert on the same scenes, and the issue's
bar is an expert at >= 0.9 on every hand x task its kinematics allow. Measuring that bar takes no
demonstrations and no training, only the expert's episodes: this script runs the benchmark's own pieces
(the zero-shot onboarding, the grasp choice and synthesis of :func:`~xlsdk.bench.physics.jobs.grasp_job`,
the noiseless expert of :func:`~xlsdk.bench.physics.jobs.expert_job`, in the same process pool) on the
benchmark's evaluation scenes (the full run's 20 per hand x task and seed, 3 seeds; ``--quick``: 2), and
prints per hand x task the success rate with its Wilson interval, the grasp the expert chose and how each
option did in the choice. A change to the grasp machine or the expert is judged here in minutes, before a
full benchmark run spends an hour on policies.

``--through-latent`` runs the same expert with every hand command passed through the hand's latent head
(:func:`~xlsdk.bench.physics.expert.through_latent`): the latent arm's own ceiling per cell, beside the
expert's (the "replay through the latent round trip" stage, on every hand x task).

Run: ``.venv/bin/python benchmarks/physics/expert_ceiling.py [--quick] [--through-latent] [--out DIR]
[--write-docs]``; ``--write-docs`` puts the table into docs/benchmarks/physics.md (marker ``physics-expert``,
or ``physics-expert-latent``).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

from xlsdk.bench.physics.benchmark import EXPERT_BAR as BAR  # the bar for the expert
from xlsdk.bench.physics.benchmark import EXPERT_VERSION, PhysicsBenchConfig
from xlsdk.bench.physics.dataset import EVAL_STREAM, scene_of
from xlsdk.bench.physics.expert import describe_choice
from xlsdk.bench.physics.jobs import Pool, expert_job, grasp_calls, grasp_job, known_per_hand
from xlsdk.bench.physics.stats import Rate
from xlsdk.bench.physics.zero_shot import onboard
from xlsdk.files import write_json_atomic

ROOT = Path(__file__).resolve().parents[2]
DOCS_PAGE = ROOT / "docs" / "benchmarks" / "physics.md"
sys.path.insert(0, str(ROOT / "benchmarks"))  # the shared docs-table writer sits one folder up

from docs_tables import replace_marked_block  # noqa: E402



def measure(config: PhysicsBenchConfig, out: Path, *, latent: bool = False) -> dict:
    """The expert (``latent``: through each hand's latent head) on every evaluation hand x task x seed of
    ``config``; a JSON-ready record."""
    started, cpu_start = time.perf_counter(), time.process_time()
    cache = out.parent / "zero-shot-cache"
    zero_shot = [onboard(name, cache, fit_steps=config.fit_steps, cycle_weight=config.fit_cycle_weight)
                 for name in config.zero_shot_corpus]
    hands = [*config.hands, *[h for h in zero_shot if h not in config.hands]]
    jobs = [(name, str(cache), config.fit_steps, config.fit_cycle_weight) for name in config.zero_shot_corpus]
    scenes = {(seed, task): [scene_of(task, i, stream=EVAL_STREAM, seed=seed) for i in range(config.eval_scenes)]
              for seed in config.seeds for task in config.tasks}
    with Pool(config.workers, jobs) as pool:
        grasp_work = grasp_calls(hands, tuple(config.tasks))
        known = known_per_hand(grasp_work, pool.map("grasp choice and synthesis", grasp_job, grasp_work))
        calls = [(hand, task, seed) for hand in hands for task in config.tasks for seed in config.seeds]
        outcomes = pool.map("expert episodes", expert_job,
                            [(hand, scenes[(seed, task)], False, known[hand], latent) for hand, task, seed in calls])
        cpu = dict(pool.cpu)
    results: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for (hand, task, _), (wins, _) in zip(calls, outcomes, strict=True):
        results.setdefault((hand, task), []).append((sum(wins), len(wins)))
    rows = []
    for (hand, task), counts in results.items():
        entries = dict(known[hand])
        choices = next((value for key, value in entries.items()
                        if key[0] == "choice" and key[1][-1] == task), None)
        trials = next((value for key, value in entries.items()
                       if key[0] == "trials" and key[1][-1] == task), ())
        grasp, tried = describe_choice(task, choices, trials)
        rows.append({"hand": hand, "task": task, "rate": Rate.of(counts).model_dump(), "grasp": grasp,
                     "choice": tried})
    own = time.process_time() - cpu_start  # includes the jobs when the pool runs them inline (one worker)
    cpu["total"] = own + (sum(cpu.values()) if config.workers > 1 else 0.0)
    return {"expert_version": EXPERT_VERSION, "through_latent": latent, "seeds": list(config.seeds),
            "eval_scenes": config.eval_scenes,
            "rows": rows, "seconds": round(time.perf_counter() - started, 1),
            "cpu_seconds": {k: round(v, 1) for k, v in cpu.items()}, "workers": config.workers}


def markdown(record: dict, *, command: str) -> str:
    rows = record["rows"]
    met = [r for r in rows if r["rate"]["mean"] >= BAR]
    lines = [
        ("The expert through the latent round trip (every hand command encoded and decoded by the hand's "
         "head: the latent arm's ceiling)" if record.get("through_latent") else "Expert ceiling alone")
        + f": `{command}` (expert version {record['expert_version']}; "
        f"{record['eval_scenes']} evaluation scenes per hand x task and seed, seeds {record['seeds']}, the scenes "
        f"the benchmark's arms are evaluated on). _Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, "
        f"{record['workers']} worker processes, {record['seconds']:.0f} s of wall time and "
        f"{record['cpu_seconds']['total']:.0f} s of CPU time._",
        "",
        f"At >= {BAR} on **{len(met)} of {len(rows)}** hand x task combinations.",
        "",
        "| hand | task | expert | grasp chosen | the choice's trials (lifted of tried; lifted again under DART noise) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        rate = Rate(**row["rate"])
        mark = "**" if rate.mean >= BAR else ""
        lines.append(f"| {row['hand']} | {row['task']} | {mark}{rate.text()}{mark} | {row['grasp']} | "
                     + (row["choice"] or "-") + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the quick run's 2 scenes per hand x task and seed")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench" / "physics-expert")
    parser.add_argument("--through-latent", action="store_true",
                        help="every hand command through the hand's latent head: the latent arm's ceiling")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks/physics.md")
    args = parser.parse_args()
    config = PhysicsBenchConfig.quick() if args.quick else PhysicsBenchConfig()
    args.out.mkdir(parents=True, exist_ok=True)
    record = measure(config, args.out, latent=args.through_latent)
    write_json_atomic(args.out / ("expert-latent.json" if args.through_latent else "expert.json"), record)
    command = ".venv/bin/python benchmarks/physics/expert_ceiling.py" + (" --quick" if args.quick else "") + (
        " --through-latent" if args.through_latent else "")
    block = markdown(record, command=command)
    print(block)
    if args.write_docs:
        replace_marked_block(DOCS_PAGE, "physics-expert-latent" if args.through_latent else "physics-expert", block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
