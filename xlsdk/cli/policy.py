"""``xlsdk policy train|run``: the XL-VLA policy over latent action chunks."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import typer

from xlsdk.cli.app import app, console, console_err, print_json

policy_app = typer.Typer(help="Train and run the cross-hand XL-VLA policy.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")

HAND_HELP = "An installed hand (see `xlsdk hands`)."


def _hand(positional: str | None, legacy: str | None) -> str:
    """HAND is positional like in every other command; ``--hand`` (before 0.2) still works, with a warning."""
    if positional and legacy and positional != legacy:
        raise typer.BadParameter(f"HAND {positional!r} and --hand {legacy!r} disagree; give HAND only")
    if legacy and not positional:
        console_err.print("[yellow]warning:[/] --hand is deprecated: give the hand as the first argument "
                          f"(xlsdk policy ... {legacy} ...)", soft_wrap=True)
    hand = positional or legacy
    if not hand:
        raise typer.BadParameter("missing HAND: name an installed hand (see `xlsdk hands`)")
    return hand


class _OneLineVideoBackendNotice(logging.Filter):
    """LeRobot logs every failed torchcodec load (FFmpeg missing) as pages of tracebacks, once per dataset
    it opens, then falls back to pyav, which works. Say it once, in one line, and drop the rest."""

    said = False

    def filter(self, record: logging.LogRecord) -> bool:
        if "torchcodec" not in record.getMessage():
            return True
        if _OneLineVideoBackendNotice.said:
            return False
        _OneLineVideoBackendNotice.said = True
        record.msg, record.args = ("torchcodec is not installed or cannot be loaded (is FFmpeg installed?); "
                                  "decoding video with pyav"), ()
        return True


def _quiet_video_backend_probe() -> None:
    """Install the filter on LeRobot's import_utils logger (before LeRobot is imported or used)."""
    logger = logging.getLogger("lerobot.utils.import_utils")
    if not any(isinstance(f, _OneLineVideoBackendNotice) for f in logger.filters):
        logger.addFilter(_OneLineVideoBackendNotice())


