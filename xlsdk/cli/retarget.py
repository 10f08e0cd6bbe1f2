"""``xlsdk retarget --from A --to B IN OUT``: trajectories, LeRobot datasets and keypoints through the latent."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from xlsdk.cli.app import app, console, console_err, print_json

if TYPE_CHECKING:
    from xlsdk.hand import Hand

HAND_PLACEHOLDER = "{hand}"


@app.command("retarget")
def retarget_command(
    source: str = typer.Option(..., "--from", help="Hand the input was recorded on (`human`: IN holds keypoints)."),
    targets: list[str] = typer.Option(..., "--to", help="Hand to retarget to; repeat for several (OUT then names "
                                      "each file with {hand})."),
    input_path: Path = typer.Argument(..., metavar="IN", help=".npy, .npz, .csv or a LeRobot dataset directory; "
                                      "for a human source .npy (T, 21, 3), .npz, .json or .csv keypoints."),
    output_path: Path = typer.Argument(..., metavar="OUT", help="Same kind as IN (a new directory for datasets); a "
                                       "joint trajectory (.npy, .npz, .csv) for keypoints. With several --to, "
                                       "'{hand}' in OUT is replaced by each hand's name."),
    refine: bool = typer.Option(False, "--refine", help="Polish each pose with a few Levenberg-Marquardt steps on the fingertip geometry."),
    refine_steps: int = typer.Option(2, "--refine-steps", min=1, max=1000,
                                     help="Levenberg-Marquardt steps per pose with --refine (1-1000)."),
    order: str = typer.Option("mediapipe", "--order", help="Keypoint order of IN: mediapipe (wrist, thumb 1-4, "
                              "index 5-8, middle, ring, little) or mano (MANO's 16 joints + 5 tips)."),
    left: bool = typer.Option(False, "--left", help="IN holds a left hand's keypoints (mirrored into the right-hand model)."),
    hand_length: float | None = typer.Option(None, "--hand-length", help="The person's hand length (wrist to middle "
                                             "fingertip) in the keypoints' unit; default: measured from the keypoints."),
    force: bool = typer.Option(False, "--force", help="Replace OUT if it exists (never IN, never a dataset)."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Retarget a joint trajectory, a LeRobot dataset's action/state columns, or a person's hand keypoints to other hands."""
    from xlsdk import load_hand
    from xlsdk.errors import DataFormatError, OutputExistsError
    from xlsdk.human import tracks_landmarks
    from xlsdk.trajectories import check_output_path, is_lerobot_dataset

    if len(targets) > 1 and HAND_PLACEHOLDER not in str(output_path):
        raise DataFormatError(f"{output_path}: several --to hands write several files; put {HAND_PLACEHOLDER} in OUT "
                              f"(e.g. out/{HAND_PLACEHOLDER}.csv)")
    if len(set(targets)) != len(targets):
        raise DataFormatError(f"--to lists a hand twice ({', '.join(sorted({t for t in targets if targets.count(t) > 1}))})")
    outputs = {name: Path(str(output_path).replace(HAND_PLACEHOLDER, name)) for name in targets}
    dataset = is_lerobot_dataset(input_path)
    for out in outputs.values():
        try:  # refuse before loading anything: OUT is IN, under a file, a directory, or exists
            check_output_path(input_path, out, overwrite=force, directory=dataset)
        except OutputExistsError as exc:
            raise OutputExistsError(exc.path, hint="pass --force to replace it") from None
    src = load_hand(source)
    dsts = [load_hand(name) for name in targets]
    if tracks_landmarks(src):
        if dataset:
            raise DataFormatError(f"{input_path}: a human source reads keypoints files (.npy, .npz, .json, .csv), "
                                  "not a LeRobot dataset")
        summaries = [_keypoints(input_path, outputs, src, dsts, refine=refine, refine_steps=refine_steps,
                                order=order, left=left, hand_length=hand_length)]
    else:
        if left or hand_length is not None or order != "mediapipe":
            raise DataFormatError(f"--left, --hand-length and --order describe keypoints; {src.name} has no landmark "
                                  "links, so IN holds its joints")
        summaries = [_joints(input_path, outputs[dst.name], src, dst, dataset=dataset, refine=refine,
                             refine_steps=refine_steps) for dst in dsts]
    lines = [line for summary in summaries for line in summary.pop("_lines")]
    if json_output:
        print_json(summaries[0] if len(summaries) == 1 else summaries)
    else:
        for line in lines:
            console.print(line)


