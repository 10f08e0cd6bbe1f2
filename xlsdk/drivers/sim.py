"""The simulated driver: every hand, from its manifest alone.

Each actuated joint is a first-order actuator (time constant ``tau``) with a speed cap, inside the
joint limits; a command takes effect after ``latency_s``; readings carry Gaussian noise of ``noise_std``.
Mimic joints follow their drivers through the hand's coupling (``HandState.extra`` holds every joint).
The dynamics are integrated in closed form on demand from the clock, so the simulator needs no thread
and runs identically on a real or a virtual clock (tests step a virtual clock).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.drivers.base import HandDriver, HandState
from xlsdk.drivers.entry import DriverEntry
from xlsdk.drivers.safety import SafetyConfig

if TYPE_CHECKING:
    from xlsdk.hand import Hand


class SimConfig(BaseModel):
    """Actuator model of the simulated hand."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    tau: float = Field(0.04, gt=0, description="first-order time constant of each actuator [s]")
    max_speed: float = Field(8.0, gt=0, description="actuator speed cap [rad/s]")
    latency_s: float = Field(0.0, ge=0, description="delay between a command and its effect [s]")
    noise_std: float = Field(0.0, ge=0, description="std of the Gaussian noise on position readings")
    seed: int = Field(0, ge=0, lt=2**63, description="seed of the reading noise (a non-negative integer)")


class VirtualClock:
    """Simulated time that only moves when the caller advances it (``clock.now += dt``).

    A :class:`SimDriver` on a virtual clock replays an episode faster than real time with the same
    dynamics; its watchdog thread must be off (nothing advances the clock behind the loop's back).
    """

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sim_on_virtual_clock(hand: Hand, *, max_velocity: float) -> tuple[SimDriver, VirtualClock]:
    """A simulated ``hand`` on a fresh :class:`VirtualClock` (no watchdog thread), with its clock."""
    clock = VirtualClock()
    return SimDriver(hand, clock=clock, watchdog_thread=False, safety=SafetyConfig(max_velocity=max_velocity)), clock


class SimDriver(HandDriver):
    """A simulated hand that starts at the zero pose (clipped into the limits)."""

    name = "sim"

    def __init__(self, hand: Hand, config: SimConfig | None = None, *, safety: SafetyConfig | None = None,
                 **kwargs: Any) -> None:
        super().__init__(hand, safety=safety, **kwargs)
        self.config = config or SimConfig()
        self._rng = np.random.default_rng(self.config.seed)
        self._lower = np.asarray(hand.spec.lower, dtype=np.float64)
        self._upper = np.asarray(hand.spec.upper, dtype=np.float64)
        self._q = np.asarray(hand.zero_pose(), dtype=np.float64)
        self._velocity = np.zeros_like(self._q)
        self._target = self._q.copy()
        self._pending: deque[tuple[float, np.ndarray]] = deque()
        self._time = 0.0
        self.received: list[np.ndarray] = []

    # transport hooks --------------------------------------------------------------------------------

    def _open(self) -> None:
        # readings expand mimic joints through the hand's kinematics: build them now (imports and tables take
        # seconds on a busy machine), not inside the first command, whose lateness the watchdog would punish
        _ = self.hand.kinematics
        self._time = self.clock()

    def _close(self) -> None:
        self._pending.clear()

    def _write_positions(self, q: np.ndarray) -> None:
        self._advance()
        self.received.append(q.copy())
        self._pending.append((self._time + self.config.latency_s, q.copy()))
        self._advance()

    def _read_state(self) -> HandState:
        self._advance()
        noise = self._rng.normal(0.0, self.config.noise_std, self._q.shape) if self.config.noise_std > 0 else 0.0
        reading = np.clip(self._q + noise, self._lower, self._upper)
        import torch

        full = self.hand.kinematics.expand(torch.as_tensor(self._q, dtype=torch.float64)[None])[0]
        extra = {f"{name}.pos": float(v) for name, v in zip(self.hand.kinematics.full_joint_names, full, strict=True)}
        return HandState(
            positions=tuple(float(v) for v in reading),
            velocities=tuple(float(v) for v in self._velocity),
            timestamp=self._time,
            extra=extra,
        )

    def _halt(self) -> None:
        self._advance()
        self._pending.clear()
        self._target = self._q.copy()

    # dynamics ----------------------------------------------------------------------------------------

    def _advance(self) -> None:
        """Integrate from the last update to now, switching targets as delayed commands come due."""
        now = self.clock()
        while self._pending and self._pending[0][0] <= now:
            due, target = self._pending.popleft()
            self._integrate(max(due, self._time))
            self._target = target
        self._integrate(now)

    def _integrate(self, until: float) -> None:
        dt = until - self._time
        if dt <= 0:
            return
        # exact first-order response, then the speed cap over the same interval
        decay = math.exp(-dt / self.config.tau)
        desired = self._target + (self._q - self._target) * decay
        step = np.clip(desired - self._q, -self.config.max_speed * dt, self.config.max_speed * dt)
        new_q = np.clip(self._q + step, self._lower, self._upper)
        self._velocity = (new_q - self._q) / dt
        self._q = new_q
        self._time = until


def sim_driver_entry() -> DriverEntry:
    """The registry entry of the simulated driver (any hand)."""

    def factory(hand: Hand, options: dict[str, Any]) -> SimDriver:
        from xlsdk.errors import DriverError

        unknown = sorted(set(options) - set(SimConfig.model_fields))
        if unknown:
            raise DriverError(f"the sim driver has no option {', '.join(map(repr, unknown))}; its options are "
                              f"{', '.join(SimConfig.model_fields)}" + (" (it needs no port)" if "port" in unknown else ""))
        return SimDriver(hand, SimConfig(**options))

    return DriverEntry(name="sim", factory=factory, description="simulated actuators (any hand, no hardware)")
