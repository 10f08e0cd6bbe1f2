"""The benchmark's policy arms: one XL-VLA network per action space, trained on the same frames.

* ``latent``: the 6-d wrist command + a chunk of the shared latent, decoded by the attached hand's head;
* ``raw``: the wrist + the hand's joints scaled by its limits, zero-padded to the widest benchmark hand;
* ``slots``: the wrist + the hand's joints in functional slots (finger x role, :mod:`xlsdk.joint_slots`),
  empty slots masked out of the loss.

Each arm is the same network, data, steps and seeds; only the meaning of the action vector differs
(:class:`~xlsdk.bench.physics.space.WristHandSpace` over :func:`xlsdk.policy.action_space.space_of`). In
``state`` mode the network reads the scene's object features instead of a camera
(``XlvlaConfig(vision="none", environment_dim=...)``); in ``vision`` mode it reads the wrist and fixed
cameras side by side through patch tokens.

Every policy is run by :func:`~xlsdk.bench.physics.expert.rollout`, the expert's own executor, either with
temporal ensembling (a chunk predicted at every control step, the live chunks' actions for the step
averaged: the XL-VLA arms' default) or a receding horizon (a chunk every ``n_action_steps`` control steps,
its first ``n_action_steps`` actions executed: ACT's default, and the XL-VLA arms' ablation).

What an XL-VLA arm trains on is prepared in one place, :func:`policy_frames` then
:func:`xlvla_training_set`, for the benchmark, the one-cell script (``benchmarks/physics/one_combo.py``) and
the suite's learning test alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from xlsdk.bench.physics.dataset import ENVIRONMENT_KEY, IMAGE_KEY, IMAGE_KEYS, ObsMode
from xlsdk.bench.physics.expert import Controller, Episode, bench_world, rollout
from xlsdk.bench.physics.observation import SCENE_WIDTHS, Observation
from xlsdk.bench.physics.space import WRIST_DIM, WristHandSpace, absolute_wrist
from xlsdk.bench.physics.tasks import TaskScene
from xlsdk.errors import PhysicsError
from xlsdk.hand import Hand

XLVLA_ARMS = ("latent", "raw", "slots")
#: temporal ensembling's weight decay per chunk of age (ACT's ``temporal_ensemble_coeff``)
ENSEMBLE_DECAY = 0.01
#: every arm: the XL-VLA network in each action space, and LeRobot's ACT in the latent space
ARMS = (*XLVLA_ARMS, "act-latent")
#: the quick run's arms: the three the benchmark must compare (the latent, raw joints, a stock LeRobot policy in
#: the latent); the slots arm runs in the full run and with ``--arms`` (it cost the quick run 220 s of CPU)
QUICK_ARMS = ("latent", "raw", "act-latent")


def make_xlvla_config(arm: str, *, obs: ObsMode, raw_width: int, image_size: int, chunk_size: int,
                      n_action_steps: int, wrist_loss_share: float | None, proprio: str = "wrist+hand",
                      scene: str = "wrist", **overrides: Any) -> Any:
    """The policy config of ``arm``: its action space, a camera or the object features as input (the leading
    :data:`~xlsdk.bench.physics.observation.SCENE_WIDTHS` ``[scene]`` of them), and the wrist and hand state
    (``proprio="wrist"``: the wrist alone); ``overrides``: further fields of
    :class:`~xlsdk.policy.configuration_xlvla.XlvlaConfig` (``hidden_dim``, the scale floors), which it checks."""
    from lerobot.configs.types import FeatureType, PolicyFeature

    from xlsdk.policy.train import make_config

    vision = obs == "vision"
    config = make_config(arm, image_size=image_size, wrist_dim=WRIST_DIM, vision="tokens" if vision else "none",
                         environment_dim=0 if vision else SCENE_WIDTHS[scene],
                         patch_size=max(1, image_size // 8),  # an 8 x 8 grid of image tokens
                         chunk_size=chunk_size, n_action_steps=n_action_steps, wrist_loss_share=wrist_loss_share,
                         raw_dim=raw_width if arm == "raw" else None,
                         proprio_dim=WRIST_DIM if proprio == "wrist" else None, **overrides)
    image = config.input_features.pop("observation.images.scene")
    if vision:  # the two cameras side by side, instead of make_config's generic scene key
        config.input_features = {IMAGE_KEY: image, **config.input_features}
    else:
        config.input_features[ENVIRONMENT_KEY] = PolicyFeature(type=FeatureType.ENV, shape=(SCENE_WIDTHS[scene],))
    return config


def policy_frames(frames: Any, points: Mapping[str, np.ndarray] | None) -> Any:
    """Demonstration frames (:func:`~xlsdk.bench.physics.dataset.read_frames`) as every arm trains on them: the
    wrist entries measured from each hand's grasp point (``points``, by hand name; None: from the wrist, the
    ``--frame wrist`` ablation), then each action chunk's wrist made relative to the frame's measured one."""
    from xlsdk.bench.physics.grasp_frame import shift_frames
    from xlsdk.bench.physics.space import relative_wrist

    if points is not None:
        missing = sorted(set(frames.hands) - set(points))
        if missing:
            raise PhysicsError(f"no grasp point for hand(s) {missing} of the demonstrations: pass one per hand "
                               "(xlsdk.bench.physics.grasp_frame.grasp_point), or None for the wrist frame")
        frames = shift_frames(frames, {hand: np.asarray(points[hand]) for hand in set(frames.hands)})
    return relative_wrist(frames)


def xlvla_training_set(arm: str, frames: Any, hands: Mapping[str, Hand], *, obs: ObsMode, raw_width: int,
                       image_size: int, chunk_size: int, n_action_steps: int, wrist_loss_share: float | None,
                       proprio: str = "wrist+hand", scene: str = "wrist", **overrides: Any) -> tuple[Any, Any]:
    """The policy config of XL-VLA ``arm`` (:func:`make_xlvla_config`; ``overrides`` are further config fields,
    checked by the config like the rest) and ``frames`` (from :func:`policy_frames`) encoded into its action
    space with ``hands`` (every hand of the frames, by name): ``(config, training set)``."""
    from xlsdk.policy.train import to_training_set

    config = make_xlvla_config(arm, obs=obs, raw_width=raw_width, image_size=image_size, chunk_size=chunk_size,
                               n_action_steps=n_action_steps, wrist_loss_share=wrist_loss_share, proprio=proprio,
                               scene=scene, **overrides)
    return config, to_training_set(frames, space_for(config), hands=hands)


def space_for(config: Any) -> WristHandSpace:
    from xlsdk.policy.action_space import space_of

    return WristHandSpace(space_of(config))


def cameras_image(obs: Observation) -> torch.Tensor:
    """Both cameras of an observation side by side, as the datasets store them: (1, 3, S, 2S) in [0, 1]."""
    frames = [torch.from_numpy(np.array(obs.image(key.rsplit(".", 1)[-1]))).permute(2, 0, 1) for key in IMAGE_KEYS]
    return torch.cat(frames, dim=-1)[None].float() / 255.0


class TemporalEnsemble:
    """ACT's temporal ensembling over absolute commands: every control step a new chunk arrives, and the command
    is the average of every live chunk's action for this step, the older ones weighing a little more
    (``exp(-ENSEMBLE_DECAY i)``, ``i = 0`` the oldest). Each chunk is made absolute (its wrist anchored at the
    wrist measured when it was predicted) before averaging: relative wrist targets of different anchors do not
    add up, which is why LeRobot's own ensembler (over the policy's raw output) cannot be used here."""

    def __init__(self, chunk_size: int) -> None:
        from collections import deque

        self.live: deque[tuple[int, np.ndarray]] = deque(maxlen=chunk_size)

    def __call__(self, step: int, chunk: np.ndarray, wrist_state: np.ndarray) -> np.ndarray:
        """The command for ``step``, given the ``chunk`` predicted on it (decoded, wrist relative to
        ``wrist_state``, the state measured then)."""
        self.live.append((step, np.stack([absolute_wrist(action, wrist_state) for action in chunk])))
        actions = [live[step - born] for born, live in self.live if step - born < len(live)]
        weights = np.exp(-ENSEMBLE_DECAY * np.arange(len(actions)))
        return np.average(np.stack(actions), axis=0, weights=weights)


class XlvlaRunner:
    """A trained arm: drives any hand its action space can decode, in the benchmark's world."""

    def __init__(self, arm: str, policy: Any, space: WristHandSpace, obs: ObsMode, image_size: int,
                 ensemble: bool = False) -> None:
        self.arm, self.policy, self.space, self.obs, self.image_size = arm, policy, space, obs, image_size
        self.ensemble = ensemble

    def can_drive(self, hand: Hand) -> bool:
        """A raw-joint policy cannot drive a hand wider than it was padded to (it is refused, shown as n/a)."""
        return self.space.name != "raw" or hand.dof <= self.space.hand_space.dim

    def controller(self, hand: Hand, scene: TaskScene) -> Controller:
        if self.ensemble:
            return self._ensembled(hand, scene)
        return self._receding(hand, scene)

    def _inputs(self, obs: Observation, scene: TaskScene, width: int) -> dict[str, Any]:
        """The batch of one observation, without the state (the caller adds it with its history)."""
        batch: dict[str, Any] = {"task": [scene.instruction]}
        if self.obs == "vision":
            batch[IMAGE_KEY] = cameras_image(obs)
        else:
            batch[ENVIRONMENT_KEY] = torch.as_tensor(obs.objects[:width], dtype=torch.float32)[None]
        return batch

    def _ensembled(self, hand: Hand, scene: TaskScene) -> Controller:
        """Temporal ensembling (:class:`TemporalEnsemble`): a chunk predicted at every step, decoded and made
        absolute, the live chunks' actions for the step averaged."""
        from xlsdk.policy.modeling_xlvla import STATE

        policy, space = self.policy, self.space
        policy.reset()
        config = policy.config
        ensemble = TemporalEnsemble(config.chunk_size)

        def control(step: int, obs: Observation) -> np.ndarray:
            history = policy.remember_state(space.encode(hand, torch.as_tensor(obs.state, dtype=torch.float32)[None]))
            batch = {**self._inputs(obs, scene, config.environment_dim), STATE: history}
            decoded = space.decode(hand, policy.predict_action_chunk(batch)[0]).numpy()
            return ensemble(step, decoded, obs.state)

        return control

    def _receding(self, hand: Hand, scene: TaskScene) -> Controller:
        from xlsdk.policy.modeling_xlvla import STATE

        policy, space = self.policy, self.space
        policy.reset()
        anchor: dict[str, Any] = {}
        every, width = policy.config.n_action_steps, policy.config.environment_dim

        def control(step: int, obs: Observation) -> np.ndarray:
            if step % every == 0:  # a new chunk is predicted on this step, from this observation (and image)
                anchor["wrist"], anchor["inputs"] = obs.state, self._inputs(obs, scene, width)
            state = space.encode(hand, torch.as_tensor(obs.state, dtype=torch.float32)[None])
            batch = {**anchor["inputs"], STATE: state}
            return absolute_wrist(space.decode(hand, policy.select_action(batch)[0]).numpy(), anchor["wrist"])

        return control

    def episode(self, hand: Hand, scene: TaskScene, *, cameras: tuple[str, ...] = (),
                point: np.ndarray | None = None) -> Episode | None:
        """One graded episode; ``point``: the hand's grasp point when the arm was trained in the grasp frame."""
        from xlsdk.bench.physics.grasp_frame import in_grasp_frame

        return graded_episode(in_grasp_frame(self.controller(hand, scene), point), hand, scene, cameras=cameras,
                              image_size=self.image_size)

    def latency_ms(self, hand: Hand, calls: int = 50) -> float:
        """Median wall time of one chunk prediction + decode for ``hand`` (CPU, batch 1)."""
        from xlsdk.bench.harness import median_ms

        config = self.policy.config
        batch: dict[str, Any] = {"task": ["lift the red cube"],
                                 "observation.state": torch.zeros(1, config.history, config.action_dim)}
        if self.obs == "vision":
            batch[IMAGE_KEY] = torch.rand(1, 3, self.image_size, 2 * self.image_size)
        else:
            batch[ENVIRONMENT_KEY] = torch.zeros(1, config.environment_dim)

        def predict() -> None:
            with torch.no_grad():
                self.space.decode(hand, self.policy.predict_action_chunk(batch)[0])

        return median_ms(lambda: predict, calls)


