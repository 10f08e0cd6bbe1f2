"""Closed-loop execution of a policy on any installed hand (``xlsdk policy run`` and the benchmark).

Every ``n_action_steps`` frames the policy sees the scene image, the instruction and the hand's state
(encoded into the policy's action space: the hand's own head for a latent policy), predicts a chunk,
and the first ``n_action_steps`` actions are decoded for *this* hand and sent to its driver. A latent
policy therefore drives hands it never saw, through their heads.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
import torch

from xlsdk.drivers.base import HandDriver
from xlsdk.hand import Hand
from xlsdk.policy.action_space import ActionSpace
from xlsdk.policy.crosshand.tasks import Scene, render


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sim_driver(hand: Hand) -> tuple[HandDriver, VirtualClock]:
    """A simulated hand on a virtual clock: episodes run faster than real time, same dynamics."""
    from xlsdk.drivers.safety import SafetyConfig
    from xlsdk.drivers.sim import SimDriver

    clock = VirtualClock()
    return SimDriver(hand, clock=clock, watchdog_thread=False, safety=SafetyConfig(max_velocity=8.0)), clock


def run_episode(policy: Any, space: ActionSpace, hand: Hand, scene: Scene, *, frames: int, fps: float,
                driver: HandDriver | None = None, clock: VirtualClock | None = None, settle_s: float = 0.3,
                sleep: Any = None) -> np.ndarray:
    """Run one episode; returns the executed final joint vector. With a real ``driver`` pass ``sleep``."""
    config = policy.config
    if driver is None:
        driver, clock = sim_driver(hand)
    image = torch.from_numpy(np.array(render(scene, config.image_size))).permute(2, 0, 1)[None].float() / 255.0
    history: deque[torch.Tensor] = deque(maxlen=config.history)
    dt = 1.0 / fps

    def advance() -> None:
        if clock is not None:
            clock.now += dt
        elif sleep is not None:
            sleep(dt)

    with driver:
        q = np.asarray(driver.read_state().positions)
        frame = 0
        while frame < frames:
            state = space.encode(hand, torch.as_tensor(q, dtype=torch.float32)[None])
            history.append(state)
            while len(history) < config.history:
                history.appendleft(history[0])
            batch = {"observation.images.scene": image, "task": [scene.instruction],
                     "observation.state": torch.stack(list(history), dim=1)}
            with torch.no_grad():
                chunk = policy.predict_action_chunk(batch)[0, : config.n_action_steps]
            for action in space.decode(hand, chunk).numpy():
                driver.command(action)
                advance()
                q = np.asarray(driver.read_state().positions)
                frame += 1
                if frame >= frames:
                    break
        steps = max(1, int(round(settle_s * fps)))
        for _ in range(steps):  # hold the last command while the actuators settle
            driver.command(driver.last_report.sent if driver.last_report else q)
            advance()
        return np.asarray(driver.read_state().positions)
