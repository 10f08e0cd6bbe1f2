"""LeRobot's door to the XL-VLA policy: ``lerobot-train --policy.type=xlvla --policy.hand=HAND ...``.

LeRobot 0.6 imports this distribution from ``register_third_party_plugins()``. Importing registers
the ``xlvla`` config and the xlsdk latent and slot processor steps; LeRobot then finds the policy class and its
processors next to the config (``xlsdk.policy.modeling_xlvla`` / ``processor_xlvla``).
"""

from xlsdk.policy import latent_steps as _latent_steps  # noqa: F401 - registers the processor steps
from xlsdk.policy import slot_steps as _slot_steps  # noqa: F401 - registers the processor steps
from xlsdk.policy.configuration_xlvla import XlvlaConfig

__all__ = ["XlvlaConfig"]
