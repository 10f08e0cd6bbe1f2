"""``xlsdk policy train|run``: the XL-VLA policy over latent action chunks."""

from __future__ import annotations

from pathlib import Path

import typer

from xlsdk.cli.app import app, console, print_json

policy_app = typer.Typer(help="Train and run the cross-hand XL-VLA policy.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


@policy_app.command("make-dataset")
def make_dataset_command(
    hand_name: str = typer.Option(..., "--hand", help="An installed hand."),
    out: Path = typer.Option(..., "--out", help="New LeRobot dataset directory."),
    tasks: str = typer.Option("pinch,tripod,power,point,hook,open", "--tasks", help="Comma-separated tasks."),
    scenes: int = typer.Option(16, "--scenes", help="Scenes (episodes) per task."),
    frames: int = typer.Option(12, "--frames", help="Frames per episode (10 fps)."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Write a LeRobot dataset of demonstrations solved by HAND's own IK for the benchmark's tasks."""
    import numpy as np

    from xlsdk import load_hand
    from xlsdk.errors import XlsdkError
    from xlsdk.policy.crosshand.dataset import write_hand_dataset
    from xlsdk.policy.crosshand.tasks import TASKS, sample_scenes

    chosen = [t.strip() for t in tasks.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in TASKS]
    if unknown:
        raise XlsdkError(f"unknown task(s) {', '.join(unknown)}; tasks are {', '.join(TASKS)}")
    if out.exists():
        raise XlsdkError(f"{out} already exists; choose a new dataset directory")
    rng = np.random.default_rng(seed)
    episodes = [scene for task in chosen for scene in sample_scenes(task, scenes, rng)]
    demos = write_hand_dataset(load_hand(hand_name), episodes, out, frames=frames, image_size=48, seed=seed)
    console.print(f"wrote {demos.episodes} episodes ({demos.frames} frames) of {hand_name} to {out}")


@policy_app.command("train")
def train_command(
    dataset: list[Path] = typer.Option(..., "--dataset", help="A LeRobot dataset directory (repeat for several hands)."),
    out: Path = typer.Option(..., "--out", help="Directory for the trained policy."),
    space: str = typer.Option("latent", "--space", help="latent (the shared latent) or raw (padded joints)."),
    steps: int = typer.Option(1500, "--steps"),
    batch_size: int = typer.Option(64, "--batch-size"),
    seed: int = typer.Option(0, "--seed"),
    device: str = typer.Option("auto", "--device",
                               help="auto | cpu | cuda (several GPUs: `accelerate launch -m xlsdk policy train ...`)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Train one policy on the LeRobot datasets of one or more hands (each dataset's robot_type names its hand)."""
    from xlsdk.errors import XlsdkError
    from xlsdk.policy.train import train_from_datasets

    if space not in ("latent", "raw"):
        raise XlsdkError(f"--space must be latent or raw, got {space!r}")
    metadata, losses = train_from_datasets(dataset, out, space_name=space, steps=steps, batch_size=batch_size,
                                           seed=seed, progress=not json_output, device=device)
    if json_output:
        print_json({**metadata.model_dump(), "first_loss": losses[0], "out": str(out)})
        return
    console.print(f"trained a {space} policy on {', '.join(metadata.hands)} in {metadata.seconds:.0f} s: "
                  f"loss {losses[0]:.4f} -> {metadata.final_loss:.4f}; saved to {out}")


@policy_app.command("run")
def run_command(
    policy_path: Path = typer.Option(..., "--policy", help="A policy directory from `xlsdk policy train`."),
    hand_name: str = typer.Option(..., "--hand", help="Any installed hand with a fitted head."),
    driver_name: str = typer.Option("sim", "--driver", help="Driver to run on (sim by default)."),
    port: str = typer.Option(None, "--port", help="Transport for real drivers."),
    task: str = typer.Option("pinch", "--task", help="pinch | tripod | power | point | hook | open"),
    episodes: int = typer.Option(1, "--episodes"),
    seed: int = typer.Option(0, "--seed"),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Closed loop: render a scene for TASK, let the policy drive HAND, report the task error."""
    import time

    import numpy as np
    import torch

    from xlsdk import load_hand
    from xlsdk.drivers import open_driver
    from xlsdk.errors import XlsdkError
    from xlsdk.policy.action_space import make_space
    from xlsdk.policy.crosshand.demos import solve_scenes
    from xlsdk.policy.crosshand.tasks import TASKS, sample_scenes, task_error
    from xlsdk.policy.run import run_episode
    from xlsdk.policy.train import load_policy

    if task not in TASKS:
        raise XlsdkError(f"--task must be one of {', '.join(TASKS)}")
    policy, metadata = load_policy(policy_path)
    hand = load_hand(hand_name)
    space = make_space(metadata.action_space)  # type: ignore[arg-type]
    scenes = sample_scenes(task, episodes, np.random.default_rng(seed))
    _, expert = solve_scenes(hand, scenes, seed=seed)
    rows = []
    for scene, expert_error in zip(scenes, expert.tolist(), strict=True):
        if driver_name == "sim":
            final = run_episode(policy, space, hand, scene, frames=metadata.frames, fps=metadata.fps)
        else:
            driver = open_driver(hand, driver_name, {"port": port} if port else {})
            final = run_episode(policy, space, hand, scene, frames=metadata.frames, fps=metadata.fps, driver=driver,
                                sleep=time.sleep)
        with torch.no_grad():
            error = float(task_error(hand.geometry(torch.as_tensor(final[None], dtype=torch.float32)), [scene])[0])
        rows.append({"instruction": scene.instruction, "error": error, "expert_error": expert_error,
                     "success": error <= expert_error + 0.1, "final_q": [float(v) for v in final]})
    seen = hand_name in metadata.hands
    if json_output:
        print_json({"hand": hand_name, "seen_in_training": seen, "action_space": metadata.action_space, "episodes": rows})
        return
    note = "" if seen else " (a hand absent from the training data, driven through its head)"
    console.print(f"{metadata.action_space} policy on [bold]{hand_name}[/]{note}, driver {driver_name}:")
    for row in rows:
        mark = "[green]success[/]" if row["success"] else "[red]miss[/]"
        console.print(f"  {row['instruction']!r}: task error {row['error']:.3f} (expert {row['expert_error']:.3f}) {mark}")
