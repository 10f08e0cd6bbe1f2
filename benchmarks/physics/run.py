"""Physics cross-hand benchmark: latent vs raw joints vs joint slots (and ACT in latent space), judged by contact.

The protocol lives in the library (``xlsdk.bench.physics``, also ``xlsdk bench physics``): MuJoCo
tasks decided by object state, LeRobot datasets written in shards by a closed-loop scripted expert with
DART noise, held-out hand x task combinations, a held-out hand, zero-shot hands onboarded from the test
corpus through new-hand + fit, three seeds, Wilson intervals. This script runs it, prints the tables
(expert ceiling beside every result) and the inference latency per chunk, copies an image mosaic of
episode strips for the docs and, with ``--write-docs``, puts the measured tables into
docs/benchmarks/physics.md.

Run: ``.venv/bin/python benchmarks/physics/run.py [--full] [--obs state|vision] [--zero-shot-hand NAME ...]
[--write-docs]``, or ``--from-report out/bench/physics/physics.json --write-docs`` to put an earlier run's
tables into the docs; ``--from-report FULL.json --merge RERUN.json`` first merges a rerun of some arms
(``xlsdk bench physics --arms ...``) into that report (xlsdk.bench.physics.merge).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from xlsdk.bench.physics.benchmark import (PhysicsBenchConfig, PhysicsBenchReport, reproduce_command,
                                                  run_physics_bench, write_report)

ROOT = Path(__file__).resolve().parents[2]
DOCS_PAGE = ROOT / "docs" / "benchmarks" / "physics.md"
DOCS_IMAGE = ROOT / "docs" / "benchmarks" / "img" / "physics-episodes.png"
sys.path.insert(0, str(ROOT / "benchmarks"))  # the shared docs-table writer sits one folder up

from docs_tables import replace_marked_block  # noqa: E402


def markdown(report: PhysicsBenchReport, *, full: bool, contended: bool) -> str:
    config = report.config
    latency = report.latency_ms
    lines = [
        f"{'Full' if full else 'Quick'} run: `{report.command}` (seeds {list(config.seeds)}; observations "
        f"{config.obs}; {config.demos_per_task} successful DART demonstrations per hand and task, "
        f"{report.train_frames:,} training frames, {config.steps:,} steps per XL-VLA arm"
        + (f", {config.act_training_steps:,} for ACT" if "act-latent" in config.arms else "")
        + f", the checkpoint of {config.checkpoints} chosen by rollouts on {config.validation_scenes} validation "
        f"scenes per seen combination, {config.eval_scenes} fresh evaluation scenes per hand x task and seed; raw "
        f"width {report.raw_width}). _Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, "
        + (measured_parts(report) if report.parts else
           f"{config.workers} worker processes, {report.seconds:.0f} s of wall time"
           + (f" and {report.cpu_seconds['total']:.0f} s of CPU time" if "total" in report.cpu_seconds else ""))
        + (", on a CPU shared with other jobs (contended)" if contended else "") + "._",
        "",
        "Success rate per split (mean over seeds [Wilson 95 % interval over the pooled episodes]; the expert's own "
        "success on the same scenes is the ceiling; combinations the expert cannot do are left out of the splits "
        "and listed below):",
        "",
        report.summary_table(),
        "",
        "Per hand and task:",
        "",
        report.combo_table(),
        "",
        "Their own training scenes (each seen combination's first scenes of its demonstrations, replayed by every "
        "seed's policy; the expert on the same scenes):",
        "",
        report.training_table(),
        "",
        "What the expert cannot do (measured on the demonstration scenes):",
        "",
        report.infeasible_table(),
        "",
        "Learning curves (validation success per snapshot, mean over seeds): "
        + "; ".join(f"{arm}: " + ", ".join(f"{step} steps {rate:.2f}" for step, rate in by.items())
                    for arm, by in report.learning_curves.items()) + ".",
        "",
        "Inference latency per chunk (CPU, batch 1, prediction + decode): "
        + ", ".join(f"{arm} {value:.1f} ms" for arm, value in latency.items()) + ".",
    ]
    if report.cpu_seconds:
        cpu = dict(report.cpu_seconds)
        total = cpu.pop("total", None)
        lines += ["", f"CPU time (process time, every thread; {total:.0f} s in all"
                  + (f"; the run of {', '.join(report.parts[-1].arms)}" if report.parts else "") + "): "
                  + ", ".join(f"{phase} {value:.0f} s" for phase, value in cpu.items()) + "."]
    return "\n".join(lines)


def measured_parts(report: PhysicsBenchReport) -> str:
    """How a merged report's runs were measured, each with its arms (xlsdk.bench.physics.merge)."""
    return (f"{report.config.workers} worker processes, merged from runs of the same protocol (the expert identical "
            "on every scene): " + "; ".join(
                f"{', '.join(part.arms)} from `{part.command}` ({part.seconds:.0f} s of wall time"
                + (f", {part.cpu_seconds:.0f} s of CPU time" if part.cpu_seconds is not None else "") + ")"
                for part in report.parts))


