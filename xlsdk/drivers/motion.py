"""Streaming a joint trajectory to a driver, and how well the driver tracks it (what ``xlsdk drive`` does).

The trajectory comes from the caller (``xlsdk drive`` streams the demo grasp of
:func:`xlsdk.demo.demo_motion`): drivers move joints and know nothing of the latent. It is streamed at
its own timestamps (optionally sped up); tracking error compares each command with the state read
right after it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.drivers.base import HandDriver


class TrackingReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    hand: str
    driver: str
    commands: int
    seconds: float
    rate_hz: float
    mean_error_rad: float
    max_error_rad: float
    final_error_rad: float
    per_joint_max_rad: dict[str, float]
    faults: list[str]
    stats: dict[str, int]


def check_speed(speed: float) -> float:
    """``speed`` if it is a finite factor above 0 (0 divides by zero, negative or NaN never waits)."""
    from xlsdk.errors import DriverError

    if not (isinstance(speed, (int, float)) and math.isfinite(speed) and speed > 0):
        raise DriverError(f"speed {speed!r} must be a finite number above 0 (1 plays the motion as recorded, "
                          "2 twice as fast)")
    return float(speed)


def stream_motion(driver: HandDriver, q: np.ndarray, timestamps: np.ndarray, *, speed: float = 2.0,
                  sleep: Callable[[float], None] = time.sleep, settle_s: float = 0.4) -> TrackingReport:
    """Stream ``q`` to a connected driver at ``timestamps / speed`` and measure the tracking error."""
    check_speed(speed)
    errors = np.zeros_like(q)
    faults: list[str] = []
    start = time.monotonic()
    for index, (target, stamp) in enumerate(zip(q, timestamps - timestamps[0], strict=True)):
        wait = start + stamp / speed - time.monotonic()
        if wait > 0:
            sleep(wait)
        report = driver.command(target)
        state = driver.read_state()
        errors[index] = np.abs(np.asarray(state.positions) - np.asarray(report.sent))
        faults += [f for f in state.faults if f not in faults]
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:  # hold the last pose and let the actuators settle
        driver.command(q[-1])
        sleep(0.02)
    final = np.abs(np.asarray(driver.read_state().positions) - q[-1])
    names = driver.hand.joint_names
    return TrackingReport(
        hand=driver.hand.name, driver=driver.name, commands=len(q), seconds=round(elapsed, 3),
        rate_hz=round(len(q) / max(elapsed, 1e-9), 1), mean_error_rad=float(errors.mean()),
        max_error_rad=float(errors.max()), final_error_rad=float(final.max()),
        per_joint_max_rad={name: float(v) for name, v in zip(names, errors.max(axis=0), strict=True)},
        faults=faults, stats=driver.stats.model_dump())
