"""A stock LeRobot policy (ACT, from scratch) trained in the shared latent space.

The point: any LeRobot policy can be trained in latent space. Nothing in ACT changes; the hand's joint
actions and states go through xlsdk's LeRobot processor steps: :class:`~xlsdk.policy.latent_steps.
LatentEncodeStep` (each hand's frozen head, the wrist command passed through) on the way in,
:class:`~xlsdk.policy.latent_steps.LatentDecodeStep` (the attached hand's head) on the way out, with
mean/std normalisation of the latent actions as LeRobot's normaliser does. ACT is built with
``pretrained_backbone_weights=None`` (a ResNet-18 trained from scratch: no download) and sized down
to train on CPU in minutes; its CVAE is off (the expert is deterministic).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from xlsdk.hand import Hand
from xlsdk.bench.physics.dataset import IMAGE_KEY, WRIST_DIM
from xlsdk.training import clip_gradients, cosine_schedule, generator, global_rng_untouched

STATE, ACTION = "observation.state", "action"


class ActLatentArm:
    """ACT + the latent processor steps + normalisation statistics: trained once, run on any hand."""

    def __init__(self, policy: Any, mean: torch.Tensor, std: torch.Tensor, image_size: int) -> None:
        self.policy = policy
        self.mean, self.std = mean, std
        self.image_size = image_size

    def reset(self) -> None:
        self.policy.reset()

    @property
    def n_action_steps(self) -> int:
        return self.policy.config.n_action_steps

    def act(self, hand: Hand, state: np.ndarray, image: torch.Tensor) -> np.ndarray:
        from lerobot.lerobot_types import TransitionKey

        from xlsdk.policy.latent_steps import LatentDecodeStep, LatentEncodeStep

        encoded = LatentEncodeStep(hand=hand.name, encode_action=False, passthrough=WRIST_DIM)(
            {TransitionKey.OBSERVATION: {STATE: torch.as_tensor(state, dtype=torch.float32)[None]}})
        latent_state = (encoded[TransitionKey.OBSERVATION][STATE] - self.mean) / self.std
        with torch.no_grad():
            action = self.policy.select_action({IMAGE_KEY: resized(image, self.image_size), STATE: latent_state})
        action = action * self.std + self.mean
        decoded = LatentDecodeStep(hand=hand.name, passthrough=WRIST_DIM)({TransitionKey.ACTION: action})
        return decoded[TransitionKey.ACTION][0].numpy()


def resized(images: torch.Tensor, size: int) -> torch.Tensor:
    """Camera images (N, 3, S, S) at ``size`` x ``size`` (area averaging; unchanged when already that size)."""
    if images.shape[-1] == size:
        return images
    return torch.nn.functional.interpolate(images, size=(size, size), mode="area")


def encode_frames(frames: Any, keep: list[bool], chunk: int) -> dict[str, torch.Tensor]:
    """The demo frames (joint space) through LatentEncodeStep, one batch per hand."""
    from lerobot.lerobot_types import TransitionKey

    from xlsdk.policy.latent_steps import LatentEncodeStep

    rows = [i for i in range(len(frames.images)) if keep[i]]
    states: dict[int, torch.Tensor] = {}
    actions: dict[int, torch.Tensor] = {}
    for hand_name in sorted({frames.hands[i] for i in rows}):
        mine = [i for i in rows if frames.hands[i] == hand_name]
        out = LatentEncodeStep(hand=hand_name, passthrough=WRIST_DIM)({
            TransitionKey.ACTION: torch.stack([frames.actions[i][:chunk] for i in mine]),
            TransitionKey.OBSERVATION: {STATE: torch.stack([frames.states[i][-1] for i in mine])}})
        for position, i in enumerate(mine):
            states[i] = out[TransitionKey.OBSERVATION][STATE][position]
            actions[i] = out[TransitionKey.ACTION][position]
    return {"images": torch.stack([frames.images[i] for i in rows]), "states": torch.stack([states[i] for i in rows]),
            "actions": torch.stack([actions[i] for i in rows]),
            "pads": torch.stack([frames.pads[i][:chunk] for i in rows])}


def train_act(frames: Any, keep: list[bool], *, image_size: int, chunk: int, n_action_steps: int, steps: int,
              batch_size: int, seed: int) -> tuple[ActLatentArm, list[float], float]:
    """Train ACT on the kept frames, its images scaled to ``image_size`` (the ResNet-18 is ACT's CPU cost)."""
    from lerobot.configs.types import FeatureType, PolicyFeature
    from lerobot.policies.act.configuration_act import ACTConfig
    from lerobot.policies.act.modeling_act import ACTPolicy

    data = encode_frames(frames, keep, chunk)
    data["images"] = resized(data["images"], image_size)
    width = data["actions"].shape[-1]
    flat = data["actions"][~data["pads"]]
    mean, std = flat.mean(dim=0), flat.std(dim=0).clamp_min(1e-3)
    config = ACTConfig(
        chunk_size=chunk, n_action_steps=n_action_steps, pretrained_backbone_weights=None, use_vae=False,
        dim_model=128, n_heads=4, dim_feedforward=512, n_encoder_layers=2, n_decoder_layers=1,
        optimizer_lr=3e-4, optimizer_lr_backbone=3e-4, device="cpu", push_to_hub=False,
        input_features={IMAGE_KEY: PolicyFeature(type=FeatureType.VISUAL, shape=(3, image_size, image_size)),
                        STATE: PolicyFeature(type=FeatureType.STATE, shape=(width,))},
        output_features={ACTION: PolicyFeature(type=FeatureType.ACTION, shape=(width,))},
    )
    # ACT initialises itself, and its dropout draws, from the global generator: seed it for this run and
    # hand the caller's RNG state back afterwards (library calls never reset the global RNG)
    with global_rng_untouched():
        torch.manual_seed(seed)
        policy = ACTPolicy(config)
        policy.train()
        optimizer = torch.optim.AdamW(policy.parameters(), lr=config.optimizer_lr, weight_decay=1e-4)
        schedule = cosine_schedule(optimizer, steps)
        batches = generator(seed)
        losses: list[float] = []
        states = (data["states"] - mean) / std
        actions = (data["actions"] - mean) / std
        started = time.perf_counter()
        for _ in range(steps):
            rows = torch.randint(0, len(states), (batch_size,), generator=batches)
            loss, _ = policy({IMAGE_KEY: data["images"][rows], STATE: states[rows], ACTION: actions[rows],
                              "action_is_pad": data["pads"][rows]})
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip_gradients(policy.parameters())
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
    policy.eval()
    return ActLatentArm(policy, mean, std, image_size), losses, time.perf_counter() - started
