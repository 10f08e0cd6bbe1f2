"""Hand keypoints as people record them: the 21-landmark convention, MANO's order, and the files.

A demonstration of a person's hand arrives as 21 3-D keypoints per frame, from MediaPipe, a motion
capture rig, a MANO fit, or a recorder of one's own. This module turns every such file into one array
``(T, 21, 3)`` in the **MediaPipe order** (:data:`MEDIAPIPE_LANDMARKS`: 0 wrist; thumb 1-4; index 5-8;
middle 9-12; ring 13-16; little 17-20; the tips are 4, 8, 12, 16, 20) and refuses, with the frame and
landmark named, what cannot be used: a wrong landmark count, NaN or infinite values, an empty file.

Frame and scale: any right-handed frame (a camera's, a world's) and any unit; :mod:`xlsdk.human`
aligns the palm and measures the size. Which hand it is (right or left) cannot be seen in one frame
of a flat hand, so it is stated by the caller and checked by :mod:`xlsdk.human` on the whole file.

Files read (:func:`read_keypoints`):

* ``.npy``: ``(T, 21, 3)`` or one frame ``(21, 3)`` (never unpickled);
* ``.npz``: an array ``keypoints`` (or ``landmarks``) as above, optionally ``timestamp`` ``(T,)``;
* ``.json``: a list of frames (or ``{"frames": [...]}``); a frame is 21 ``[x, y, z]`` lists, 21
  ``{"x", "y", "z"}`` objects (MediaPipe's ``NormalizedLandmark``/``Landmark`` fields), or an object
  holding them under ``world_landmarks``/``hand_world_landmarks``/``multi_hand_world_landmarks``
  (preferred: metric) or ``landmarks``/``hand_landmarks``/``multi_hand_landmarks`` (as the legacy
  solution and the Tasks ``HandLandmarkerResult`` name them, snake_case or camelCase), either one hand
  or a list of hands; ``timestamp``/``timestamp_ms``/``time``/``t`` are kept; a frame with no hand
  (an empty list) is skipped and counted;
* ``.csv``: one row per frame with 63 coordinate columns named ``<landmark>_<axis>`` (MediaPipe names
  such as ``WRIST_x``, ``INDEX_FINGER_TIP_z``, any case) or ``x0 ... z20`` / ``x_0`` / ``0_x`` /
  ``landmark_0_x``, plus an optional time column; or one row per landmark with columns ``frame``,
  ``landmark`` (or ``id``/``index``), ``x``, ``y``, ``z``.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.errors import DataFormatError

#: the 21 landmarks of the MediaPipe hand convention, in its order (link names of the human hand model)
MEDIAPIPE_LANDMARKS: tuple[str, ...] = (
    "wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_finger_mcp", "index_finger_pip", "index_finger_dip", "index_finger_tip",
    "middle_finger_mcp", "middle_finger_pip", "middle_finger_dip", "middle_finger_tip",
    "ring_finger_mcp", "ring_finger_pip", "ring_finger_dip", "ring_finger_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)
LANDMARK_COUNT = len(MEDIAPIPE_LANDMARKS)
#: MANO's joint order (the 16 joints of the MANO model: wrist; index, middle, little, ring, thumb with
#: three joints each from the hand outward; then the five fingertip vertices in the order thumb, index,
#: middle, ring, little, as manopth appends them): entry i is the MediaPipe index of MANO joint i
MANO_TO_MEDIAPIPE: tuple[int, ...] = (0, 5, 6, 7, 9, 10, 11, 17, 18, 19, 13, 14, 15, 1, 2, 3, 4, 8, 12, 16, 20)
KeypointOrder = Literal["mediapipe", "mano"]

_WORLD_KEYS = ("world_landmarks", "hand_world_landmarks", "multi_hand_world_landmarks")
_IMAGE_KEYS = ("landmarks", "hand_landmarks", "multi_hand_landmarks", "keypoints")
_TIME_KEYS = ("timestamp", "timestamp_ms", "time", "t")
_FRAME_COLUMNS = ("frame", "frame_index", "frame_id", "frame_idx")
_LANDMARK_COLUMNS = ("landmark", "landmark_id", "landmark_index", "id", "index", "joint", "keypoint")


class Keypoints(BaseModel):
    """Keypoints ``(T, 21, 3)`` in MediaPipe order, with the timestamps and the frames a file left out."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    points: np.ndarray
    timestamps: np.ndarray | None = None
    skipped_frames: int = 0


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def reorder(points: np.ndarray, order: KeypointOrder) -> np.ndarray:
    """Keypoints ``(..., 21, 3)`` from ``order`` into MediaPipe order."""
    if order == "mediapipe":
        return points
    if order == "mano":
        reordered = np.empty_like(points)
        reordered[..., list(MANO_TO_MEDIAPIPE), :] = points
        return reordered
    raise DataFormatError(f"unknown keypoint order {order!r}; use 'mediapipe' or 'mano'")


