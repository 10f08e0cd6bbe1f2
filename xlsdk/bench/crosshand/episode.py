"""Closed-loop execution of a policy on any installed hand (``xlsdk policy run`` and the benchmark).

Every frame the policy's :meth:`~xlsdk.policy.modeling_xlvla.XlvlaPolicy.select_action` sees the scene
image, the instruction and the hand's state (encoded into the policy's action space: the hand's own
head for a latent policy); it keeps the state history and predicts a new chunk every
``n_action_steps`` frames, exactly as a LeRobot control loop drives it. Each action is decoded for
*this* hand and sent to its driver, so a latent policy drives hands it never saw, through their heads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from xlsdk.drivers.base import HandDriver
from xlsdk.drivers.sim import VirtualClock, sim_on_virtual_clock
from xlsdk.hand import Hand
from xlsdk.policy.action_space import ActionSpace
from xlsdk.bench.crosshand.tasks import ImageScene, render
from xlsdk.policy.modeling_xlvla import STATE


def sim_driver(hand: Hand) -> tuple[HandDriver, VirtualClock]:
    """A simulated hand on a virtual clock: episodes run faster than real time, same dynamics."""
    return sim_on_virtual_clock(hand, max_velocity=8.0)


def run_episode(policy: Any, space: ActionSpace, hand: Hand, scene: ImageScene, *, frames: int, fps: float,
                driver: HandDriver | None = None, clock: VirtualClock | None = None, settle_s: float = 0.3,
                sleep: Any = None) -> np.ndarray:
    """Run one episode; returns the executed final joint vector. With a real ``driver`` pass ``sleep``."""
    config = policy.config
    if driver is None:
        driver, clock = sim_driver(hand)
    image = torch.from_numpy(np.array(render(scene, config.image_size))).permute(2, 0, 1)[None].float() / 255.0
    dt = 1.0 / fps

    def advance() -> None:
        if clock is not None:
            clock.now += dt
        elif sleep is not None:
            sleep(dt)

    policy.reset()
    with driver:
        q = np.asarray(driver.read_state().positions)
        for _ in range(frames):
            state = space.encode(hand, torch.as_tensor(q, dtype=torch.float32)[None])
            batch = {"observation.images.scene": image, "task": [scene.instruction], STATE: state}
            action = policy.select_action(batch)[0]
            driver.command(space.decode(hand, action).numpy())
            advance()
            q = np.asarray(driver.read_state().positions)
        steps = max(1, int(round(settle_s * fps)))
        for _ in range(steps):  # hold the last command while the actuators settle
            driver.command(driver.last_report.sent if driver.last_report else q)
            advance()
        return np.asarray(driver.read_state().positions)
