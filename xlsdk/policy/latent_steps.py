"""The latent as LeRobot processor steps: train any LeRobot policy in the shared latent space.

* ``xlsdk_latent_encode`` (:class:`LatentEncodeStep`): in a pre-processor, replaces a hand's joint
  ``action`` (chunks included) and ``observation.state`` by their latents, with that hand's frozen head;
* ``xlsdk_latent_decode`` (:class:`LatentDecodeStep`): in a post-processor, turns the policy's latent
  action (chunk) into joint commands of whatever hand is attached.

Registered with LeRobot's ``ProcessorStepRegistry``, so saved pipelines refer to them by name and
reload wherever xlsdk is installed. The heads are frozen: the steps hold no trainable state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from lerobot.configs.types import FeatureType, PipelineFeatureType, PolicyFeature
from lerobot.lerobot_types import TransitionKey
from lerobot.processor.pipeline import ProcessorStep, ProcessorStepRegistry

from xlsdk.errors import DataFormatError
from xlsdk.latent.head_loading import apply_over_last_dim, latent_dim, load_head
from xlsdk.policy.modeling_xlvla import ACTION, STATE


def installed_hand(name: str) -> Any:
    """The installed hand ``name`` (steps hold names, not hands: a saved pipeline reloads wherever xlsdk is)."""
    from xlsdk.plugins import get_plugin_host

    return get_plugin_host().load_hand(name)


def map_last_dim(value: Any, width: int, what: str, hand_name: str, fn: Any, keep: int = 0) -> torch.Tensor:
    """``fn`` over the last dimension, after the ``keep`` leading entries (a wrist command), which pass as they are."""
    tensor = torch.as_tensor(value)
    if tensor.ndim == 0 or tensor.shape[-1] != width + keep:
        raise DataFormatError(f"{what}: last dimension is {tensor.shape[-1] if tensor.ndim else 'missing'}, hand "
                              f"{hand_name!r} expects {width + keep}" + (f" ({keep} passed through + {width})" if keep else ""),
                              hint="the dataset or policy and the hand must match (see the hand's dof and the latent k)")
    mapped = apply_over_last_dim(fn, tensor[..., keep:], width=width, what=what).float()
    return torch.cat([tensor[..., :keep].float(), mapped], dim=-1) if keep else mapped


def encoded_features(features: dict[PipelineFeatureType, dict[str, PolicyFeature]], width: int, *, action: bool,
                     state: bool) -> dict[PipelineFeatureType, dict[str, PolicyFeature]]:
    """``features`` with the action and/or state resized to ``width`` (what an encoding step outputs)."""
    features = {kind: dict(group) for kind, group in features.items()}
    if action and ACTION in features.get(PipelineFeatureType.ACTION, {}):
        features[PipelineFeatureType.ACTION][ACTION] = PolicyFeature(type=FeatureType.ACTION, shape=(width,))
    if state and STATE in features.get(PipelineFeatureType.OBSERVATION, {}):
        features[PipelineFeatureType.OBSERVATION][STATE] = PolicyFeature(type=FeatureType.STATE, shape=(width,))
    return features


@ProcessorStepRegistry.register("xlsdk_latent_encode")
@dataclass
class LatentEncodeStep(ProcessorStep):
    """Joint actions/state of ``hand`` -> latents (the posterior mean of its frozen encoder).

    ``passthrough`` leading entries (e.g. a 6-d wrist command before the hand's joints) are kept as they are.
    """

    hand: str
    encode_action: bool = True
    encode_state: bool = True
    passthrough: int = 0

    def __call__(self, transition: dict) -> dict:
        hand = installed_hand(self.hand)
        out = dict(transition)
        action = out.get(TransitionKey.ACTION)
        if self.encode_action and action is not None:
            out[TransitionKey.ACTION] = map_last_dim(action, hand.dof, ACTION, hand.name, load_head(hand).encode,
                                                      self.passthrough)
        observation = out.get(TransitionKey.OBSERVATION)
        if self.encode_state and observation is not None and STATE in observation:
            observation = dict(observation)
            observation[STATE] = map_last_dim(observation[STATE], hand.dof, STATE, hand.name, load_head(hand).encode,
                                               self.passthrough)
            out[TransitionKey.OBSERVATION] = observation
        return out

    def get_config(self) -> dict[str, Any]:
        config = {"hand": self.hand, "encode_action": self.encode_action, "encode_state": self.encode_state}
        return {**config, "passthrough": self.passthrough} if self.passthrough else config

    def transform_features(self, features: dict[PipelineFeatureType, dict[str, PolicyFeature]]
                           ) -> dict[PipelineFeatureType, dict[str, PolicyFeature]]:
        return encoded_features(features, latent_dim() + self.passthrough, action=self.encode_action,
                                state=self.encode_state)


@ProcessorStepRegistry.register("xlsdk_latent_decode")
@dataclass
class LatentDecodeStep(ProcessorStep):
    """Latent actions (chunks included) -> joint commands of ``hand`` (inside its limits); ``passthrough`` as above."""

    hand: str
    passthrough: int = 0

    def __call__(self, transition: dict) -> dict:
        hand = installed_hand(self.hand)
        out = dict(transition)
        action = out.get(TransitionKey.ACTION)
        if action is not None:
            head = load_head(hand)
            out[TransitionKey.ACTION] = map_last_dim(action, head.config.latent_dim, "latent action", hand.name,
                                                      head.decode, self.passthrough)
        return out

    def get_config(self) -> dict[str, Any]:
        return {"hand": self.hand, "passthrough": self.passthrough} if self.passthrough else {"hand": self.hand}

    def transform_features(self, features: dict[PipelineFeatureType, dict[str, PolicyFeature]]
                           ) -> dict[PipelineFeatureType, dict[str, PolicyFeature]]:
        features = {kind: dict(group) for kind, group in features.items()}
        if ACTION in features.get(PipelineFeatureType.ACTION, {}):
            features[PipelineFeatureType.ACTION][ACTION] = PolicyFeature(type=FeatureType.ACTION,
                                                                        shape=(self.passthrough + installed_hand(self.hand).dof,))
        return features