def check_keypoints(points: Any, where: str = "keypoints") -> np.ndarray:
    """``points`` as a float64 ``(T, 21, 3)`` array (one frame ``(21, 3)`` becomes ``T = 1``), or a clear error."""
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataFormatError(f"{where}: not a numeric array of keypoints ({exc})") from None
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[-1] != 3:
        hint = "; 2-D landmarks (x, y) need their depth z too" if array.ndim == 3 and array.shape[-1] == 2 else ""
        raise DataFormatError(f"{where}: expected keypoints of shape (T, {LANDMARK_COUNT}, 3), got {array.shape}{hint}")
    if array.shape[0] == 0:
        raise DataFormatError(f"{where}: holds no frames (shape {array.shape})")
    if array.shape[1] != LANDMARK_COUNT:
        raise DataFormatError(f"{where}: {array.shape[1]} landmarks per frame; a hand has {LANDMARK_COUNT} (wrist, then "
                              "4 per finger in the MediaPipe order, or MANO's order with --order mano)")
    if np.isfinite(array).all():  # the usual case, in one call (a stream checks every frame)
        return array
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        frame, landmark, axis = (int(v) for v in bad[0])
        raise DataFormatError(f"{where}: non-finite value {array[frame, landmark, axis]} at frame {frame}, landmark "
                              f"{landmark} ({MEDIAPIPE_LANDMARKS[landmark]}) {'xyz'[axis]} "
                              f"({len(np.unique(bad[:, 0]))} frame(s) affected); drop or interpolate those frames")
    return array


