"""The ``mujoco`` driver: any installed hand, on its 6-DoF wrist, in the MuJoCo world of :mod:`xlsdk.physics`.

It is a :class:`~xlsdk.drivers.base.HandDriver` like every other, so the safety layer, the watchdog and
the LeRobot face are the same as on hardware. Joint commands become the targets of the hand's position
servos; wrist commands (``command_wrist``, or ``wrist.*`` keys of a LeRobot action) pass their own safety
layer first (:class:`WristSafety`: NaN refused, workspace bounds clamped, linear and angular speed
limited). Physics advances with the driver's clock on every call, as the ``sim`` driver's actuators do,
so it runs in real time on the wall clock and faster on a virtual one. MuJoCo is imported when a driver
is built, never when drivers are listed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.drivers.base import HandDriver, HandState
from xlsdk.drivers.entry import DriverEntry
from xlsdk.drivers.safety import CommandReport, SafetyConfig, SafetyLayer
from xlsdk.errors import DriverError, SafetyError, validation_problems

if TYPE_CHECKING:
    from xlsdk.hand import Hand
    from xlsdk.physics.scene import Scene

WRIST_KEYS = ("wrist.x", "wrist.y", "wrist.z", "wrist.roll", "wrist.pitch", "wrist.yaw")


class MujocoDriverConfig(BaseModel):
    """What the physics driver simulates and shows."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    camera: str = Field("front", description="camera of the LeRobot observation image (front, top, wrist)")
    image_size: int = Field(96, ge=16, le=1024)
    max_linear_speed: float = Field(0.5, gt=0, description="wrist speed limit [m/s]")
    max_angular_speed: float = Field(3.0, gt=0, description="wrist rotation speed limit [rad/s]")
    max_catch_up_s: float = Field(1.0, gt=0, description="longest stretch of simulated time one call advances")


