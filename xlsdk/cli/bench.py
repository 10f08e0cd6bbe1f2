"""``xlsdk bench crosshand``: the cross-hand policy benchmark (latent chunks vs padded raw joints)."""

from __future__ import annotations

from pathlib import Path

import typer

from xlsdk.cli.app import app, console, print_json

bench_app = typer.Typer(help="Benchmarks that are part of the product.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


@bench_app.command("crosshand")
def crosshand_command(
    quick: bool = typer.Option(False, "--quick", help="Smaller run: under 10 minutes on two CPU cores."),
    out: Path = typer.Option(Path("out/bench/crosshand"), "--out", help="Datasets, JSON and markdown go here."),
    seed: int = typer.Option(0, "--seed"),
    steps: int = typer.Option(None, "--steps", min=1, help="Training steps per arm (default from the config)."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Train the same policy on latent chunks and on raw joints; success on seen, held-out and a held-out hand."""
    import json

    from xlsdk.bench.crosshand.benchmark import CrosshandConfig, reproduce_command, run_crosshand, write_report

    overrides = {"seed": seed, **({"steps": steps} if steps else {})}
    config = CrosshandConfig.quick(**overrides) if quick else CrosshandConfig(**overrides)
    report = run_crosshand(config, out, progress=not json_output, command=reproduce_command(quick=quick, seed=seed))
    write_report(report, out)
    if json_output:
        print_json(json.loads(report.model_dump_json()))
        return
    console.print(report.table(), markup=False)
    console.print(f"\ntraining frames {report.train_frames}, final loss {report.final_loss}, "
                  f"latency per chunk (CPU, batch 1): " + ", ".join(f"{k} {v:.2f} ms" for k, v in report.latency_ms.items()))
    console.print(f"{report.seconds:.0f} s; report in {out}/crosshand.json and crosshand.md")


@bench_app.command("physics")
def physics_command(
    quick: bool = typer.Option(False, "--quick", help="Smaller run: under 15 minutes on two CPU cores."),
    zero_shot_hand: list[str] = typer.Option([], "--zero-shot-hand",
                                             help="An installed hand to add to the zero-shot split (repeatable)."),
    out: Path = typer.Option(Path("out/bench/physics"), "--out", help="Datasets, JSON, markdown and HTML go here."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="How many training seeds (0, 1, ...)."),
    steps: int = typer.Option(None, "--steps", help="Training steps of each XL-VLA arm (default from the config)."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Latent vs raw (and ACT in latent space) on MuJoCo tasks judged by object state: seen, held-out, zero-shot."""
    import json

    from xlsdk.bench.physics.benchmark import (PhysicsBenchConfig, reproduce_command, run_physics_bench,
                                                      write_report)

    overrides = {"zero_shot_hands": tuple(zero_shot_hand), "seeds": tuple(range(seeds)),
                 **({"steps": steps} if steps else {})}
    config = PhysicsBenchConfig.quick(**overrides) if quick else PhysicsBenchConfig(**overrides)
    report = run_physics_bench(config, out, progress=not json_output,
                               command=reproduce_command(quick=quick, zero_shot=tuple(zero_shot_hand)))
    write_report(report, out)
    if json_output:
        print_json(json.loads(report.model_dump_json()))
        return
    console.print(report.table(), markup=False)
    console.print(f"\ntraining frames {report.train_frames}, raw width {report.raw_width}, latency per chunk "
                  "(CPU, batch 1): " + ", ".join(f"{k} {v:.2f} ms" for k, v in report.latency_ms.items()))
    console.print(f"{report.seconds:.0f} s; report in {out}/physics.json, physics.md and physics.html")
