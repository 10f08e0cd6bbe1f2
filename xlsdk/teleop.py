"""Teleoperation from a camera: keypoint lines from the camera front-end -> every hand, frame by frame.

The camera front-end (:mod:`xlsdk.camera_keypoints`) runs MediaPipe in an environment of its own
(``make teleop-env``, ``.venv-teleop``): MediaPipe pins protobuf < 5 and opencv-contrib, which conflict
with this environment's. It prints one JSON line per frame; this module starts it, reads its lines
(or the same lines recorded to a file, which is how the loop is tested and replayed without a
camera) and feeds each seen hand through a :class:`~xlsdk.human.HumanStream`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xlsdk.errors import DataFormatError, XlsdkError
from xlsdk.human import HumanStream
from xlsdk.keypoints import LANDMARK_COUNT

#: the teleop environment, looked up beside the checkout's core venv unless XLSDK_TELEOP_PYTHON names one
TELEOP_ENV = ".venv-teleop"
CAMERA_SCRIPT = Path(__file__).with_name("camera_keypoints.py")


class TeleopError(XlsdkError):
    """The camera front-end is missing, cannot open its source, or sent something that is not keypoints."""


@dataclass(frozen=True)
class KeypointFrame:
    """One frame of the front-end: its index and keypoints ``(21, 3)``, or ``None`` when no hand was seen."""

    index: int
    keypoints: np.ndarray | None


def teleop_python() -> Path:
    """The teleop environment's interpreter, or a :class:`TeleopError` naming the make target."""
    named = os.environ.get("XLSDK_TELEOP_PYTHON")
    candidates = [Path(named)] if named else [Path(sys.prefix).parent / TELEOP_ENV / "bin" / "python",
                                             Path.cwd() / TELEOP_ENV / "bin" / "python"]
    for python in candidates:
        if python.is_file() and os.access(python, os.X_OK) and (python.parent.parent / ".installed").is_file():
            return python
    raise TeleopError(f"the camera front-end's environment is missing (looked for {', '.join(map(str, candidates))})",
                      hint="run `make teleop-env` in the xlsdk checkout, or set XLSDK_TELEOP_PYTHON to a Python "
                           "with mediapipe==0.10.14")


