"""A gymnasium environment on the physics world: a hand on its wrist lifts the object.

``HandLiftEnv(hand)`` takes a :class:`~xlsdk.hand.Hand`; gymnasium's id ``xlsdk/HandLift-v0``, which takes
a hand's name, is registered by the face :mod:`xlsdk.gymnasium_env`
(``gymnasium.make("xlsdk.gymnasium_env:xlsdk/HandLift-v0", hand="inspire", object_kind="ball")``).

* action: in ``[-1, 1]`` per dimension, mapped linearly onto absolute targets inside the bounds: the
  hand's actuated joints (command order, joint limits) then the wrist ``(x, y, z, roll, pitch, yaw)``
  (its workspace); :meth:`HandLiftEnv.normalise` maps targets back. Actions go
  through the ``mujoco`` driver, so the safety layer (clamping, speed limits) is in the loop exactly as
  for ``xlsdk drive`` and the LeRobot robot shim;
* observation: ``{"pixels": (S, S, 3) uint8 from the front camera, "agent_pos": joints + wrist}``,
  the keys LeRobot's env processors map to ``observation.image`` and ``observation.state``;
* reward: the object's height gain (metres, clipped at the 5 cm goal) each step, +1 on success;
  terminated when the object is held 5 cm up and off the table; truncated after ``max_episode_steps``.

Object placement is randomised (±2 cm around the grasp spot) from the ``reset`` seed; physics is
deterministic, so one seed gives one episode.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from xlsdk.hand import Hand
from xlsdk.physics.grasp import GRASP_SPOT, HELD_M
from xlsdk.physics.scene import ObjectKind, Scene, SceneObject


class HandLiftEnv(gymnasium.Env):
    """Lift one object off the table with any installed hand (see the module docstring)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25}

    def __init__(self, hand: Hand, object_kind: ObjectKind = "ball", image_size: int = 96,
                 control_dt: float = 0.04, render_mode: str | None = "rgb_array", camera: str = "front") -> None:
        from xlsdk.drivers.mujoco_driver import MujocoDriver, MujocoDriverConfig
        from xlsdk.drivers.safety import SafetyConfig

        if not isinstance(hand, Hand):
            raise TypeError(f"HandLiftEnv takes a Hand, got {type(hand).__name__}: turn a name into one with "
                            "xlsdk.load_hand, or gymnasium.make the id xlsdk.gymnasium_env registers")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode {render_mode!r} is not supported; use 'rgb_array' or None")
        self.hand = hand
        self.render_mode = render_mode
        self.control_dt = control_dt
        self.image_size = image_size
        self.camera = camera
        self.object = SceneObject(name="target", kind=object_kind, colour=(0.9, 0.25, 0.2, 1.0)).resting(*GRASP_SPOT)
        self._now = 0.0
        self.driver = MujocoDriver(self.hand, Scene(objects=(self.object,)),
                                   MujocoDriverConfig(camera=camera, image_size=image_size),
                                   safety=SafetyConfig(watchdog_s=None), clock=lambda: self._now,
                                   watchdog_thread=False)
        self.world = self.driver.world
        low = np.concatenate([self.hand.spec.lower, self.world.wrist_lower]).astype(np.float32)
        high = np.concatenate([self.hand.spec.upper, self.world.wrist_upper]).astype(np.float32)
        self._low, self._high = low.astype(np.float64), high.astype(np.float64)
        self.action_space = spaces.Box(low=-1.0, high=1.0, shape=low.shape, dtype=np.float32)
        self.observation_space = spaces.Dict({
            "pixels": spaces.Box(0, 255, (image_size, image_size, 3), dtype=np.uint8),
            "agent_pos": spaces.Box(low=low, high=high, dtype=np.float32),
        })

    def _observation(self) -> dict[str, np.ndarray]:
        state = np.concatenate([self.world.hand_positions(), self.world.wrist_positions()])
        state = np.clip(state, self._low, self._high).astype(np.float32)
        return {"pixels": self.world.render(self.camera, self.image_size), "agent_pos": state}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        if self.driver.is_connected:
            self.driver.disconnect()
        self._now = 0.0
        self.driver.connect()
        offset = self.np_random.uniform(-0.02, 0.02, size=2)
        body = self.world.model.body(self.object.name).id
        joint = self.world.model.body_jntadr[body]
        address = self.world.model.jnt_qposadr[joint]
        self.world.data.qpos[address:address + 2] = np.asarray(GRASP_SPOT) + offset
        self.world.forward()
        self.world.reset_object_origins()
        return self._observation(), {"object_xy": tuple(float(v) for v in self.world.data.qpos[address:address + 2])}

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        action = self.targets(action)
        dof = self.hand.dof
        self.driver.command(action[:dof])
        self.driver.command_wrist(action[dof:])
        self._now += self.control_dt
        self.driver.read_state()  # advances physics to the new time
        state = self.world.object_state(self.object.name)
        success = state.lifted >= HELD_M and not state.table_contact
        reward = float(np.clip(state.lifted, 0.0, HELD_M)) + (1.0 if success else 0.0)
        info = {"lifted": state.lifted, "hand_contacts": state.hand_contacts, "is_success": bool(success)}
        return self._observation(), reward, bool(success), False, info

    def targets(self, action: np.ndarray) -> np.ndarray:
        """Absolute joint + wrist targets of a normalised action (NaN passes through to the safety layer)."""
        action = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        return self._low + (action + 1.0) / 2.0 * (self._high - self._low)

    def normalise(self, targets: np.ndarray) -> np.ndarray:
        """The action that commands absolute ``targets`` (joints then wrist)."""
        scaled = 2.0 * (np.asarray(targets, dtype=np.float64) - self._low) / (self._high - self._low) - 1.0
        return np.clip(scaled, -1.0, 1.0).astype(np.float32)

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            return None
        return self.world.render(self.camera, self.image_size)

    def close(self) -> None:
        if self.driver.is_connected:
            self.driver.disconnect()
        self.world.close()