def graded_episode(controller: Controller, hand: Hand, scene: TaskScene, *, cameras: tuple[str, ...],
                   image_size: int) -> Episode | None:
    """One policy episode in the benchmark's world; a physics blow-up counts as no episode (a failure)."""
    world = bench_world(hand, scene, image_size)
    try:
        return rollout(world, scene, controller, cameras=cameras, image_size=image_size)
    except PhysicsError:
        return None
    finally:
        world.close()


def runner_from_weights(arm: str, config: Any, weights: dict[str, torch.Tensor], obs: ObsMode,
                        image_size: int, ensemble: bool = False) -> Any:
    """Rebuild a trained arm from its config and weights (what a worker process receives); ``ensemble``:
    temporal ensembling instead of a receding horizon (:class:`TemporalEnsemble`)."""
    from xlsdk.policy.modeling_xlvla import XlvlaPolicy
    from xlsdk.training import global_rng_untouched

    if arm == "act-latent":
        from xlsdk.bench.physics.act_arm import ActRunner

        return ActRunner(config, weights, obs, image_size, ensemble=ensemble)
    with global_rng_untouched():
        policy = XlvlaPolicy(config)
    policy.load_state_dict(weights)
    policy.eval()
    return XlvlaRunner(arm, policy, space_for(config), obs, image_size, ensemble=ensemble)
