"""The safety layer that sits under every driver, real or simulated.

Every command passes through :class:`SafetyLayer` before a driver sees it:

1. shape check and NaN/inf rejection (:class:`~xlsdk.errors.SafetyError`, nothing is sent);
2. clamping into the joint limits, *reported* in the :class:`CommandReport` (never silent);
3. a velocity limit: the step from the last sent command is capped at ``max_velocity * dt``.

Drivers never see an out-of-limit or non-finite command, whatever the caller sends. The watchdog and
the clean stops live in :class:`xlsdk.drivers.base.HandDriver`, which owns time and connection state.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.errors import SafetyError


class SafetyConfig(BaseModel):
    """Safety settings shared by every driver (the defaults suit the reference hands)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    max_velocity: float | None = Field(6.0, gt=0, description="rad/s (or m/s) per joint; None disables")
    watchdog_s: float | None = Field(0.5, gt=0, description="stop the hand after this long without commands")
    max_dt: float = Field(0.1, gt=0, description="longest interval the velocity limit credits between commands")


class CommandReport(BaseModel):
    """What happened to one command: what was asked, what was sent, and why they differ."""

    model_config = ConfigDict(frozen=True)
    requested: tuple[float, ...]
    sent: tuple[float, ...]
    clamped_joints: tuple[str, ...] = ()
    rate_limited_joints: tuple[str, ...] = ()

    @property
    def clamped(self) -> bool:
        return bool(self.clamped_joints)

    @property
    def rate_limited(self) -> bool:
        return bool(self.rate_limited_joints)


class SafetyLayer:
    """Validates, clamps and rate-limits commands for one hand. Pure: it never talks to hardware."""

    def __init__(self, joint_names: tuple[str, ...], lower: np.ndarray, upper: np.ndarray,
                 config: SafetyConfig | None = None) -> None:
        self.joint_names = joint_names
        self.lower = np.asarray(lower, dtype=np.float64)
        self.upper = np.asarray(upper, dtype=np.float64)
        self.config = config or SafetyConfig()
        # np.clip into a NaN bound gives NaN: limits that are not finite and ordered would let a NaN through
        if self.lower.shape != (len(joint_names),) or self.upper.shape != (len(joint_names),):
            raise SafetyError(f"joint limits of shape {self.lower.shape} and {self.upper.shape} for "
                              f"{len(joint_names)} joints (shape mismatch); nothing can be sent safely")
        broken = [name for name, low, high in zip(joint_names, self.lower, self.upper, strict=True)
                  if not (np.isfinite(low) and np.isfinite(high) and low <= high)]
        if broken:
            raise SafetyError(f"joint limits are not finite, ordered ranges for joint(s) {', '.join(broken)}; "
                              "nothing can be sent safely")

    def check(self, q: object) -> np.ndarray:
        """``q`` as a finite float vector of the right length, or :class:`SafetyError` naming the problem."""
        try:
            vector = np.asarray(q, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SafetyError(f"command is not a numeric vector: {exc}") from None
        if vector.shape != (len(self.joint_names),):
            raise SafetyError(
                f"command has shape {vector.shape}, expected ({len(self.joint_names)},) in the order "
                f"{', '.join(self.joint_names)}"
            )
        bad = [name for name, value in zip(self.joint_names, vector, strict=True) if not np.isfinite(value)]
        if bad:
            raise SafetyError(f"command rejected: non-finite value (NaN/inf) for joint(s) {', '.join(bad)}; nothing was sent")
        return vector

    def apply(self, q: object, previous: np.ndarray | None, dt: float | None) -> tuple[np.ndarray, CommandReport]:
        """The command to send after checking, clamping and rate limiting, with the report."""
        requested = self.check(q)
        sent = np.clip(requested, self.lower, self.upper)
        clamped = [n for n, a, b in zip(self.joint_names, requested, sent, strict=True) if a != b]
        limited: list[str] = []
        if self.config.max_velocity is not None and previous is not None and dt is not None:
            max_step = self.config.max_velocity * min(max(dt, 0.0), self.config.max_dt)
            step = sent - previous
            capped = np.clip(step, -max_step, max_step)
            limited = [n for n, a, b in zip(self.joint_names, step, capped, strict=True) if a != b]
            sent = np.clip(previous + capped, self.lower, self.upper)
        # the last line of defence: whatever happened above, nothing non-finite or outside the limits leaves
        if not (np.all(np.isfinite(sent)) and np.all(sent >= self.lower) and np.all(sent <= self.upper)):
            raise SafetyError(f"command rejected: the safe target {sent.tolist()} is not finite and inside the "
                              "limits (the previous position may be corrupt); nothing was sent")
        report = CommandReport(
            requested=tuple(float(v) for v in requested),
            sent=tuple(float(v) for v in sent),
            clamped_joints=tuple(clamped),
            rate_limited_joints=tuple(limited),
        )
        return sent, report
