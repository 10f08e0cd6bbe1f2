"""``xlsdk retarget --from A --to B IN OUT``: trajectories and LeRobot datasets through the latent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

from xlsdk.cli.app import app, console, print_json


@app.command("retarget")
def retarget_command(
    source: str = typer.Option(..., "--from", help="Hand the input was recorded on."),
    target: str = typer.Option(..., "--to", help="Hand to retarget to."),
    input_path: Path = typer.Argument(..., metavar="IN", help=".npy, .npz, .csv or a LeRobot dataset directory."),
    output_path: Path = typer.Argument(..., metavar="OUT", help="Same kind as IN (a new directory for datasets)."),
    refine: bool = typer.Option(False, "--refine", help="Polish each pose with a few geometry gradient steps."),
    refine_steps: int = typer.Option(20, "--refine-steps"),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Retarget a joint trajectory (or a LeRobot dataset's action/state columns) from one hand to another."""
    from xlsdk import load_hand
    from xlsdk.latent.retarget import retarget
    from xlsdk.trajectories import (Trajectory, is_lerobot_dataset, read_trajectory, retarget_lerobot_dataset,
                                    write_trajectory)

    src, dst = load_hand(source), load_hand(target)

    def mapper(q: np.ndarray) -> np.ndarray:
        return np.asarray(retarget(q, src, dst, refine=refine, refine_steps=refine_steps))

    if is_lerobot_dataset(input_path):
        keys = retarget_lerobot_dataset(input_path, output_path, mapper, src.dof, dst.joint_names)
        summary = {"input": str(input_path), "output": str(output_path), "from": src.name, "to": dst.name,
                   "kind": "lerobot", "columns": keys}
    else:
        trajectory = read_trajectory(input_path, src.joint_names)
        mapped = Trajectory(q=mapper(trajectory.q), joint_names=dst.joint_names, timestamps=trajectory.timestamps)
        write_trajectory(output_path, mapped)
        summary = {"input": str(input_path), "output": str(output_path), "from": src.name, "to": dst.name,
                   "kind": input_path.suffix.lstrip("."), "poses": int(trajectory.q.shape[0]),
                   "timestamps": trajectory.timestamps is not None}
    if json_output:
        print_json(summary)
    else:
        what = f"{summary.get('poses', '')} poses" if "poses" in summary else f"columns {', '.join(summary['columns'])}"
        console.print(f"retargeted {what} {src.name} -> {dst.name}: {output_path}")
