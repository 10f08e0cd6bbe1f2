"""Pre/post-processors of the XL-VLA policy, found by LeRobot by naming convention.

Pre: add the batch dimension, encode ``action`` and ``observation.state`` into the latent with the
configured hand's frozen head (latent action space) or into its joint slots (slots action space), move
to the device. Post: decode the latent or slot action into that hand's joints, back to the CPU. Decoding
for another hand is a post-processor override (``{"xlsdk_latent_decode": {"hand": "xhand"}}``, or
``xlsdk_slots_decode``) — or ``xlsdk policy run HAND``.
"""

from __future__ import annotations

from typing import Any

from lerobot.processor import AddBatchDimensionProcessorStep, DeviceProcessorStep
from lerobot.processor.factory import make_policy_processor_pipelines

from xlsdk.errors import PolicyConfigError
from xlsdk.policy.configuration_xlvla import XlvlaConfig
from xlsdk.policy.latent_steps import LatentDecodeStep, LatentEncodeStep
from xlsdk.policy.slot_steps import SlotsDecodeStep, SlotsEncodeStep


def make_xlvla_pre_post_processors(config: XlvlaConfig, dataset_stats: Any = None) -> tuple[Any, Any]:
    pre: list[Any] = [AddBatchDimensionProcessorStep()]
    post: list[Any] = []
    if config.action_space == "latent":
        if not config.hand:
            raise PolicyConfigError("an xlvla policy in latent space needs its `hand` (the hand of the dataset) to "
                                    "encode and decode with")
        pre.append(LatentEncodeStep(hand=config.hand))
        post.append(LatentDecodeStep(hand=config.hand))
    elif config.action_space == "slots":
        if not config.hand:
            raise PolicyConfigError("an xlvla policy in slot space needs its `hand` (the hand of the dataset) to "
                                    "encode and decode with")
        pre.append(SlotsEncodeStep(hand=config.hand))
        post.append(SlotsDecodeStep(hand=config.hand))
    pre.append(DeviceProcessorStep(device=config.device or "cpu"))
    post.append(DeviceProcessorStep(device="cpu"))
    return make_policy_processor_pipelines(input_steps=pre, output_steps=post)
