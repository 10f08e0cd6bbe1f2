"""The one driver interface of xlsdk, shaped like LeRobot's ``Robot``.

A driver subclasses :class:`HandDriver` and implements five small transport methods (``_open``,
``_close``, ``_write_positions``, ``_read_state``, ``_halt``). Everything that keeps a hand safe is
here, under every driver:

* commands go through :class:`~xlsdk.drivers.safety.SafetyLayer` (NaN/inf rejected, limits clamped and
  reported, velocity limited) before a driver sees them;
* a watchdog stops the hand (``_halt``: hold the current position) when commands stop arriving for
  ``watchdog_s``, checked by a background thread and on every call;
* ``disconnect()``, leaving a ``with`` block and ``KeyboardInterrupt`` inside it stop the hand first.

The LeRobot face (``observation_features``, ``action_features``, ``get_observation``, ``send_action``,
``connect``/``disconnect``/``is_connected``, ``calibrate``) maps joint names to ``"<joint>.pos"`` keys,
so every xlsdk hand is also a LeRobot robot (see :mod:`xlsdk.drivers.lerobot_robot`).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.drivers.safety import CommandReport, SafetyConfig, SafetyLayer
from xlsdk.errors import DriverError, SafetyError

if TYPE_CHECKING:
    from xlsdk.hand import Hand


class HandState(BaseModel):
    """One reading of the hand: actuated joint positions in command order, plus what the device reports."""

    model_config = ConfigDict(frozen=True)
    positions: tuple[float, ...]
    timestamp: float
    velocities: tuple[float, ...] | None = None
    forces: tuple[float, ...] | None = None
    faults: tuple[str, ...] = ()
    extra: dict[str, float] = Field(default_factory=dict)


class DriverStats(BaseModel):
    """Counters a driver keeps for diagnostics and soak tests."""

    commands: int = 0
    clamped: int = 0
    rate_limited: int = 0
    rejected: int = 0
    watchdog_stops: int = 0
    retries: int = 0
    faults: int = 0


class HandDriver(ABC):
    """Base class of every xlsdk driver. Subclasses implement the transport; safety lives here."""

    #: the name users pass to ``--driver``
    name: ClassVar[str] = "driver"

    def __init__(self, hand: Hand, *, safety: SafetyConfig | None = None,
                 clock: Callable[[], float] = time.monotonic, watchdog_thread: bool = True) -> None:
        self.hand = hand
        self.safety = SafetyLayer(hand.joint_names, np.asarray(hand.spec.lower), np.asarray(hand.spec.upper), safety)
        self.clock = clock
        self.stats = DriverStats()
        self.last_report: CommandReport | None = None
        self.watchdog_tripped = False
        self._connected = False
        self._lock = threading.RLock()
        self._last_sent: np.ndarray | None = None
        self._last_command_time: float | None = None
        self._use_watchdog_thread = watchdog_thread
        self._watchdog_stop = threading.Event()
        self._watchdog: threading.Thread | None = None

    # --- transport hooks (the only methods a driver implements) -----------------------------------

    @abstractmethod
    def _open(self) -> None:
        """Open the transport and check the device answers; raise DriverError otherwise."""

    @abstractmethod
    def _close(self) -> None:
        """Release the transport. Must not raise if the device is already gone."""

    @abstractmethod
    def _write_positions(self, q: np.ndarray) -> None:
        """Send a position target (already checked, clamped and rate-limited) in command order."""

    @abstractmethod
    def _read_state(self) -> HandState:
        """Read the device's current state."""

    @abstractmethod
    def _halt(self) -> None:
        """Stop moving now: hold the current position (used by the watchdog and on disconnect)."""

    # --- connection ---------------------------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self._connected

    @property
    def is_calibrated(self) -> bool:
        return True

    def calibrate(self) -> None:
        """Hands driven in joint space need no calibration step; a driver may override."""

    def connect(self, calibrate: bool = True) -> None:
        if self._connected:
            raise DriverError(f"{self.name}: already connected")
        with self._lock:
            self._open()
            self._connected = True
            self.watchdog_tripped = False
            self._last_sent = None
            self._last_command_time = None
        if calibrate and not self.is_calibrated:
            self.calibrate()
        if self._use_watchdog_thread and self.safety.config.watchdog_s is not None:
            self._watchdog_stop.clear()
            self._watchdog = threading.Thread(target=self._watchdog_loop, name=f"xlsdk-watchdog-{self.name}",
                                              daemon=True)
            self._watchdog.start()

    def disconnect(self) -> None:
        """Stop the hand, then release the transport. Safe to call twice."""
        if not self._connected:
            return
        self._watchdog_stop.set()
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join(timeout=2.0)
        self._watchdog = None
        with self._lock:
            try:
                self._halt()
            except DriverError:
                pass  # the device may already be gone; closing must still happen
            finally:
                self._connected = False
                self._close()

    def __enter__(self) -> HandDriver:
        self.connect()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        self.disconnect()

    # --- commands and state -------------------------------------------------------------------------

    def command(self, q: Any) -> CommandReport:
        """Send a position target (actuated joints, command order) through the safety layer."""
        self._require_connection()
        with self._lock:
            now = self.clock()
            previous = self._last_sent
            if previous is None:
                previous = np.asarray(self._read_state().positions, dtype=np.float64)
            dt = None if self._last_command_time is None else now - self._last_command_time
            if self._last_command_time is None:
                dt = self.safety.config.max_dt
            try:
                sent, report = self.safety.apply(q, previous, dt)
            except SafetyError:
                self.stats.rejected += 1
                raise
            self._write_positions(sent)
            self._last_sent = sent
            self._last_command_time = now
            self.watchdog_tripped = False
            self.stats.commands += 1
            self.stats.clamped += int(report.clamped)
            self.stats.rate_limited += int(report.rate_limited)
            self.last_report = report
            return report

    def read_state(self) -> HandState:
        self._require_connection()
        with self._lock:
            self._check_watchdog()
            return self._read_state()

    def stop(self) -> None:
        """Hold the current position now (what the watchdog does)."""
        self._require_connection()
        with self._lock:
            self._halt()
            self._last_sent = None

    # --- LeRobot face -------------------------------------------------------------------------------

    @property
    def observation_features(self) -> dict[str, type]:
        return {f"{name}.pos": float for name in self.hand.joint_names}

    @property
    def action_features(self) -> dict[str, type]:
        return {f"{name}.pos": float for name in self.hand.joint_names}

    def get_observation(self) -> dict[str, float]:
        state = self.read_state()
        return {f"{name}.pos": value for name, value in zip(self.hand.joint_names, state.positions, strict=True)}

    def send_action(self, action: dict[str, float]) -> dict[str, float]:
        """LeRobot-style command: ``{"<joint>.pos": value}`` for every actuated joint; returns what was sent."""
        missing = [name for name in self.hand.joint_names if f"{name}.pos" not in action]
        if missing:
            raise SafetyError(f"action is missing joint(s) {', '.join(missing)} (keys are '<joint>.pos')")
        report = self.command([float(action[f"{name}.pos"]) for name in self.hand.joint_names])
        return {f"{name}.pos": value for name, value in zip(self.hand.joint_names, report.sent, strict=True)}

    # --- watchdog -----------------------------------------------------------------------------------

    def _check_watchdog(self) -> None:
        timeout = self.safety.config.watchdog_s
        if timeout is None or self._last_command_time is None or self.watchdog_tripped:
            return
        if self.clock() - self._last_command_time > timeout:
            self._halt()
            self._last_sent = None
            self.watchdog_tripped = True
            self.stats.watchdog_stops += 1

    def _watchdog_loop(self) -> None:
        timeout = self.safety.config.watchdog_s or 0.5
        while not self._watchdog_stop.wait(timeout / 4):
            with self._lock:
                if not self._connected:
                    return
                try:
                    self._check_watchdog()
                except DriverError:
                    self.stats.faults += 1

    def _require_connection(self) -> None:
        if not self._connected:
            raise DriverError(f"{self.name}: not connected; call connect() or use `with driver:`")
