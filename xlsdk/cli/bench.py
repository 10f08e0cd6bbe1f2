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
    obs: str = typer.Option("state", "--obs", help="What the policies see: state (object poses) or vision "
                                                   "(wrist + fixed camera)."),
    arms: str = typer.Option(None, "--arms", help="Comma-separated arms to compare (latent, raw, slots, "
                             "act-latent; default: all four, --quick: latent, raw, act-latent)."),
    zero_shot_hand: list[str] = typer.Option([], "--zero-shot-hand",
                                             help="An installed hand to add to the zero-shot split (repeatable)."),
    out: Path = typer.Option(Path("out/bench/physics"), "--out", help="Datasets, JSON, markdown and HTML go here."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="How many training seeds (0, 1, ...)."),
    steps: int = typer.Option(None, "--steps", min=1, help="Training steps of each arm (default from the config)."),
    workers: int = typer.Option(None, "--workers", min=1, help="Processes (default: every core)."),
    proprio: str = typer.Option("wrist+hand", "--proprio", help="What the XL-VLA arms read of their own state: "
                                "wrist+hand, or wrist (an ablation for hands never trained on)."),
    scene: str = typer.Option("wrist", "--scene", help="What the state policies read of the scene: the object "
                              "relative to the wrist, or wrist+tips (and to the thumb and index tips: an ablation "
                              "for hands never trained on)."),
    frame: str = typer.Option("grasp", "--frame", help="Where the policies' wrist entries are measured from: "
                              "grasp (each hand's grasp point, so one command puts any hand's grasp at the same "
                              "place), or the wrist (an ablation)."),
    execution: str = typer.Option("ensemble", "--execution", help="How the XL-VLA arms execute their chunks: "
                                  "ensemble (a chunk every step, the live chunks averaged) or receding (a chunk "
                                  "every 4 steps, an ablation)."),
    act_execution: str = typer.Option("receding", "--act-execution", help="How the ACT arm executes its chunks: "
                                      "receding (LeRobot's queue, a chunk every 4 steps) or ensemble (the XL-VLA "
                                      "arms' temporal ensembling over absolute commands)."),
    fit_cycle_weight: float = typer.Option(1.0, "--fit-cycle-weight", min=0.0,
                                           help="The zero-shot corpus hand's fit: `xlsdk fit --cycle-weight` "
                                                "(0: the fit without the latent cycle, an ablation)."),
    device: str = typer.Option("auto", "--device", help="Where the arms train: auto (a GPU when torch sees "
                               "one), cpu or cuda."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Latent vs raw joints vs joint slots on MuJoCo tasks judged by object state: seen, held-out, zero-shot."""
    import json

    from xlsdk.bench.physics.benchmark import (ARMS, PhysicsBenchConfig, reproduce_command, run_physics_bench,
                                               write_report)
    from xlsdk.errors import XlsdkError

    if obs not in ("state", "vision"):
        raise XlsdkError(f"--obs must be state or vision, got {obs!r}")
    if proprio not in ("wrist+hand", "wrist"):
        raise XlsdkError(f"--proprio must be wrist+hand or wrist, got {proprio!r}")
    if scene not in ("wrist", "wrist+tips"):
        raise XlsdkError(f"--scene must be wrist or wrist+tips, got {scene!r}")
    if frame not in ("wrist", "grasp"):
        raise XlsdkError(f"--frame must be wrist or grasp, got {frame!r}")
    for option, value in (("--execution", execution), ("--act-execution", act_execution)):
        if value not in ("receding", "ensemble"):
            raise XlsdkError(f"{option} must be receding or ensemble, got {value!r}")
    if device not in ("auto", "cpu", "cuda"):
        raise XlsdkError(f"--device must be auto, cpu or cuda, got {device!r}")
    chosen = None if arms is None else tuple(arm.strip() for arm in arms.split(",") if arm.strip())
    unknown = [arm for arm in chosen or () if arm not in ARMS]
    if unknown or chosen == ():
        raise XlsdkError(f"--arms: unknown arm(s) {', '.join(unknown) or '(none given)'}; arms are {', '.join(ARMS)}")
    overrides = {"zero_shot_hands": tuple(zero_shot_hand), "seeds": tuple(range(seeds)), "obs": obs,
                 **({"arms": chosen} if chosen else {}),
                 "proprio": proprio, "scene": scene, "frame": frame, "execution": execution,
                 "act_execution": act_execution, "device": device,
                 "fit_cycle_weight": fit_cycle_weight, **({"steps": steps} if steps else {}),
                 **({"workers": workers} if workers else {})}
    config = PhysicsBenchConfig.quick(**overrides) if quick else PhysicsBenchConfig(**overrides)
    report = run_physics_bench(config, out, progress=not json_output,
                               command=reproduce_command(quick=quick, obs=obs, zero_shot=tuple(zero_shot_hand),
                                                         proprio=proprio, scene=scene, frame=frame,
                                                         execution=execution, act_execution=act_execution,
                                                         fit_cycle_weight=fit_cycle_weight,
                                                         arms=chosen, steps=steps, seeds=seeds, device=device))
    write_report(report, out)
    if json_output:
        print_json(json.loads(report.model_dump_json()))
        return
    console.print(report.table(), markup=False)
    console.print(f"\ntraining frames {report.train_frames}, raw width {report.raw_width}, latency per chunk "
                  "(CPU, batch 1): " + ", ".join(f"{k} {v:.2f} ms" for k, v in report.latency_ms.items()))
    console.print(f"{report.seconds:.0f} s; report in {out}/physics.json, physics.md and physics.html")


@bench_app.command("physics-shard")
def physics_shard_command(
    hand: str = typer.Option(..., "--hand", help="The installed hand."),
    task: str = typer.Option(..., "--task", help="The task (pinch_lift, power_lift, ...)."),
    first: int = typer.Option(0, "--first", min=0, help="The first scene index of the shard."),
    count: int = typer.Option(25, "--count", min=1, help="How many scenes."),
    obs: str = typer.Option("state", "--obs", help="state or vision (vision also renders the cameras)."),
    image_size: int = typer.Option(64, "--image-size", min=16, help="Camera image side (vision)."),
    data_seed: int = typer.Option(0, "--data-seed", help="The benchmark's data seed."),
    dart: bool = typer.Option(True, "--dart/--no-dart", help="Perturb the executed commands (DART)."),
    out: Path = typer.Option(..., "--out", help="The shard's LeRobot dataset folder (must not exist)."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """One demonstration shard (a hand x task x scene range) as a LeRobot dataset: one job of a cluster array."""
    import json

    import xlsdk
    from xlsdk.bench.physics.dataset import Shard, generate_shard
    from xlsdk.bench.physics.tasks import check_task
    from xlsdk.errors import XlsdkError

    if obs not in ("state", "vision"):
        raise XlsdkError(f"--obs must be state or vision, got {obs!r}")
    if out.exists():
        raise XlsdkError(f"{out} exists; a shard is written to a new folder (merge shards with LeRobot's aggregation)")
    shard = Shard(hand=hand, task=check_task(task), first=first, count=count, obs=obs, image_size=image_size,
                  data_seed=data_seed, dart=dart)
    result = generate_shard(shard, xlsdk.load_hand(hand), out)
    if json_output:
        print_json(json.loads(result.model_dump_json()))
        return
    console.print(f"{shard.name}: {len(result.kept)} of {count} scenes succeeded; dataset in {result.root or '(none)'}")
