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
        summaries = [_joints(input_path, outputs[dst.name], src, dst, refine=refine, refine_steps=refine_steps)
                     for dst in dsts]
    lines = [line for summary in summaries for line in summary.pop("_lines")]
    if json_output:
        print_json(summaries[0] if len(summaries) == 1 else summaries)
    else:
        for line in lines:
            console.print(line)


def _keypoints(input_path: Path, outputs: dict[str, Path], src: Hand, dsts: list[Hand], *, refine: bool,
               refine_steps: int, order: str, left: bool, hand_length: float | None) -> dict:
    """Keypoints -> the human hand's joints -> every target (:func:`xlsdk.retarget_files.retarget_keypoint_file`)."""
    from xlsdk.errors import DataFormatError
    from xlsdk.retarget_files import retarget_keypoint_file

    if order not in ("mediapipe", "mano"):
        raise DataFormatError(f"--order {order!r}: use mediapipe or mano")
    summary = retarget_keypoint_file(input_path, outputs, src, dsts, order=order,  # type: ignore[arg-type]
                                     handedness="left" if left else "right", hand_length=hand_length, refine=refine,
                                     refine_steps=refine_steps)
    if summary["skipped_frames"]:
        console_err.print(f"[yellow]warning:[/] {input_path}: {summary['skipped_frames']} frame(s) without a hand were "
                          "skipped", soft_wrap=True, highlight=False)
    lines = [f"retargeted {summary['frames']} frames of keypoints {src.name} -> {dst.name}: {outputs[dst.name]}"
             for dst in dsts]
    return summary | {"_lines": lines}


def _joints(input_path: Path, output_path: Path, src: Hand, dst: Hand, *, refine: bool, refine_steps: int) -> dict:
    """One hand's joints (a trajectory file or a LeRobot dataset) -> another hand's
    (:func:`xlsdk.retarget_files.retarget_joint_file`); warns about poses outside the source's limits."""
    from xlsdk.retarget_files import retarget_joint_file

    result = retarget_joint_file(input_path, output_path, src, dst, refine=refine, refine_steps=refine_steps)
    summary, outside = result.summary, result.summary["outside_source_limits"]
    if outside["poses"]:
        console_err.print(f"[yellow]warning:[/] {input_path}: {outside['poses']} of {result.poses_checked} "
                          f"pose(s) lie outside the {src.name} limits (joints {', '.join(outside['joints'])}; up to "
                          f"{outside['worst']:.3g} beyond); the heads are fitted inside the "
                          "limits, so their results are extrapolations: check or clip those poses",
                          soft_wrap=True, highlight=False)
    what = f"{summary.get('poses', '')} poses" if "poses" in summary else f"columns {', '.join(summary['columns'])}"
    return summary | {"_lines": [f"retargeted {what} {src.name} -> {dst.name}: {output_path}"]}
