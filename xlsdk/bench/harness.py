"""What the two benchmarks' runs share: the splits, the command that reruns a run, the latency of a chunk,
the report files and the LeRobot feature records.

The kinematic benchmark (:mod:`xlsdk.bench.crosshand`) and the physics benchmark
(:mod:`xlsdk.bench.physics`) grade different things (fingertip geometry on the simulated driver, object
state in MuJoCo) with the same scaffolding around them: each had its own copy of every function here,
and two copies of "which split is this hand x task in" are two chances to report a number under the wrong
heading. What differs stays with each benchmark: its tasks and how their scenes are drawn (one generator
for the kinematic benchmark; one generator per scene index for the physics benchmark, so that its shards
are independent), its datasets' contents, its policies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

import numpy as np

SEEN = "seen"
HELD_OUT_COMBINATION = "held-out combination"
HELD_OUT_HAND = "held-out hand"
ZERO_SHOT_HAND = "zero-shot hand"
#: every split a hand x task can fall in, in report order (the kinematic benchmark has no zero-shot hands)
SPLITS = (SEEN, HELD_OUT_COMBINATION, HELD_OUT_HAND, ZERO_SHOT_HAND)


def split_of(hand: str, task: str, *, held_out_hand: str | None, held_out_combos: Iterable[tuple[str, str]],
             zero_shot: Iterable[str] = ()) -> str:
    """The split ``hand`` x ``task`` is evaluated in: a zero-shot hand, the held-out hand, a held-out
    combination of a training hand, else seen (the first that applies)."""
    if hand in tuple(zero_shot):
        return ZERO_SHOT_HAND
    if hand == held_out_hand:
        return HELD_OUT_HAND
    if (hand, task) in tuple(held_out_combos):
        return HELD_OUT_COMBINATION
    return SEEN


def reproduce_command(benchmark: str, *, quick: bool, options: Iterable[str] = ()) -> str:
    """The CLI line that reruns a run of ``xlsdk bench <benchmark>`` (recorded in its report and docs block)."""
    return " ".join(["xlsdk bench", benchmark, *(["--quick"] if quick else []), *options])


def median_ms(prepared: Callable[[], Callable[[], object]], calls: int) -> float:
    """Median wall time of ``calls`` calls, in milliseconds; each call is made by ``prepared()`` untimed
    (so a policy that keeps state between steps can be timed from a fresh start every call)."""
    times = []
    for _ in range(calls):
        call = prepared()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000.0)


class Report(Protocol):
    """A benchmark report: a pydantic model with its markdown tables."""

    def model_dump_json(self) -> str: ...

    def table(self) -> str: ...


def write_report_files(report: Report, out_dir: Path, stem: str, *, html: str | None = None) -> Path:
    """``<stem>.json`` (the report), ``<stem>.md`` (its tables) and, given, ``<stem>.html``, each written
    atomically; returns the JSON's path."""
    from xlsdk.files import write_json_atomic, write_text_atomic

    write_json_atomic(out_dir / f"{stem}.json", json.loads(report.model_dump_json()))
    write_text_atomic(out_dir / f"{stem}.md", report.table() + "\n")
    if html is not None:
        write_text_atomic(out_dir / f"{stem}.html", html)
    return out_dir / f"{stem}.json"


def vector_feature(names: list[str]) -> dict:
    """The LeRobot feature record of a float32 vector with one named entry per dimension."""
    return {"dtype": "float32", "shape": (len(names),), "names": names}


def image_feature(size: int) -> dict:
    """The LeRobot feature record of a square RGB image stored as an image (no video codec needed)."""
    return {"dtype": "image", "shape": (size, size, 3), "names": ["height", "width", "channels"]}


def create_dataset(repo_id: str, root: Path, *, fps: int, features: dict, robot_type: str) -> object:
    """A new LeRobot v3 dataset on local disk at ``root``, images stored as images (``use_videos=False``)."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    return LeRobotDataset.create(repo_id=repo_id, fps=fps, root=root, features=features, robot_type=robot_type,
                                 use_videos=False)
