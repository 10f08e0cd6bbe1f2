"""Functional joint slots as LeRobot processor steps: train any LeRobot policy in the slot space.

* ``xlsdk_slots_encode`` (:class:`SlotsEncodeStep`): in a pre-processor, replaces a hand's joint ``action``
  (chunks included) and ``observation.state`` by their slot vectors (:class:`~xlsdk.policy.action_space.SlotSpace`);
* ``xlsdk_slots_decode`` (:class:`SlotsDecodeStep`): in a post-processor, reads the joint commands of
  whatever hand is attached back out of the policy's slot action (chunk).

The twins of the latent's steps (:mod:`xlsdk.policy.latent_steps`), registered the same way, so saved
pipelines refer to them by name. The layout comes from the hand's spec: there is nothing to fit and no
trainable state. Empty slots are encoded as 0; a trainer that wants them out of its loss takes the mask
from ``SlotSpace().mask(hand)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lerobot.configs.types import FeatureType, PipelineFeatureType, PolicyFeature
from lerobot.lerobot_types import TransitionKey
from lerobot.processor.pipeline import ProcessorStep, ProcessorStepRegistry

from xlsdk.joint_slots import SLOT_COUNT
from xlsdk.policy.action_space import SlotSpace
from xlsdk.policy.latent_steps import encoded_features, installed_hand, map_last_dim
from xlsdk.policy.modeling_xlvla import ACTION, STATE


@ProcessorStepRegistry.register("xlsdk_slots_encode")
@dataclass
class SlotsEncodeStep(ProcessorStep):
    """Joint actions/state of ``hand`` -> slot vectors; ``passthrough`` leading entries (a wrist command) kept."""

    hand: str
    encode_action: bool = True
    encode_state: bool = True
    passthrough: int = 0
    _space: SlotSpace = field(default_factory=SlotSpace, init=False, repr=False, compare=False)

    def __call__(self, transition: dict) -> dict:
        hand = installed_hand(self.hand)
        out = dict(transition)

        def encode(q: Any) -> Any:
            return self._space.encode(hand, q)

        action = out.get(TransitionKey.ACTION)
        if self.encode_action and action is not None:
            out[TransitionKey.ACTION] = map_last_dim(action, hand.dof, ACTION, hand.name, encode, self.passthrough)
        observation = out.get(TransitionKey.OBSERVATION)
        if self.encode_state and observation is not None and STATE in observation:
            observation = dict(observation)
            observation[STATE] = map_last_dim(observation[STATE], hand.dof, STATE, hand.name, encode, self.passthrough)
            out[TransitionKey.OBSERVATION] = observation
        return out

    def get_config(self) -> dict[str, Any]:
        config = {"hand": self.hand, "encode_action": self.encode_action, "encode_state": self.encode_state}
        return {**config, "passthrough": self.passthrough} if self.passthrough else config

    def transform_features(self, features: dict[PipelineFeatureType, dict[str, PolicyFeature]]
                           ) -> dict[PipelineFeatureType, dict[str, PolicyFeature]]:
        return encoded_features(features, SLOT_COUNT + self.passthrough, action=self.encode_action,
                                state=self.encode_state)


@ProcessorStepRegistry.register("xlsdk_slots_decode")
@dataclass
class SlotsDecodeStep(ProcessorStep):
    """Slot actions (chunks included) -> joint commands of ``hand`` (inside its limits); ``passthrough`` as above."""

    hand: str
    passthrough: int = 0
    _space: SlotSpace = field(default_factory=SlotSpace, init=False, repr=False, compare=False)

    def __call__(self, transition: dict) -> dict:
        hand = installed_hand(self.hand)
        out = dict(transition)
        action = out.get(TransitionKey.ACTION)
        if action is not None:
            out[TransitionKey.ACTION] = map_last_dim(action, SLOT_COUNT, "slot action", hand.name,
                                                     lambda a: self._space.decode(hand, a), self.passthrough)
        return out

    def get_config(self) -> dict[str, Any]:
        return {"hand": self.hand, "passthrough": self.passthrough} if self.passthrough else {"hand": self.hand}

    def transform_features(self, features: dict[PipelineFeatureType, dict[str, PolicyFeature]]
                           ) -> dict[PipelineFeatureType, dict[str, PolicyFeature]]:
        features = {kind: dict(group) for kind, group in features.items()}
        if ACTION in features.get(PipelineFeatureType.ACTION, {}):
            features[PipelineFeatureType.ACTION][ACTION] = PolicyFeature(
                type=FeatureType.ACTION, shape=(self.passthrough + installed_hand(self.hand).dof,))
        return features