def _keypoints(input_path: Path, outputs: dict[str, Path], src: Hand, dsts: list[Hand], *, refine: bool,
               refine_steps: int, order: str, left: bool, hand_length: float | None) -> dict:
    """Keypoints -> the human hand's joints -> every target; one trajectory file per target."""
    import numpy as np

    from xlsdk.errors import DataFormatError
    from xlsdk.human import retarget_keypoints
    from xlsdk.keypoints import read_keypoints
    from xlsdk.trajectories import Trajectory, check_finite_result, write_trajectory

    if order not in ("mediapipe", "mano"):
        raise DataFormatError(f"--order {order!r}: use mediapipe or mano")
    keypoints = read_keypoints(input_path, order=order)  # type: ignore[arg-type]
    try:
        fitted, answers = retarget_keypoints(keypoints.points, src, dsts, handedness="left" if left else "right",
                                             hand_length=hand_length, refine=refine, refine_steps=refine_steps,
                                             where=str(input_path))
    except DataFormatError as exc:
        message = exc.message if exc.message.startswith(str(input_path)) else f"{input_path}: {exc.message}"
        raise DataFormatError(f"{message}; nothing was written", hint=exc.hint) from None
    for dst in dsts:  # every answer checked before the first file is written
        check_finite_result(answers[dst.name], input_path, dst.joint_names)
    lines = []
    for dst in dsts:
        write_trajectory(outputs[dst.name], Trajectory(q=answers[dst.name], joint_names=dst.joint_names,
                                                       timestamps=keypoints.timestamps))
        lines.append(f"retargeted {keypoints.points.shape[0]} frames of keypoints {src.name} -> {dst.name}: "
                     f"{outputs[dst.name]}")
    if keypoints.skipped_frames:
        console_err.print(f"[yellow]warning:[/] {input_path}: {keypoints.skipped_frames} frame(s) without a hand were "
                          "skipped", soft_wrap=True, highlight=False)
    return {"input": str(input_path), "from": src.name, "kind": "keypoints", "frames": int(keypoints.points.shape[0]),
            "skipped_frames": keypoints.skipped_frames, "timestamps": keypoints.timestamps is not None,
            "outputs": {name: str(path) for name, path in outputs.items()},
            "hand_length": float(fitted.hand_length[0]),
            "landmark_error_mm": {"median": float(np.median(fitted.error) * 1000),
                                  "max": float(fitted.error.max() * 1000)}, "_lines": lines}


def _joints(input_path: Path, output_path: Path, src: Hand, dst: Hand, *, dataset: bool, refine: bool,
            refine_steps: int) -> dict:
    """One hand's joints (a trajectory file or a LeRobot dataset) -> another hand's."""
    import numpy as np

    from xlsdk.errors import DataFormatError
    from xlsdk.latent.retarget import retarget
    from xlsdk.trajectories import (LimitReport, Trajectory, check_extra_fits, check_finite_result, limit_report,
                                    read_trajectory, retarget_lerobot_dataset, write_trajectory)

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
        check_extra_fits(output_path, trajectory, input_path)  # what .npy cannot hold is refused, not dropped
        mapped = Trajectory(q=mapper(trajectory.q), joint_names=dst.joint_names, timestamps=trajectory.timestamps,
                            extra=trajectory.extra)
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
    what = f"{summary.get('poses', '')} poses" if "poses" in summary else f"columns {', '.join(summary['columns'])}"
    return summary | {"_lines": [f"retargeted {what} {src.name} -> {dst.name}: {output_path}"]}