def _finite_or_none(data: Any) -> Any:
    """JSON has no NaN or infinity: a non-finite number becomes null, so --json output always parses."""
    if isinstance(data, float) and not math.isfinite(data):
        return None
    if isinstance(data, dict):
        return {key: _finite_or_none(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite_or_none(value) for value in data]
    return data


@policy_app.command("make-dataset")
def make_dataset_command(
    hand_name: str = typer.Argument(None, metavar="HAND", help=HAND_HELP, show_default=False),
    out: Path = typer.Option(..., "--out", help="New LeRobot dataset directory."),
    tasks: str = typer.Option("pinch,tripod,power,point,hook,open", "--tasks", help="Comma-separated tasks."),
    scenes: int = typer.Option(16, "--scenes", min=1, help="Scenes (episodes) per task."),
    frames: int = typer.Option(12, "--frames", min=2, help="Frames per episode (10 fps)."),
    seed: int = typer.Option(0, "--seed"),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
    legacy_hand: str = typer.Option(None, "--hand", hidden=True),
) -> None:
    """Write a LeRobot dataset of demonstrations solved by HAND's own IK for the benchmark's tasks."""
    from xlsdk import load_hand
    from xlsdk.bench.crosshand.dataset import write_task_dataset

    _quiet_video_backend_probe()
    name = _hand(hand_name, legacy_hand)
    demos = write_task_dataset(load_hand(name), out, tasks=[t.strip() for t in tasks.split(",") if t.strip()],
                               scenes_per_task=scenes, frames=frames, seed=seed)
    if json_output:
        print_json(_finite_or_none({"hand": demos.hand, "out": str(demos.root), "episodes": demos.episodes,
                                    "frames": demos.frames, "tasks": sorted({scene.task for scene in demos.scenes}),
                                    "expert_error": demos.expert_error}))
        return
    console.print(f"wrote {demos.episodes} episodes ({demos.frames} frames) of {name} to {out}")


def _dataset_hands(roots: list[Path]) -> dict[str, Any]:
    """The installed hand of each dataset's robot_type (the face turns names into Hands for the library)."""
    from xlsdk import hands, load_hand
    from xlsdk.errors import DataFormatError
    from xlsdk.policy.train import dataset_hand_names

    names, installed = dataset_hand_names(roots), set(hands())
    for root, name in zip(roots, names, strict=True):
        if name not in installed:
            raise DataFormatError(f"{root}: robot_type {name!r} is not an installed hand", hint="`xlsdk hands` lists them")
    return {name: load_hand(name) for name in sorted(set(names))}


@policy_app.command("train")
def train_command(
    dataset: list[Path] = typer.Option(..., "--dataset", help="A LeRobot dataset directory (repeat for several hands)."),
    out: Path = typer.Option(..., "--out", help="Directory for the trained policy."),
    space: str = typer.Option("latent", "--space", help="latent (the shared latent) or raw (padded joints)."),
    steps: int = typer.Option(1500, "--steps", min=1),
    batch_size: int = typer.Option(64, "--batch-size", min=1),
    seed: int = typer.Option(0, "--seed"),
    device: str = typer.Option("auto", "--device",
                               help="auto | cpu | cuda (several GPUs: `accelerate launch -m xlsdk policy train ...`)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Train one policy on the LeRobot datasets of one or more hands (each dataset's robot_type names its hand)."""
    from xlsdk.errors import XlsdkError
    from xlsdk.policy.train import train_from_datasets

    _quiet_video_backend_probe()
    if space not in ("latent", "raw"):
        raise XlsdkError(f"--space must be latent or raw, got {space!r}")
    metadata, losses = train_from_datasets(dataset, out, hands=_dataset_hands(dataset), space_name=space,
                                           steps=steps, batch_size=batch_size, seed=seed, progress=not json_output,
                                           device=device)
    if json_output:
        print_json(_finite_or_none({**metadata.model_dump(), "first_loss": losses[0], "out": str(out)}))
        return
    console.print(f"trained a {space} policy on {', '.join(metadata.hands)} in {metadata.seconds:.0f} s: "
                  f"loss {losses[0]:.4f} -> {metadata.final_loss:.4f}; saved to {out}")


@policy_app.command("run")
def run_command(
    hand_name: str = typer.Argument(None, metavar="HAND", help="Any installed hand with a fitted head.",
                                    show_default=False),
    policy_path: Path = typer.Option(..., "--policy", help="A policy directory from `xlsdk policy train`."),
    driver_name: str = typer.Option("sim", "--driver", help="Driver to run on (sim by default)."),
    port: str = typer.Option(None, "--port", help="Transport for real drivers."),
    task: str = typer.Option("pinch", "--task", help="pinch | tripod | power | point | hook | open"),
    episodes: int = typer.Option(1, "--episodes", min=1),
    seed: int = typer.Option(0, "--seed"),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
    legacy_hand: str = typer.Option(None, "--hand", hidden=True),
) -> None:
    """Closed loop: render a scene for TASK, let the policy drive HAND, report the task error."""
    from xlsdk.bench.crosshand.evaluate import evaluate_policy
    from xlsdk.policy.configuration_xlvla import refuse_other_core_latent

    _quiet_video_backend_probe()
    refuse_other_core_latent(policy_path)  # a latent policy runs only under the core latent it was trained in
    report = evaluate_policy(policy_path, _hand(hand_name, legacy_hand), task=task, episodes=episodes, seed=seed,
                             driver=driver_name, driver_options={"port": port} if port else None)
    if json_output:
        print_json(_finite_or_none(report.model_dump(mode="json")))
        return
    note = "" if report.seen_in_training else " (a hand absent from the training data, driven through its head)"
    console.print(f"{report.action_space} policy on [bold]{report.hand}[/]{note}, driver {report.driver}:")
    for row in report.episodes:
        mark = "[green]success[/]" if row.success else "[red]miss[/]"
        console.print(f"  {row.instruction!r}: task error {row.error:.3f} (expert {row.expert_error:.3f}) {mark}")
    console.print(f"success {report.success_rate:.0%} of {len(report.episodes)} episode(s)")