def parse_lines(lines: Iterable[str], where: str) -> Iterator[KeypointFrame]:
    """Keypoint frames from the front-end's JSON lines; a malformed line is refused naming its number."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{where} line {number}: not JSON ({exc.msg}); expected one keypoint frame per "
                                  "line as xlsdk/camera_keypoints.py prints it") from None
        if not isinstance(record, dict):
            raise DataFormatError(f"{where} line {number}: expected an object with 'keypoints', got {type(record).__name__}")
        if "error" in record:
            raise TeleopError(f"{where}: {record['error']}", hint="check the camera index (--camera 0 is the first) "
                                                                   "or the video file")
        if record.get("end"):
            return
        if "keypoints" not in record:
            raise DataFormatError(f"{where} line {number}: no 'keypoints' field (null when no hand is seen)")
        points = record["keypoints"]
        if points is None:
            yield KeypointFrame(int(record.get("frame", number - 1)), None)
            continue
        try:
            array = np.asarray(points, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataFormatError(f"{where} line {number}: 'keypoints' must be 21 [x, y, z] numbers") from None
        if array.shape != (LANDMARK_COUNT, 3) or not np.isfinite(array).all():
            raise DataFormatError(f"{where} line {number}: 'keypoints' must be {LANDMARK_COUNT} finite [x, y, z], "
                                  f"got shape {array.shape}")
        yield KeypointFrame(int(record.get("frame", number - 1)), array)


def camera_lines(*, video: Path | None = None, camera: int | None = None,
                 max_frames: int = 0) -> Iterator[str]:
    """The front-end's lines for a video file or a camera, read as the subprocess prints them."""
    if video is not None and not Path(video).is_file():
        raise TeleopError(f"video {video}: no such file")
    python = teleop_python()
    source = ["--video", str(video)] if video is not None else ["--camera", str(camera)]
    command = [str(python), str(CAMERA_SCRIPT), *source, "--max-frames", str(max_frames)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        yield from process.stdout
        process.stdout.close()
        code = process.wait()
        errors = process.stderr.read() if process.stderr else ""
    if code not in (0, 3):  # 3: the script's own error line, already reported by parse_lines
        last = errors.strip().splitlines()[-1] if errors.strip() else f"exit code {code}"
        raise TeleopError(f"the camera front-end failed: {last}", hint="rebuild it with `make teleop-env`")


@dataclass
class TeleopRun:
    """What a teleoperation run produced: per hand its joints per seen frame, and the frames' indices."""

    frames: list[int]
    joints: dict[str, list[np.ndarray]]
    latents: list[np.ndarray]
    keypoints: list[np.ndarray]
    unseen: int


def run_stream(frames: Iterable[KeypointFrame], stream: HumanStream, targets: list[str], *,
               on_frame: Callable[[dict[str, np.ndarray]], None] | None = None) -> TeleopRun:
    """Feed every frame with a hand through ``stream``; frames without one are counted, not guessed.

    ``on_frame`` gets every seen frame's answers as they come (the CLI commands the hands' drivers there).
    """
    run = TeleopRun(frames=[], joints={name: [] for name in targets}, latents=[], keypoints=[], unseen=0)
    for frame in frames:
        if frame.keypoints is None:
            run.unseen += 1
            continue
        answers = stream(frame.keypoints)
        run.frames.append(frame.index)
        run.latents.append(np.asarray(stream.latent))
        run.keypoints.append(frame.keypoints)
        for name in targets:
            run.joints[name].append(answers[name])
        if on_frame is not None:
            on_frame(answers)
    return run


def latent_chunks(latents: np.ndarray, chunk: int) -> np.ndarray:
    """Per frame the latents of it and the next ``chunk - 1`` frames ``(T, chunk, k)``, the last repeated at the end.

    A latent policy predicts chunks of the shared latent (:mod:`xlsdk.policy`), so a demonstration's
    action at frame t is where the hand goes over the next ``chunk`` frames, not only the next one.
    """
    frames = latents.shape[0]
    index = np.minimum(np.arange(frames)[:, None] + np.arange(chunk)[None], frames - 1)
    return latents[index]


def write_teleop_dataset(run: TeleopRun, output: Path, *, fps: int, chunk: int, task: str) -> None:
    """One LeRobot v3 episode of a teleoperation run, built beside ``output`` and renamed into place.

    Columns: ``action`` the latent chunk ``(chunk * k,)`` (frame-major), ``action.<hand>`` the joints each
    driven hand was given, ``observation.keypoints`` the 21 x 3 keypoints the frame was fitted to.
    """
    import shutil

    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    from xlsdk.files import staging_dir

    output = Path(output)
    if output.exists():
        raise DataFormatError(f"--record {output}: already exists; a recording goes to a new directory")
    latents = np.stack(run.latents).astype(np.float32)
    chunks = latent_chunks(latents, chunk).reshape(latents.shape[0], -1)
    k = latents.shape[1]
    features = {
        "action": {"dtype": "float32", "shape": (chunk * k,), "names": [f"z{t}_{i}" for t in range(chunk) for i in range(k)]},
        "observation.keypoints": {"dtype": "float32", "shape": (3 * LANDMARK_COUNT,),
                                  "names": [f"{i}_{axis}" for i in range(LANDMARK_COUNT) for axis in "xyz"]},
        **{f"action.{name}": {"dtype": "float32", "shape": (len(values[0]),), "names": None}
           for name, values in run.joints.items()},
    }
    staging = staging_dir(output)
    try:
        dataset = LeRobotDataset.create(repo_id=f"xlsdk/teleop_{output.name}", fps=fps, root=staging / "dataset",
                                        features=features, robot_type="human", use_videos=False)
        for t in range(latents.shape[0]):
            dataset.add_frame({"action": chunks[t], "observation.keypoints": run.keypoints[t].reshape(-1).astype(np.float32),
                               **{f"action.{name}": np.asarray(values[t], dtype=np.float32)
                                  for name, values in run.joints.items()}, "task": task})
        dataset.save_episode()
        dataset.finalize()
        (staging / "dataset").rename(output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
