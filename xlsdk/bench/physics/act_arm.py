"""A stock LeRobot policy (ACT, from scratch) trained in the shared latent space: the ``act-latent`` arm.

The point: any LeRobot policy can be trained in latent space. Nothing in ACT changes; the hand's joint
actions and states go through xlsdk's LeRobot processor steps: :class:`~xlsdk.policy.latent_steps.
LatentEncodeStep` (each hand's frozen head, the wrist command passed through) on the way in,
:class:`~xlsdk.policy.latent_steps.LatentDecodeStep` (the attached hand's head) on the way out, with
mean/std normalisation as LeRobot's normaliser does. In ``state`` mode ACT reads the scene's object
features as its environment state (``observation.environment_state``, which ACT supports natively); in
``vision`` mode the two cameras side by side through a ResNet-18 built with
``pretrained_backbone_weights=None`` (trained from scratch: no download). Sized down to train on CPU in
minutes; its CVAE is off (the expert is deterministic), and so is its dropout, with a learning rate of
1e-3: on the quick run's demonstrations ACT's L1 loss after 1,500 steps was 0.137 with LeRobot's defaults
(dropout 0.1, 3e-4), 0.077 without dropout, 0.063 with both changes, and its success on seen scenes
0.12 -> 0.35 (the wrist's loss share, :func:`wrist_scale`, on in both).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from xlsdk.bench.physics.dataset import ENVIRONMENT_KEY, IMAGE_KEY, ObsMode
from xlsdk.bench.physics.expert import Controller, Episode
from xlsdk.bench.physics.observation import OBJECT_DIM, SCENE_WIDTHS, Observation
from xlsdk.bench.physics.space import WRIST_DIM, absolute_wrist
from xlsdk.bench.physics.tasks import TaskScene
from xlsdk.hand import Hand
from xlsdk.training import clip_gradients, cosine_schedule, generator, global_rng_untouched

STATE, ACTION = "observation.state", "action"
#: the normalisation statistics travel with the weights under these keys
STATISTICS = ("xlsdk.state_mean", "xlsdk.state_std", "xlsdk.action_mean", "xlsdk.action_std",
              "xlsdk.env_mean", "xlsdk.env_std")


def act_config(*, obs: ObsMode, width: int, image_size: int, chunk: int, n_action_steps: int,
               scene: str = "wrist") -> Any:
    from lerobot.configs.types import FeatureType, PolicyFeature
    from lerobot.policies.act.configuration_act import ACTConfig

    inputs = {STATE: PolicyFeature(type=FeatureType.STATE, shape=(width,))}
    if obs == "vision":
        inputs[IMAGE_KEY] = PolicyFeature(type=FeatureType.VISUAL, shape=(3, image_size, 2 * image_size))
    else:
        inputs[ENVIRONMENT_KEY] = PolicyFeature(type=FeatureType.ENV, shape=(SCENE_WIDTHS[scene],))
    return ACTConfig(
        chunk_size=chunk, n_action_steps=n_action_steps, pretrained_backbone_weights=None, use_vae=False,
        dim_model=128, n_heads=4, dim_feedforward=512, n_encoder_layers=2, n_decoder_layers=1,
        dropout=0.0, optimizer_lr=1e-3, optimizer_lr_backbone=1e-3, device="cpu", push_to_hub=False,
        input_features=inputs, output_features={ACTION: PolicyFeature(type=FeatureType.ACTION, shape=(width,))})


def encode_frames(frames: Any, chunk: int) -> dict[str, torch.Tensor]:
    """The demo frames (joint space) through LatentEncodeStep, one batch per hand: latent states (the newest
    of each history) and action chunks, the wrist passed through."""
    from lerobot.lerobot_types import TransitionKey

    from xlsdk.policy.latent_steps import LatentEncodeStep

    rows = list(range(len(frames.states)))
    states: dict[int, torch.Tensor] = {}
    actions: dict[int, torch.Tensor] = {}
    for hand_name in sorted(set(frames.hands)):
        mine = [i for i in rows if frames.hands[i] == hand_name]
        out = LatentEncodeStep(hand=hand_name, passthrough=WRIST_DIM)({
            TransitionKey.ACTION: torch.stack([frames.actions[i][:chunk] for i in mine]),
            TransitionKey.OBSERVATION: {STATE: torch.stack([frames.states[i][-1] for i in mine])}})
        for position, i in enumerate(mine):
            states[i] = out[TransitionKey.OBSERVATION][STATE][position]
            actions[i] = out[TransitionKey.ACTION][position]
    data = {"states": torch.stack([states[i] for i in rows]), "actions": torch.stack([actions[i] for i in rows]),
            "pads": torch.stack([frames.pads[i][:chunk] for i in rows]), "environment": frames.environment}
    if frames.images is not None:
        data["images"] = torch.stack(frames.images)
    return data


def _statistics(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    flat = values.reshape(-1, values.shape[-1])
    return flat.mean(dim=0), flat.std(dim=0).clamp_min(1e-3)


def wrist_scale(width: int, wrist_loss_share: float | None) -> float:
    """How much larger the wrist's normalised actions are made so they carry ``wrist_loss_share`` of ACT's L1 loss.

    ACT's loss is the plain mean over the action's entries, so the 6 wrist entries of a 6 + 32 latent action
    carry 16 % of it, and a policy that moves every finger right and the wrist 1 cm wrong misses the
    object. ACT itself is not changed: dividing the wrist's normalisation scale by this factor scales its
    share of the L1 loss by the same factor (the statistics travel with the weights, so the runner undoes
    it exactly). The XL-VLA arms weigh their loss with the same share (``XlvlaConfig.wrist_loss_share``).
    """
    if wrist_loss_share is None:
        return 1.0
    return wrist_loss_share / (1.0 - wrist_loss_share) * (width - WRIST_DIM) / WRIST_DIM


def act_statistics(data: dict[str, torch.Tensor], wrist_loss_share: float | None = None) -> dict[str, torch.Tensor]:
    """The normalisation ACT trains and acts with (:data:`STATISTICS`): per-dimension mean and spread of the
    encoded states, actions (padding left out) and environment states, the wrist's spread divided by
    :func:`wrist_scale`."""
    state_mean, state_std = _statistics(data["states"])
    action_mean, action_std = _statistics(data["actions"][~data["pads"]])
    action_std[:WRIST_DIM] /= wrist_scale(action_std.shape[-1], wrist_loss_share)
    env_mean, env_std = _statistics(data["environment"])
    return dict(zip(STATISTICS, (state_mean, state_std, action_mean, action_std, env_mean, env_std), strict=True))


def train_act(data: dict[str, torch.Tensor], config: Any, *, steps: int, batch_size: int, seed: int,
              snapshot_steps: tuple[int, ...] = (), on_snapshot: Any = None,
              wrist_loss_share: float | None = None, device: str = "cpu") -> list[float]:
    """Train ACT on encoded frames on ``device`` (``cpu`` or ``cuda``); ``on_snapshot(step, weights)`` gets the
    weights (on the CPU, with the normalisation statistics) after each step in ``snapshot_steps``;
    ``wrist_loss_share`` see :func:`wrist_scale`."""
    from lerobot.policies.act.modeling_act import ACTPolicy

    from xlsdk.policy.train import image_batch
    from xlsdk.training import resolve_device

    where = resolve_device(device)

    statistics = act_statistics(data, wrist_loss_share)
    state_mean, state_std, action_mean, action_std, env_mean, env_std = (statistics[k] for k in STATISTICS)
    states = (data["states"] - state_mean) / state_std
    actions = (data["actions"] - action_mean) / action_std
    environment = (data["environment"] - env_mean) / env_std
    # ACT initialises itself, and its dropout draws, from the global generator: seed it for this run and
    # hand the caller's RNG state back afterwards (library calls never reset the global RNG)
    with global_rng_untouched():
        torch.manual_seed(seed)
        policy = ACTPolicy(config).to(where)  # initialised on the CPU from the seed, then moved: same weights
        policy.train()
        optimizer = torch.optim.AdamW(policy.parameters(), lr=config.optimizer_lr, weight_decay=1e-4,
                                      foreach=True)  # as xlsdk.policy.train: the same numbers, fewer calls
        schedule = cosine_schedule(optimizer, steps)
        batches = generator(seed)
        losses: list[float] = []
        for step in range(steps):
            rows = torch.randint(0, len(states), (batch_size,), generator=batches)
            batch = {STATE: states[rows], ACTION: actions[rows], "action_is_pad": data["pads"][rows]}
            if "images" in data:
                batch[IMAGE_KEY] = image_batch(data["images"][rows])
            else:
                batch[ENVIRONMENT_KEY] = environment[rows]
            loss, _ = policy({key: value.to(where) for key, value in batch.items()})
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip_gradients(policy.parameters())
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
            if step + 1 in snapshot_steps and on_snapshot is not None:
                on_snapshot(step + 1, {**{k: v.detach().to("cpu").clone() for k, v in policy.state_dict().items()},
                                       **statistics})
    return losses


class ActRunner:
    """ACT + the latent processor steps + its normalisation: drives any hand with a fitted head."""

    arm = "act-latent"

    def __init__(self, config: Any, weights: dict[str, torch.Tensor], obs: ObsMode, image_size: int,
                 ensemble: bool = False) -> None:
        """``ensemble``: temporal ensembling over absolute commands (:class:`~xlsdk.bench.physics.policies.
        TemporalEnsemble`, a chunk every step) instead of ACT's own receding queue (a chunk every
        ``n_action_steps``)."""
        from lerobot.policies.act.modeling_act import ACTPolicy

        self.obs, self.image_size, self.ensemble = obs, image_size, ensemble
        self.stats = {k: weights[k] for k in STATISTICS}
        with global_rng_untouched():
            self.policy = ACTPolicy(config)
        self.policy.load_state_dict({k: v for k, v in weights.items() if k not in STATISTICS})
        self.policy.eval()

    def can_drive(self, hand: Hand) -> bool:
        return True

    def controller(self, hand: Hand, scene: TaskScene) -> Controller:
        from lerobot.lerobot_types import TransitionKey

        from xlsdk.bench.physics.policies import TemporalEnsemble, cameras_image
        from xlsdk.policy.latent_steps import LatentDecodeStep, LatentEncodeStep

        encode = LatentEncodeStep(hand=hand.name, encode_action=False, passthrough=WRIST_DIM)
        decode = LatentDecodeStep(hand=hand.name, passthrough=WRIST_DIM)
        stats, every = self.stats, self.policy.config.n_action_steps
        self.policy.reset()
        anchor: dict[str, Any] = {}

        def inputs(obs: Observation) -> dict[str, torch.Tensor]:
            """One observation as ACT reads it: normalised latent state, and the scene features or cameras."""
            state = encode({TransitionKey.OBSERVATION: {STATE: torch.as_tensor(obs.state, dtype=torch.float32)[None]}})
            batch = {STATE: (state[TransitionKey.OBSERVATION][STATE] - stats["xlsdk.state_mean"])
                     / stats["xlsdk.state_std"]}
            if self.obs == "vision":
                batch[IMAGE_KEY] = cameras_image(obs)
            else:
                width = stats["xlsdk.env_mean"].shape[-1]  # the scene features it was trained on
                batch[ENVIRONMENT_KEY] = ((torch.as_tensor(obs.objects[:width], dtype=torch.float32)[None]
                                           - stats["xlsdk.env_mean"]) / stats["xlsdk.env_std"])
            return batch

        def joints(action: torch.Tensor) -> np.ndarray:
            """Normalised latent actions (any leading shape) -> the hand's commands, the wrist still relative."""
            action = action * stats["xlsdk.action_std"] + stats["xlsdk.action_mean"]
            return decode({TransitionKey.ACTION: action})[TransitionKey.ACTION].numpy()

        if self.ensemble:
            ensemble = TemporalEnsemble(self.policy.config.chunk_size)

            def ensembled(step: int, obs: Observation) -> np.ndarray:
                with torch.no_grad():
                    chunk = self.policy.predict_action_chunk(inputs(obs))[0]
                return ensemble(step, joints(chunk), obs.state)

            return ensembled

        def control(step: int, obs: Observation) -> np.ndarray:
            if step % every == 0:  # ACT's queue refills on this step, from this observation
                anchor["wrist"], anchor["inputs"] = obs.state, inputs(obs)
            with torch.no_grad():
                action = self.policy.select_action(anchor["inputs"])
            return absolute_wrist(joints(action)[0], anchor["wrist"])

        return control

    def episode(self, hand: Hand, scene: TaskScene, *, cameras: tuple[str, ...] = (),
                point: np.ndarray | None = None) -> Episode | None:
        from xlsdk.bench.physics.grasp_frame import in_grasp_frame
        from xlsdk.bench.physics.policies import graded_episode

        return graded_episode(in_grasp_frame(self.controller(hand, scene), point), hand, scene, cameras=cameras,
                              image_size=self.image_size)

    def latency_ms(self, hand: Hand, calls: int = 20) -> float:
        """Median wall time of one chunk prediction + decode for ``hand`` (CPU, batch 1), from a fresh controller."""
        from xlsdk.bench.harness import median_ms
        from xlsdk.bench.physics.observation import Observation

        size = self.image_size
        obs = Observation(state=np.zeros(WRIST_DIM + hand.dof), objects=np.zeros(OBJECT_DIM),
                          image=lambda camera: np.zeros((size, size, 3), dtype=np.uint8))

        def fresh() -> Callable[[], object]:
            control = self.controller(hand, None)  # type: ignore[arg-type]  # a fresh chunk every call
            return lambda: control(0, obs)

        return median_ms(fresh, calls)
