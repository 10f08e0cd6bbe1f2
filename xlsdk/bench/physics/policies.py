"""The benchmark's arms: how each is configured, trained and run closed loop on a physics episode.

* ``latent`` / ``raw``: the native XL-VLA policy (:class:`~xlsdk.policy.modeling_xlvla.XlvlaPolicy`),
  patch-token vision (``vision="tokens"``) over the 96x96 wrist camera, actions = 6-d wrist command (its
  position relative, :mod:`~xlsdk.bench.physics.space`) + the hand part in the latent (k) or padded
  raw joints; trained by :func:`xlsdk.policy.train.train_policy`.
* ``act-latent``: LeRobot's ACT through the latent processor steps (:mod:`~xlsdk.bench.physics.act_arm`).

Every arm is run by :func:`~xlsdk.bench.physics.expert.rollout`, the expert's own executor: the
image is rendered only on the steps where a new chunk is predicted.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from xlsdk.errors import PhysicsError
from xlsdk.hand import Hand
from xlsdk.bench.physics.dataset import CAMERA, IMAGE_KEY, WRIST_DIM
from xlsdk.bench.physics.expert import Episode, bench_world, rollout
from xlsdk.bench.physics.space import absolute_wrist, relative_wrist
from xlsdk.bench.physics.tasks import TaskScene


def make_xlvla_config(arm: str, config: Any, *, raw_width: int) -> Any:
    from xlsdk.policy.train import make_config

    space = "raw" if arm == "raw" else "latent"
    policy_config = make_config(space, image_size=config.image_size, wrist_dim=WRIST_DIM, vision="tokens",
                                patch_size=max(1, config.image_size // 8),  # an 8 x 8 grid of image tokens
                                chunk_size=config.chunk_size, n_action_steps=config.n_action_steps,
                                raw_dim=raw_width if space == "raw" else None)
    # the camera this benchmark records, instead of make_config's generic scene key
    image = policy_config.input_features.pop("observation.images.scene")
    policy_config.input_features = {IMAGE_KEY: image, **policy_config.input_features}
    return policy_config


class XlvlaRunner:
    def __init__(self, arm: str, policy: Any, space: Any, image_size: int) -> None:
        self.arm, self.policy, self.space, self.image_size = arm, policy, space, image_size

    def can_drive(self, hand: Hand) -> bool:
        """A raw-joint policy cannot drive a hand wider than it was padded to (it is refused, shown as n/a)."""
        return self.space.name == "latent" or hand.dof <= self.space.hand_space.dim

    def _world(self, hand: Hand, scene: TaskScene) -> Any:
        return bench_world(hand, scene, self.image_size)

    def _roll(self, world: Any, scene: TaskScene, control: Any, record_images: bool) -> Episode | None:
        """One graded episode in ``world`` (closed afterwards); a physics blow-up counts as no episode."""
        try:
            return rollout(world, scene, control, camera=CAMERA, image_size=self.image_size,
                           record_images=record_images)
        except PhysicsError:
            return None
        finally:
            world.close()

    def _image(self, frame: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.array(frame)).permute(2, 0, 1)[None].float() / 255.0

    def episode(self, hand: Hand, scene: TaskScene, *, record_images: bool = False) -> Episode | None:
        from xlsdk.policy.modeling_xlvla import STATE

        world = self._world(hand, scene)
        policy, space, every = self.policy, self.space, self.policy.config.n_action_steps
        policy.reset()
        last: dict[str, torch.Tensor] = {}

        def control(step: int, state: np.ndarray, image: Any) -> np.ndarray:
            if step % every == 0 or "image" not in last:  # a new chunk is predicted on this step
                last["image"], last["anchor"] = self._image(image()), state
            batch = {IMAGE_KEY: last["image"], "task": [scene.instruction],
                     STATE: space.encode(hand, torch.as_tensor(state, dtype=torch.float32)[None])}
            return absolute_wrist(space.decode(hand, policy.select_action(batch)[0]).numpy(), last["anchor"])

        return self._roll(world, scene, control, record_images)

    def latency_ms(self, hand: Hand, calls: int = 50) -> float:
        """Median wall time of one chunk prediction + decode for ``hand`` (CPU, batch 1)."""
        config = self.policy.config
        batch = {IMAGE_KEY: torch.rand(1, 3, self.image_size, self.image_size), "task": ["lift the red cube"],
                 "observation.state": torch.zeros(1, config.history, config.action_dim)}
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            with torch.no_grad():
                self.space.decode(hand, self.policy.predict_action_chunk(batch)[0])
            times.append(time.perf_counter() - start)
        return float(np.median(times) * 1000.0)


class ActRunner(XlvlaRunner):
    def __init__(self, arm: Any, image_size: int) -> None:
        self.arm, self.act_arm, self.image_size = "act-latent", arm, image_size

    def can_drive(self, hand: Hand) -> bool:
        return True

    def episode(self, hand: Hand, scene: TaskScene, *, record_images: bool = False) -> Episode | None:
        world = self._world(hand, scene)
        self.act_arm.reset()
        every = self.act_arm.n_action_steps
        last: dict[str, torch.Tensor] = {}

        def control(step: int, state: np.ndarray, image: Any) -> np.ndarray:
            if step % every == 0 or "image" not in last:  # a new chunk is predicted on this step
                last["image"], last["anchor"] = self._image(image()), state
            return absolute_wrist(self.act_arm.act(hand, state, last["image"]), last["anchor"])

        return self._roll(world, scene, control, record_images)

    def latency_ms(self, hand: Hand, calls: int = 20) -> float:
        state = np.zeros(WRIST_DIM + hand.dof)
        image = torch.rand(1, 3, self.image_size, self.image_size)
        times = []
        for _ in range(calls):
            self.act_arm.reset()  # every call predicts a fresh chunk
            start = time.perf_counter()
            self.act_arm.act(hand, state, image)
            times.append(time.perf_counter() - start)
        return float(np.median(times) * 1000.0)


def train_arm(arm: str, frames: Any, keep: list[bool], config: Any, *, raw_width: int, seed: int,
              progress: bool) -> tuple[Any, list[float]]:
    """Train ``arm`` on the kept frames with ``seed``; returns its runner and the per-step losses."""
    frames = relative_wrist(frames)
    if arm == "act-latent":
        from xlsdk.bench.physics.act_arm import train_act

        act, losses, _ = train_act(frames, keep, image_size=config.act_image_size, chunk=config.chunk_size,
                                   n_action_steps=config.n_action_steps, steps=config.act_steps,
                                   batch_size=config.act_batch_size, seed=seed)
        return ActRunner(act, config.image_size), losses
    from xlsdk.policy.action_space import space_of
    from xlsdk.bench.physics.space import WristHandSpace
    from xlsdk.policy.train import to_training_set, train_policy

    policy_config = make_xlvla_config(arm, config, raw_width=raw_width)
    space = WristHandSpace(space_of(policy_config))
    data = to_training_set(frames, space, keep)
    policy, losses, _ = train_policy(data, policy_config, steps=config.steps, batch_size=config.batch_size,
                                     seed=seed, progress=progress, device="cpu")
    return XlvlaRunner(arm, policy, space, config.image_size), losses