class WristSafety:
    """The safety layer of the wrist: the hand's own :class:`SafetyLayer`, once for translation, once for rotation."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray, config: MujocoDriverConfig, max_dt: float) -> None:
        self.translation = SafetyLayer(WRIST_KEYS[:3], lower[:3], upper[:3],
                                       SafetyConfig(max_velocity=config.max_linear_speed, max_dt=max_dt))
        self.rotation = SafetyLayer(WRIST_KEYS[3:], lower[3:], upper[3:],
                                    SafetyConfig(max_velocity=config.max_angular_speed, max_dt=max_dt))

    def apply(self, pose: object, previous: np.ndarray, dt: float | None) -> tuple[np.ndarray, CommandReport]:
        try:
            vector = np.asarray(pose, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SafetyError(f"wrist command is not a numeric vector: {exc}") from None
        if vector.shape != (6,):
            raise SafetyError(f"wrist command has shape {vector.shape}, expected (6,): {', '.join(WRIST_KEYS)}")
        position, first = self.translation.apply(vector[:3], previous[:3], dt)
        angles, second = self.rotation.apply(vector[3:], previous[3:], dt)
        sent = np.concatenate([position, angles])
        return sent, CommandReport(requested=first.requested + second.requested, sent=tuple(map(float, sent)),
                                   clamped_joints=first.clamped_joints + second.clamped_joints,
                                   rate_limited_joints=first.rate_limited_joints + second.rate_limited_joints)


class MujocoDriver(HandDriver):
    """A hand in MuJoCo. ``world`` is the :class:`xlsdk.physics.world.World` (objects, cameras, state)."""

    name = "mujoco"

    def __init__(self, hand: Hand, scene: Scene | None = None, config: MujocoDriverConfig | None = None, *,
                 safety: SafetyConfig | None = None, **kwargs: Any) -> None:
        super().__init__(hand, safety=safety, **kwargs)
        from xlsdk.physics.world import World
        from xlsdk.physics.world_spec import PhysicsConfig

        self.config = config or MujocoDriverConfig()
        self.world = World(hand, scene, PhysicsConfig(image_size=max(self.config.image_size, 96)))
        self.wrist_safety = WristSafety(self.world.wrist_lower, self.world.wrist_upper, self.config,
                                        self.safety.config.max_dt)
        self.last_wrist_report: CommandReport | None = None
        self._sim_origin = 0.0
        self._last_wrist_time: float | None = None

    # transport hooks --------------------------------------------------------------------------------

    def _open(self) -> None:
        self.world.reset()
        self._sim_origin = self.clock()
        self._last_wrist_time = None

    def _close(self) -> None:
        self.world.close()

    def _write_positions(self, q: np.ndarray) -> None:
        self._advance()
        self.world.set_hand_target(q)

    def _read_state(self) -> HandState:
        self._advance()
        world = self.world
        extra = {key: float(v) for key, v in zip(WRIST_KEYS, world.wrist_positions(), strict=True)}
        for name in world.object_names():
            state = world.object_state(name)
            extra[f"{name}.z"] = state.pos[2]
            extra[f"{name}.lifted"] = state.lifted
        return HandState(positions=tuple(map(float, world.hand_positions())),
                         velocities=tuple(map(float, world.hand_velocities())),
                         forces=tuple(map(float, world.hand_forces())), timestamp=self.clock(), extra=extra)

    def _halt(self) -> None:
        self._advance()
        self.world.set_hand_target(self.world.hand_positions())
        self.world.set_wrist_target(self.world.wrist_positions())

    # the wrist --------------------------------------------------------------------------------------

    def command_wrist(self, pose: Any) -> CommandReport:
        """Send a wrist target ``(x, y, z, roll, pitch, yaw)`` through :class:`WristSafety`."""
        self._require_connection()
        with self._lock:
            now = self.clock()
            dt = self.safety.config.max_dt if self._last_wrist_time is None else now - self._last_wrist_time
            try:
                sent, report = self.wrist_safety.apply(pose, self.world.wrist_target(), dt)
            except SafetyError:
                self.stats.rejected += 1
                raise
            self._advance()
            self.world.set_wrist_target(sent)
            self._last_wrist_time = now
            self._last_command_time = now  # an active controller: the watchdog counts wrist commands too
            self.watchdog_tripped = False
            self.stats.clamped += int(report.clamped)
            self.stats.rate_limited += int(report.rate_limited)
            self.last_wrist_report = report
            return report

    # physics time -------------------------------------------------------------------------------------

    def _advance(self) -> None:
        behind = (self.clock() - self._sim_origin) - self.world.time
        if behind <= 0:
            return
        if behind > self.config.max_catch_up_s:  # a paused caller: do not simulate the pause step by step
            self._sim_origin += behind - self.config.max_catch_up_s
            behind = self.config.max_catch_up_s
        steps = int(behind / self.world.model.opt.timestep)
        if steps:
            self.world.step(steps=steps)

    # LeRobot face: the camera image and the wrist ----------------------------------------------------

    @property
    def observation_features(self) -> dict[str, Any]:
        size = self.config.image_size
        return {**super().observation_features, **{key: float for key in WRIST_KEYS},
                self.config.camera: (size, size, 3)}

    @property
    def action_features(self) -> dict[str, type]:
        return {**super().action_features, **{key: float for key in WRIST_KEYS}}

    def get_observation(self) -> dict[str, Any]:
        observation: dict[str, Any] = super().get_observation()
        with self._lock:
            wrist = self.world.wrist_positions()
            observation.update({key: float(v) for key, v in zip(WRIST_KEYS, wrist, strict=True)})
            observation[self.config.camera] = self.world.render(self.config.camera, self.config.image_size)
        return observation

    def send_action(self, action: dict[str, float]) -> dict[str, float]:
        """Hand joints as for every driver; ``wrist.*`` keys, when all six are given, move the wrist."""
        present = [key for key in WRIST_KEYS if key in action]
        if present and len(present) != len(WRIST_KEYS):
            missing = [key for key in WRIST_KEYS if key not in action]
            raise SafetyError(f"action moves the wrist but lacks {', '.join(missing)}; give all six wrist keys or none")
        sent = super().send_action(action)
        if present:
            report = self.command_wrist([float(action[key]) for key in WRIST_KEYS])
            sent.update({key: value for key, value in zip(WRIST_KEYS, report.sent, strict=True)})
        return sent


def _scene_from(options: dict[str, Any]) -> Scene | None:
    path = options.get("scene")
    if path is None:
        return None
    from pydantic import ValidationError

    from xlsdk.physics.scene import Scene

    try:  # options arrive as text from the CLI, as any type from Python (scene=1 is a file named "1")
        return Scene.model_validate(json.loads(Path(str(path)).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise DriverError(f"--option scene={path}: file not found (give a JSON file of a Scene)") from None
    except IsADirectoryError:
        raise DriverError(f"--option scene={path}: is a directory; give a JSON file of a Scene") from None
    except OSError as exc:
        raise DriverError(f"--option scene={path}: cannot be read: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DriverError(f"--option scene={path}: not JSON ({exc})", hint="see docs/concepts/physics.md") from None
    except ValidationError as exc:
        raise DriverError(f"--option scene={path}: {validation_problems(exc, limit=1)[0]}") from None


def mujoco_driver_entry() -> DriverEntry:
    """The registry entry of the physics driver (any hand)."""

    def factory(hand: Hand, options: dict[str, Any]) -> MujocoDriver:
        known = [*MujocoDriverConfig.model_fields, "scene"]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise DriverError(f"the mujoco driver has no option {', '.join(map(repr, unknown))}; its options are "
                              f"{', '.join(known)} (scene: a JSON file of xlsdk.physics.scene.Scene)"
                              + (" (it needs no port)" if "port" in unknown else ""))
        config = MujocoDriverConfig(**{k: v for k, v in options.items() if k != "scene"})
        return MujocoDriver(hand, _scene_from(options), config)

    return DriverEntry(name="mujoco", factory=factory,
                       description="MuJoCo physics: the hand on a 6-DoF wrist over a table (any hand, no hardware)")
