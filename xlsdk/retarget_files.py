"""Retargeting files: one hand's joint trajectory or LeRobot dataset, or a person's keypoints, to other hands.

``xlsdk retarget`` is a face on these two functions; a script that retargets files gets the same checks,
the same files and the same summary (the command's ``--json``) without going through the CLI. They take
Hands (the caller resolved the names) and output paths the caller has already checked
(:func:`xlsdk.trajectories.check_output_path`), and they write nothing when a result is not finite.

What the summary adds to the files is what a user needs to trust them: for joints, how many poses lay
outside the source hand's limits (the heads are fitted inside them, so those answers are extrapolations);
for keypoints, the frames skipped for having no hand and how well the human hand's landmarks fitted.
Printing those warnings is the caller's (the CLI puts them on stderr).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from xlsdk.errors import DataFormatError
from xlsdk.hand import Hand
from xlsdk.latent.refine import REFINE_STEPS


@dataclass(frozen=True)
class RetargetedJoints:
    """What :func:`retarget_joint_file` did: the summary (``xlsdk retarget --json``) and the poses it checked."""

    #: input, output, hands, kind, the poses (a trajectory) or the columns (a dataset), and
    #: ``outside_source_limits``: the poses and joints outside the source's limits and the largest excess
    summary: dict[str, Any]
    #: poses compared with the source's limits (a dataset's columns each count): the warning's "N of M"
    poses_checked: int


def retarget_joint_file(input_path: Path, output_path: Path, src: Hand, dst: Hand, *, refine: bool = False,
                        refine_steps: int = REFINE_STEPS) -> RetargetedJoints:
    """``src``'s joints in ``input_path`` (a .npy/.npz/.csv trajectory or a LeRobot dataset's action and state
    columns) to ``dst``'s in ``output_path`` (the same kind)."""
    from xlsdk.latent.retarget import retarget
    from xlsdk.trajectories import (LimitReport, Trajectory, check_extra_fits, check_finite_result, is_lerobot_dataset,
                                    limit_report, read_trajectory, retarget_lerobot_dataset, write_trajectory)

    outside: list[LimitReport] = []

    def mapper(q: np.ndarray) -> np.ndarray:
        outside.append(limit_report(q, src.spec.lower, src.spec.upper, src.joint_names))
        try:
            mapped = np.asarray(retarget(q, src, dst, refine=refine, refine_steps=refine_steps))
        except DataFormatError as exc:  # the latent refuses non-finite results; name the file here
            raise DataFormatError(f"{input_path}: {exc.message}; nothing was written") from None
        check_finite_result(mapped, input_path, dst.joint_names)
        return mapped

    summary: dict[str, Any]
    if is_lerobot_dataset(input_path):
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
    summary["outside_source_limits"] = {"poses": sum(report.poses for report in outside),
                                        "joints": sorted({joint for report in outside for joint in report.joints}),
                                        "worst": max((report.worst for report in outside), default=0.0)}
    return RetargetedJoints(summary=summary, poses_checked=sum(report.total for report in outside))


def retarget_keypoint_file(input_path: Path, outputs: Mapping[str, Path], src: Hand, dsts: Sequence[Hand], *,
                           order: Literal["mediapipe", "mano"] = "mediapipe", handedness: str = "right",
                           hand_length: float | None = None, refine: bool = False,
                           refine_steps: int = REFINE_STEPS) -> dict[str, Any]:
    """A person's keypoints in ``input_path`` -> ``src`` (the human hand) -> every hand of ``dsts``, one joint
    trajectory per target at ``outputs[dst.name]``; returns the summary.

    Every answer is checked finite before the first file is written. The summary names the frames, the
    ``skipped_frames`` without a hand, the person's ``hand_length`` and the landmark error (median, max, mm).
    """
    from xlsdk.human import retarget_keypoints
    from xlsdk.keypoints import read_keypoints
    from xlsdk.trajectories import Trajectory, check_finite_result, write_trajectory

    keypoints = read_keypoints(input_path, order=order)
    try:
        fitted, answers = retarget_keypoints(keypoints.points, src, list(dsts), handedness=handedness,
                                             hand_length=hand_length, refine=refine, refine_steps=refine_steps,
                                             where=str(input_path))
    except DataFormatError as exc:
        message = exc.message if exc.message.startswith(str(input_path)) else f"{input_path}: {exc.message}"
        raise DataFormatError(f"{message}; nothing was written", hint=exc.hint) from None
    for dst in dsts:  # every answer checked before the first file is written
        check_finite_result(answers[dst.name], input_path, dst.joint_names)
    for dst in dsts:
        write_trajectory(outputs[dst.name], Trajectory(q=answers[dst.name], joint_names=dst.joint_names,
                                                       timestamps=keypoints.timestamps))
    return {"input": str(input_path), "from": src.name, "kind": "keypoints", "frames": int(keypoints.points.shape[0]),
            "skipped_frames": keypoints.skipped_frames, "timestamps": keypoints.timestamps is not None,
            "outputs": {dst.name: str(outputs[dst.name]) for dst in dsts},
            "hand_length": float(fitted.hand_length[0]),
            "landmark_error_mm": {"median": float(np.median(fitted.error) * 1000),
                                  "max": float(fitted.error.max() * 1000)}}