def mosaic(report: PhysicsBenchReport, out_dir: Path, target: Path, per_row: int = 1) -> Path | None:
    """One PNG of the latent arm's episode strips (a row per hand x task), for the docs page."""
    from PIL import Image

    keys = [k for k in sorted(report.strips) if k.endswith("/latent")]
    if not keys:
        return None
    rows = [Image.open(out_dir / report.strips[k]) for k in keys]
    width = max(r.width for r in rows)
    sheet = Image.new("RGB", (width, sum(r.height for r in rows)), (255, 255, 255))
    y = 0
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height
    target.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full run (200 demonstrations per hand x task)")
    parser.add_argument("--obs", choices=("state", "vision"), default="state")
    parser.add_argument("--zero-shot-hand", action="append", default=[], help="an installed hand (repeatable)")
    parser.add_argument("--frame", choices=("wrist", "grasp"), default=PhysicsBenchConfig.model_fields["frame"].default,
                        help="where the policies' wrist entries are measured from")
    parser.add_argument("--execution", choices=("ensemble", "receding"),
                        default=PhysicsBenchConfig.model_fields["execution"].default,
                        help="how the XL-VLA arms execute their chunks")
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench" / "physics")
    parser.add_argument("--contended", action="store_true", help="say in docs that the CPU was shared")
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks/physics.md")
    parser.add_argument("--from-report", type=Path, default=None,
                        help="a physics.json an earlier run wrote (e.g. `xlsdk bench physics --quick` on a fresh clone): "
                             "make the docs block from it instead of running again (its strips sit beside it)")
    parser.add_argument("--merge", type=Path, default=None,
                        help="with --from-report: the physics.json of a rerun of some arms (`--arms`) on the same "
                             "protocol; its arms replace the report's, and the merged report (with both runs' strips) "
                             "is written beside the rerun, in merged/")
    args = parser.parse_args()
    if args.merge is not None and args.from_report is None:
        parser.error("--merge needs --from-report (the report the rerun's arms join)")
    if args.merge is not None:
        from xlsdk.bench.physics.merge import merge_report_files
        from xlsdk.errors import XlsdkError

        try:
            args.from_report = merge_report_files(args.from_report, args.merge, args.merge.parent / "merged")
        except XlsdkError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"merged report: {args.from_report}")
    if args.from_report is not None:
        report = PhysicsBenchReport.model_validate_json(args.from_report.read_text(encoding="utf-8"))
        args.out, args.full = args.from_report.parent, "--quick" not in report.command
    else:
        overrides = {"zero_shot_hands": tuple(args.zero_shot_hand), "obs": args.obs, "frame": args.frame,
                     "execution": args.execution}
        config = PhysicsBenchConfig(**overrides) if args.full else PhysicsBenchConfig.quick(**overrides)
        report = run_physics_bench(config, args.out, command=reproduce_command(
            quick=not args.full, obs=args.obs, zero_shot=tuple(args.zero_shot_hand), frame=args.frame,
            execution=args.execution))
        write_report(report, args.out)
    config = report.config
    block = markdown(report, full=args.full, contended=args.contended or bool(os.environ.get("XLSDK_CONTENDED")))
    print(block)
    if args.write_docs:
        suffix = "-vision" if config.obs == "vision" else ""
        image = mosaic(report, args.out,
                       DOCS_IMAGE.with_name(f"physics-episodes{'-full' if args.full else ''}{suffix}.png"))
        if image:
            block += (f"\n\n![Episode strips of the latent arm](img/{image.name})\n\n_Latent arm, seed "
                      f"{config.seeds[0]}, one fresh scene per hand x task (rows sorted by hand, then task): the fixed "
                      "front camera above the wrist camera, every fifth control step._")
            print(f"episode strips: {image}")
        replace_marked_block(DOCS_PAGE, ("physics-full" if args.full else "physics-quick") + suffix, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
