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


#: the longest a streamed motion may last (s): a speed that stretches it further is a typo (1e-6 is days)
MAX_MOTION_S = 600.0
#: while waiting for the next sample, the driver gets an interpolated command at least this often (s), so a
#: slow replay never leaves the hand without commands long enough for its watchdog (0.5 s by default) to stop it
HOLD_EVERY_S = 0.05


def check_motion(timestamps: np.ndarray, speed: float) -> float:
    """Seconds the motion lasts at ``speed``; DriverError when that is not finite or over :data:`MAX_MOTION_S`."""
    from xlsdk.errors import DriverError

    check_speed(speed)
    span = float(timestamps[-1] - timestamps[0]) if len(timestamps) else 0.0
    seconds = span / speed
    if not math.isfinite(seconds) or seconds > MAX_MOTION_S:
        slowest = span / MAX_MOTION_S
        raise DriverError(f"speed {speed!r} would play the {span:.3g} s motion in {seconds:.3g} s, more than "
                          f"{MAX_MOTION_S:g} s; use a speed of at least {slowest:.3g}")
    return seconds


class MotionStopped(Exception):
    """``stream_motion`` stopped early because ``should_stop`` said so; the caller halts the hand."""


def stream_motion(driver: HandDriver, q: np.ndarray, timestamps: np.ndarray, *, speed: float = 2.0,
                  sleep: Callable[[float], None] = time.sleep, settle_s: float = 0.4,
                  should_stop: Callable[[], bool] = lambda: False) -> TrackingReport:
    """Stream ``q`` to a connected driver at ``timestamps / speed`` and measure the tracking error.

    Between two samples further apart than :data:`HOLD_EVERY_S` the driver is commanded along the straight
    line between them, so a slow replay moves smoothly and keeps the watchdog fed. ``should_stop`` is asked
    before every command (at least every :data:`HOLD_EVERY_S`); when it answers True the stream ends with
    :class:`MotionStopped` and no further command is sent (``xlsdk drive`` sets it from a signal handler:
    raising from the handler itself could surface inside any library call the signal happens to hit).
    """
    check_motion(timestamps, speed)
    errors = np.zeros_like(q)
    faults: list[str] = []

    def send(target: np.ndarray):  # noqa: ANN202 - the driver's CommandReport
        if should_stop():
            raise MotionStopped("stopped on request")
        return driver.command(target)

    start = time.monotonic()
    relative = timestamps - timestamps[0]
    for index, (target, stamp) in enumerate(zip(q, relative, strict=True)):
        due = start + stamp / speed
        if index:
            previous, previous_due = q[index - 1], start + relative[index - 1] / speed
            while due - time.monotonic() > HOLD_EVERY_S:
                sleep(HOLD_EVERY_S)
                fraction = min(max((time.monotonic() - previous_due) / max(due - previous_due, 1e-9), 0.0), 1.0)
                send(previous + fraction * (target - previous))
        wait = due - time.monotonic()
        if wait > 0:
            sleep(wait)
        report = send(target)
        state = driver.read_state()
        errors[index] = np.abs(np.asarray(state.positions) - np.asarray(report.sent))
        faults += [f for f in state.faults if f not in faults]
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:  # hold the last pose and let the actuators settle
        send(q[-1])
        sleep(0.02)
    final = np.abs(np.asarray(driver.read_state().positions) - q[-1])
    names = driver.hand.joint_names
    return TrackingReport(
        hand=driver.hand.name, driver=driver.name, commands=len(q), seconds=round(elapsed, 3),
        rate_hz=round(len(q) / max(elapsed, 1e-9), 1), mean_error_rad=float(errors.mean()),
        max_error_rad=float(errors.max()), final_error_rad=float(final.max()),
        per_joint_max_rad={name: float(v) for name, v in zip(names, errors.max(axis=0), strict=True)},
        faults=faults, stats=driver.stats.model_dump())
