"""``xlsdk retarget --from A --to B IN OUT``: trajectories and LeRobot datasets through the latent."""

from __future__ import annotations

from pathlib import Path

import typer

from xlsdk.cli.app import app, console, console_err, print_json


@app.command("retarget")
def retarget_command(
    source: str = typer.Option(..., "--from", help="Hand the input was recorded on."),
    target: str = typer.Option(..., "--to", help="Hand to retarget to."),
    input_path: Path = typer.Argument(..., metavar="IN", help=".npy, .npz, .csv or a LeRobot dataset directory."),
    output_path: Path = typer.Argument(..., metavar="OUT", help="Same kind as IN (a new directory for datasets)."),
    refine: bool = typer.Option(False, "--refine", help="Polish each pose with a few Levenberg-Marquardt steps on the fingertip geometry."),
    refine_steps: int = typer.Option(2, "--refine-steps"),
    force: bool = typer.Option(False, "--force", help="Replace OUT if it exists (never IN, never a dataset)."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Retarget a joint trajectory (or a LeRobot dataset's action/state columns) from one hand to another."""
    import numpy as np

    from xlsdk import load_hand
    from xlsdk.errors import DataFormatError, OutputExistsError
    from xlsdk.latent.retarget import retarget
    from xlsdk.trajectories import (LimitReport, Trajectory, check_finite_result, check_output_path,
                                    is_lerobot_dataset, limit_report, read_trajectory, retarget_lerobot_dataset,
                                    write_trajectory)

    dataset = is_lerobot_dataset(input_path)
    try:  # refuse before loading anything: OUT is IN, under a file, a directory, or exists
        check_output_path(input_path, output_path, overwrite=force, directory=dataset)
    except OutputExistsError as exc:
        raise OutputExistsError(exc.path, hint="pass --force to replace it") from None
    src, dst = load_hand(source), load_hand(target)
    outside: list[LimitReport] = []

    def mapper(q: np.ndarray) -> np.ndarray:
        outside.append(limit_report(q, src.spec.lower, src.spec.upper, src.joint_names))
        try:
            mapped = np.asarray(retarget(q, src, dst, refine=refine, refine_steps=refine_steps))
        except DataFormatError as exc:  # the library refuses non-finite results; name the file here
            raise DataFormatError(f"{input_path}: {exc.message}; nothing was written") from None
        check_finite_result(mapped, input_path, dst.joint_names)
        return mapped

    if dataset:
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
    poses_outside = sum(report.poses for report in outside)
    joints_outside = sorted({joint for report in outside for joint in report.joints})
    summary["outside_source_limits"] = {"poses": poses_outside, "joints": joints_outside,
                                        "worst": max((report.worst for report in outside), default=0.0)}
    if poses_outside:
        console_err.print(f"[yellow]warning:[/] {input_path}: {poses_outside} of {sum(r.total for r in outside)} "
                          f"pose(s) lie outside the {src.name} limits (joints {', '.join(joints_outside)}; up to "
                          f"{summary['outside_source_limits']['worst']:.3g} beyond); the heads are fitted inside the "
                          "limits, so their results are extrapolations: check or clip those poses",
                          soft_wrap=True, highlight=False)
    if json_output:
        print_json(summary)
    else:
        what = f"{summary.get('poses', '')} poses" if "poses" in summary else f"columns {', '.join(summary['columns'])}"
        console.print(f"retargeted {what} {src.name} -> {dst.name}: {output_path}")