def read_keypoints(path: Path | str, *, order: KeypointOrder = "mediapipe") -> Keypoints:
    """Read a keypoints file (see the module docstring for the shapes) into MediaPipe order."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError(f"{path}: file not found")
    if path.is_dir():
        raise DataFormatError(f"{path}: is a directory, not a keypoints file (.npy, .npz, .json or .csv)")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            from xlsdk.trajectories import _load_npy

            points, timestamps, skipped = _load_npy(path), None, 0
        elif suffix == ".npz":
            points, timestamps, skipped = (*_read_npz(path), 0)
        elif suffix == ".json":
            points, timestamps, skipped = _read_json(path)
        elif suffix == ".csv":
            points, timestamps, skipped = _read_csv(path)
        else:
            raise DataFormatError(f"{path}: unsupported keypoints format {suffix or '(none)'}; use .npy, .npz, .json "
                                  "or .csv")
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    points = reorder(check_keypoints(points, str(path)), order)
    if timestamps is not None:
        timestamps = np.asarray(timestamps, dtype=np.float64)
        if timestamps.shape != (points.shape[0],) or not np.isfinite(timestamps).all():
            raise DataFormatError(f"{path}: timestamps must be {points.shape[0]} finite numbers, one per frame")
    return Keypoints(points=points, timestamps=timestamps, skipped_frames=skipped)


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    from xlsdk.trajectories import _read_member

    if not zipfile.is_zipfile(path):
        raise DataFormatError(f"{path}: not an .npz archive (not a zip file); save with numpy.savez")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {Path(name).stem: name for name in archive.namelist() if name.endswith(".npy")}
            key = next((k for k in ("keypoints", "landmarks") if k in members), None)
            if key is None:
                raise DataFormatError(f"{path}: no array named keypoints or landmarks (found "
                                      f"{', '.join(sorted(members)) or 'none'})")
            points = _read_member(archive, members[key], path)
            timestamps = _read_member(archive, members["timestamp"], path) if "timestamp" in members else None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise DataFormatError(f"{path}: damaged .npz archive ({exc})") from None
    return points, timestamps


def _read_json(path: Path) -> tuple[np.ndarray, np.ndarray | None, int]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise DataFormatError(f"{path}: is not UTF-8 text; save the JSON as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if isinstance(data, dict):
        frames = next((data[k] for k in ("frames", "results") if isinstance(data.get(k), list)), None)
        data = frames if frames is not None else [data]  # one frame object on its own
    if not isinstance(data, list):
        raise DataFormatError(f"{path}: expected a list of frames (or an object with \"frames\"), got "
                              f"{type(data).__name__}")
    if not data:
        raise DataFormatError(f"{path}: holds no frames")
    if _is_point(data[0]):  # a single frame: a bare list of 21 points
        data = [data]
    points, times, skipped = [], [], 0
    for index, frame in enumerate(data):
        hand, time = _json_frame(frame, f"{path}: frame {index}")
        if hand is None:
            skipped += 1
            continue
        points.append(hand)
        times.append(time)
    if not points:
        raise DataFormatError(f"{path}: no frame holds a hand ({skipped} frame(s) without landmarks)")
    with_time = [t for t in times if t is not None]
    timestamps = np.asarray(times, dtype=np.float64) if len(with_time) == len(times) else None
    return np.asarray(points, dtype=np.float64), timestamps, skipped


def _is_point(value: Any) -> bool:
    return (isinstance(value, dict) and "x" in value) or (isinstance(value, list) and len(value) in (2, 3)
                                                         and all(isinstance(v, int | float) for v in value))


def _json_frame(frame: Any, where: str) -> tuple[list[list[float]] | None, float | None]:
    """One frame's first hand as 21 ``[x, y, z]`` (``None`` when the frame has no hand) and its time."""
    time = None
    if isinstance(frame, dict):
        for key in _TIME_KEYS:
            for spelled in (key, _camel(key)):
                if isinstance(frame.get(spelled), int | float):
                    time = float(frame[spelled]) / (1000.0 if key == "timestamp_ms" else 1.0)
        keys = [spelled for key in (*_WORLD_KEYS, *_IMAGE_KEYS) for spelled in (key, _camel(key))]
        found = next((k for k in keys if k in frame), None)
        if found is None:
            raise DataFormatError(f"{where}: no landmarks; expected one of {', '.join(_WORLD_KEYS + _IMAGE_KEYS)}")
        frame = frame[found]
        if isinstance(frame, dict) and "landmark" in frame:  # protobuf's JSON of a NormalizedLandmarkList
            frame = frame["landmark"]
    if not isinstance(frame, list):
        raise DataFormatError(f"{where}: landmarks must be a list, got {type(frame).__name__}")
    if not frame:
        return None, time
    if not _is_point(frame[0]):  # a list of hands: the first one
        frame = frame[0]
        if isinstance(frame, dict) and "landmark" in frame:
            frame = frame["landmark"]
        if not isinstance(frame, list) or (frame and not _is_point(frame[0])):
            raise DataFormatError(f"{where}: landmarks must be [x, y, z] lists or {{\"x\", \"y\", \"z\"}} objects")
        if not frame:
            return None, time
    points = []
    for number, point in enumerate(frame):
        if isinstance(point, dict):
            try:
                point = [point["x"], point["y"], point["z"]]
            except KeyError as exc:
                raise DataFormatError(f"{where}, landmark {number}: no {exc.args[0]!r} coordinate; landmarks need "
                                      "x, y and z") from None
        if not isinstance(point, list) or len(point) != 3:
            raise DataFormatError(f"{where}, landmark {number}: expected [x, y, z], got {point!r}")
        try:
            points.append([float(v) for v in point])
        except (TypeError, ValueError):
            raise DataFormatError(f"{where}, landmark {number}: {point!r} is not three numbers") from None
    return points, time


_AXIS_LAST = re.compile(r"^(?P<name>[a-z_]*?)[_.\- ]?(?P<index>\d+)?[_.\- ]?(?P<axis>[xyz])$")
_AXIS_FIRST = re.compile(r"^(?P<axis>[xyz])[_.\- ]?(?P<index>\d+)$")


