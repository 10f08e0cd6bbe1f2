"""Cross-hand policy benchmark: the same XL-VLA policy trained on latent chunks vs padded raw joints.

The protocol lives in the library (``xlsdk.bench.crosshand``, also ``xlsdk bench crosshand``): LeRobot
datasets of three hands x six tasks solved by each hand's own IK, hand x task combinations and one whole
hand held out, both arms trained with the same data, steps and seed, evaluated closed loop on the
simulated driver. This script runs it, prints the success table and the inference latency of each arm
(and the latent arm's latency as a ratio to the raw arm's, measured in the same run), and with
``--write-docs`` puts the measured tables into docs/benchmarks/crosshand.md.

Run: ``make bench`` (the quick run) or ``.venv/bin/python benchmarks/crosshand/run.py [--full] [--seed N]``.
The quick run finishes in under 10 minutes on two CPU cores; the full run trains 2.4x the steps on twice the data.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

from xlsdk.bench.crosshand.benchmark import (CrosshandConfig, CrosshandReport, reproduce_command, run_crosshand,
                                              write_report)

ROOT = Path(__file__).resolve().parents[2]
DOCS_PAGE = ROOT / "docs" / "benchmarks" / "crosshand.md"
sys.path.insert(0, str(ROOT / "benchmarks"))  # the shared docs-table writer sits one folder up

from docs_tables import replace_marked_block  # noqa: E402


def markdown(report: CrosshandReport, *, full: bool) -> str:
    """The docs block of one run: how it was run, the summary per split, (full run) per hand x task, latency."""
    config = report.config
    latency = report.latency_ms
    lines = [
        f"{'Full' if full else 'Quick'} run: `{report.command}` (seed {config.seed}; {config.scenes_per_task} scenes "
        f"per task and hand, {report.train_frames:,} training frames, {config.steps:,} steps per arm, "
        f"{config.eval_scenes} evaluation scenes per hand x task). _Measured {time.strftime('%Y-%m-%d')} on "
        f"{platform.machine()}, {torch.get_num_threads()} torch threads, {report.seconds:.0f} s of wall time._",
        "",
        report.summary_table(),
    ]
    if full:
        lines += ["", "Success rate per hand and task:", "", report.combo_table()]
    lines += ["", f"Inference latency per chunk (CPU, batch 1, prediction + decode): latent {latency['latent']:.2f} ms, "
                  f"raw {latency['raw']:.2f} ms (latent / raw = {latency['latent'] / latency['raw']:.2f}x)."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full run (64 scenes, 6000 steps per arm)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench" / "crosshand")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks/crosshand.md")
    args = parser.parse_args()
    config = CrosshandConfig(seed=args.seed) if args.full else CrosshandConfig.quick(seed=args.seed)
    report = run_crosshand(config, args.out, command=reproduce_command(quick=not args.full, seed=args.seed))
    write_report(report, args.out)
    block = markdown(report, full=args.full)
    print(block)
    if args.write_docs:
        replace_marked_block(DOCS_PAGE, "crosshand-full" if args.full else "crosshand-quick", block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
