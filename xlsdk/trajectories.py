"""Joint trajectories on disk: ``.npy``, ``.npz``, ``.csv`` and LeRobot datasets.

* ``.npy``: a (T, dof) float array, joints in command order (no timestamps).
* ``.npz``: ``q`` (T, dof) and optionally ``timestamp`` (T,).
* ``.csv``: a header row; an optional ``timestamp`` (or ``time``/``t``) column; joint columns named by
  the hand's joint names in any order (or exactly ``dof`` unnamed numeric columns in command order).
* a LeRobot dataset directory (``meta/info.json``): the ``action`` and ``observation.state`` columns.

Timestamps, episodes and every other column survive a retarget untouched. Outputs are written to a
temporary path and renamed, so a failed run never leaves half a file (or half a dataset) behind.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.errors import DataFormatError
from xlsdk.files import atomic_path, write_text_atomic

TIME_COLUMNS = ("timestamp", "time", "t")
LEROBOT_VECTOR_KEYS = ("action", "observation.state")


class Trajectory(BaseModel):
    """Joint vectors over time, in command order of ``joint_names``."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    q: np.ndarray
    joint_names: tuple[str, ...]
    timestamps: np.ndarray | None = None


def is_lerobot_dataset(path: Path) -> bool:
    return path.is_dir() and (path / "meta" / "info.json").is_file()


def read_trajectory(path: Path | str, joint_names: tuple[str, ...]) -> Trajectory:
    """Read a trajectory for a hand with ``joint_names``; errors name the file and what is expected."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        q = _load_numpy(path)
        timestamps = None
    elif suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.keys())
            key = next((k for k in ("q", "action", "positions") if k in archive), None)
            if key is None:
                raise DataFormatError(f"{path}: no array named q, action or positions (found {', '.join(keys) or 'none'})")
            q = np.asarray(archive[key], dtype=np.float64)
            timestamps = np.asarray(archive["timestamp"], dtype=np.float64) if "timestamp" in archive else None
    elif suffix == ".csv":
        q, timestamps = _read_csv(path, joint_names)
    else:
        raise DataFormatError(f"{path}: unsupported trajectory format {suffix or '(none)'}; use .npy, .npz, .csv "
                              "or a LeRobot dataset directory")
    q = _check_matrix(q, len(joint_names), path, joint_names)
    if timestamps is not None and timestamps.shape != (q.shape[0],):
        raise DataFormatError(f"{path}: {timestamps.shape[0]} timestamps for {q.shape[0]} poses")
    return Trajectory(q=q, joint_names=joint_names, timestamps=timestamps)


def write_trajectory(path: Path | str, trajectory: Trajectory) -> None:
    """Write atomically in the format the suffix names (.npy, .npz or .csv)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, trajectory.q)
    elif suffix == ".npz":
        arrays = {"q": trajectory.q}
        if trajectory.timestamps is not None:
            arrays["timestamp"] = trajectory.timestamps
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **arrays)
    elif suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        header = (["timestamp"] if trajectory.timestamps is not None else []) + list(trajectory.joint_names)
        writer.writerow(header)
        for row_index, row in enumerate(trajectory.q):
            prefix = [repr(float(trajectory.timestamps[row_index]))] if trajectory.timestamps is not None else []
            writer.writerow(prefix + [repr(float(v)) for v in row])
        write_text_atomic(path, buffer.getvalue())
    else:
        raise DataFormatError(f"{path}: unsupported output format {suffix or '(none)'}; use .npy, .npz or .csv")


def _load_numpy(path: Path) -> np.ndarray:
    try:
        return np.asarray(np.load(path, allow_pickle=False), dtype=np.float64)
    except ValueError as exc:
        raise DataFormatError(f"{path}: not a plain numeric .npy array ({exc})") from None


def _check_matrix(q: np.ndarray, dof: int, path: Path, joint_names: tuple[str, ...]) -> np.ndarray:
    if q.ndim == 1 and q.shape[0] == dof:
        q = q[None]
    if q.ndim != 2 or q.shape[1] != dof:
        raise DataFormatError(f"{path}: expected shape (T, {dof}) for joints {', '.join(joint_names)}; got {q.shape}")
    bad = np.argwhere(~np.isfinite(q))
    if bad.size:
        row, column = bad[0]
        raise DataFormatError(f"{path}: non-finite value at row {row}, joint {joint_names[column]!r}")
    return q


def _read_csv(path: Path, joint_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray | None]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise DataFormatError(f"{path}: empty CSV file")
    header = [cell.strip() for cell in rows[0]]
    body = [row for row in rows[1:] if any(cell.strip() for cell in row)]
    time_column = next((header.index(name) for name in TIME_COLUMNS if name in header), None)
    if all(name in header for name in joint_names):
        columns = [header.index(name) for name in joint_names]
    else:
        columns = [i for i in range(len(header)) if i != time_column]
        if len(columns) != len(joint_names):
            missing = [name for name in joint_names if name not in header]
            raise DataFormatError(
                f"{path}: header must name the joints ({', '.join(missing)} missing) or have exactly "
                f"{len(joint_names)} joint columns besides the timestamp; found {len(columns)}")
    q = np.empty((len(body), len(joint_names)))
    timestamps = np.empty(len(body)) if time_column is not None else None
    for row_index, row in enumerate(body, start=2):
        try:
            q[row_index - 2] = [float(row[c]) for c in columns]
            if timestamps is not None:
                timestamps[row_index - 2] = float(row[time_column])
        except (ValueError, IndexError):
            raise DataFormatError(f"{path}: line {row_index} is not a row of numbers") from None
    return q, timestamps


def retarget_lerobot_dataset(source: Path, output: Path, mapper: Callable[[np.ndarray], np.ndarray],
                             source_dof: int, target_joint_names: tuple[str, ...], *, repo_id: str | None = None,
                             keys: tuple[str, ...] = LEROBOT_VECTOR_KEYS) -> list[str]:
    """Copy a LeRobot dataset replacing its joint-vector columns by ``mapper`` of them.

    Timestamps, frame/episode indices, tasks, images and videos are copied unchanged. The new dataset
    is built in a temporary directory beside ``output`` and renamed into place. Returns the keys mapped.
    """
    from lerobot.datasets.dataset_tools import modify_features
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    if output.exists():
        raise DataFormatError(f"{output}: already exists; choose a new output directory")
    dataset = LeRobotDataset(repo_id=repo_id or source.name, root=source)
    present = [key for key in keys if key in dataset.meta.features]
    if not present:
        raise DataFormatError(f"{source}: a LeRobot dataset without {' or '.join(keys)} columns")
    for key in present:
        shape = tuple(dataset.meta.features[key]["shape"])
        if shape != (source_dof,):
            raise DataFormatError(f"{source}: column {key!r} has shape {shape}, the source hand has {source_dof} joints")
    table = dataset.hf_dataset.with_format("numpy")
    mapped = {key: np.asarray(mapper(np.stack(table[key]).astype(np.float64)), dtype=np.float32) for key in present}
    info = {"dtype": "float32", "shape": [len(target_joint_names)], "names": [f"{n}.pos" for n in target_joint_names]}
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        removed = modify_features(dataset, remove_features=present, output_dir=staging / "a",
                                  repo_id=dataset.repo_id)
        modify_features(removed, add_features={k: (mapped[k], info) for k in present}, output_dir=staging / "b",
                        repo_id=dataset.repo_id)
        (staging / "b").rename(output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return present