def _coordinate_column(header: str) -> tuple[int, int] | None:
    """``(landmark, axis)`` of a wide CSV column name, or ``None`` for other columns."""
    name = header.strip().lower()
    match = _AXIS_FIRST.match(name)
    if match:
        index, axis = int(match["index"]), "xyz".index(match["axis"])
        return (index, axis) if index < LANDMARK_COUNT else None
    match = _AXIS_LAST.match(name)
    if not match:
        return None
    axis = "xyz".index(match["axis"])
    if match["index"] is not None:
        index = int(match["index"])
        return (index, axis) if index < LANDMARK_COUNT else None
    label = match["name"].strip("_")
    return (MEDIAPIPE_LANDMARKS.index(label), axis) if label in MEDIAPIPE_LANDMARKS else None


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray | None, int]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except UnicodeDecodeError:
        raise DataFormatError(f"{path}: is not UTF-8 text; save the CSV as UTF-8") from None
    except csv.Error as exc:
        raise DataFormatError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        raise DataFormatError(f"{path}: empty CSV file")
    header = [cell.strip().lower() for cell in rows[0]]
    body = rows[1:]
    if not body:
        raise DataFormatError(f"{path}: has a header but no frames")
    time_column = next((header.index(k) for k in _TIME_KEYS if k in header), None)
    landmark_column = next((header.index(k) for k in _LANDMARK_COLUMNS if k in header), None)
    if landmark_column is not None and {"x", "y", "z"} <= set(header):
        return _read_long_csv(path, header, body, landmark_column, time_column)
    columns = {column: found for column, name in enumerate(header) if (found := _coordinate_column(name))}
    slots = {found: column for column, found in columns.items()}
    missing = [f"{MEDIAPIPE_LANDMARKS[i]}_{'xyz'[a]}" for i in range(LANDMARK_COUNT) for a in range(3)
               if (i, a) not in slots]
    if missing:
        count = len({i for i, _ in slots})
        raise DataFormatError(f"{path}: the header names {count} of {LANDMARK_COUNT} landmarks' x, y, z columns "
                              f"(missing {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}); name them "
                              "WRIST_x ... PINKY_TIP_z or x0 ... z20, or write one row per landmark with frame, "
                              "landmark, x, y, z")
    points = np.empty((len(body), LANDMARK_COUNT, 3))
    timestamps = np.empty(len(body)) if time_column is not None else None
    for number, row in enumerate(body):
        line = number + 2
        for (index, axis), column in slots.items():
            points[number, index, axis] = _number(row, column, header, path, line)
        if timestamps is not None:
            timestamps[number] = _number(row, time_column, header, path, line)
    return points, timestamps, 0


def _read_long_csv(path: Path, header: list[str], body: list[list[str]], landmark_column: int,
                   time_column: int | None) -> tuple[np.ndarray, np.ndarray | None, int]:
    frame_column = next((header.index(k) for k in _FRAME_COLUMNS if k in header), time_column)
    if frame_column is None:
        raise DataFormatError(f"{path}: one row per landmark needs a frame column ({', '.join(_FRAME_COLUMNS)}) "
                              "or a time column")
    axes = [header.index(a) for a in "xyz"]
    frames: dict[float, np.ndarray] = {}
    times: dict[float, float] = {}
    for number, row in enumerate(body):
        line = number + 2
        key = _number(row, frame_column, header, path, line)
        cell = row[landmark_column].strip().lower() if landmark_column < len(row) else ""
        index = MEDIAPIPE_LANDMARKS.index(cell) if cell in MEDIAPIPE_LANDMARKS else None
        if index is None:
            try:
                index = int(float(cell))
            except ValueError:
                raise DataFormatError(f"{path}: line {line}: landmark {cell!r} is neither 0-20 nor a MediaPipe "
                                      "landmark name") from None
        if not 0 <= index < LANDMARK_COUNT:
            raise DataFormatError(f"{path}: line {line}: landmark {index}; a hand has landmarks 0-{LANDMARK_COUNT - 1}")
        frame = frames.setdefault(key, np.full((LANDMARK_COUNT, 3), np.nan))
        frame[index] = [_number(row, column, header, path, line) for column in axes]
        if time_column is not None:
            times[key] = _number(row, time_column, header, path, line)
    order = sorted(frames)
    for key in order:
        absent = np.flatnonzero(np.isnan(frames[key][:, 0]))
        if absent.size:
            raise DataFormatError(f"{path}: frame {key:g} has {LANDMARK_COUNT - absent.size} of {LANDMARK_COUNT} "
                                  f"landmarks (missing {', '.join(MEDIAPIPE_LANDMARKS[i] for i in absent[:4])})")
    timestamps = np.asarray([times[k] for k in order]) if time_column is not None else None
    return np.stack([frames[k] for k in order]), timestamps, 0


def _number(row: list[str], column: int, header: list[str], path: Path, line: int) -> float:
    if column >= len(row):
        raise DataFormatError(f"{path}: line {line} has {len(row)} cells; the header has {len(header)}")
    try:
        return float(row[column])
    except ValueError:
        raise DataFormatError(f"{path}: line {line}, column {header[column]!r}: {row[column]!r} is not a "
                              "number") from None
