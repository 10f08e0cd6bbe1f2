"""Gymnasium's face of the physics world: the id ``xlsdk/HandLift-v0``, which takes a hand by name.

``gymnasium.make("xlsdk.gymnasium_env:xlsdk/HandLift-v0", hand="inspire", object_kind="ball")`` imports
this module, which registers the id; LeRobot's env type ``xlsdk`` (the ``lerobot_env_xlsdk`` shim)
names this module as its package. The environment itself is
:class:`xlsdk.physics.env.HandLiftEnv`, which takes a :class:`~xlsdk.hand.Hand`: a face like the CLI, this
module is where gymnasium's keyword ``hand="inspire"`` becomes one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium

if TYPE_CHECKING:
    from xlsdk.hand import Hand
    from xlsdk.physics.env import HandLiftEnv

ENV_ID = "xlsdk/HandLift-v0"


def make_hand_lift(hand: str | Hand = "inspire", **options: Any) -> HandLiftEnv:
    """The environment for an installed hand's name (or a ``Hand``); ``options`` go to ``HandLiftEnv``."""
    import xlsdk
    from xlsdk.physics.env import HandLiftEnv

    return HandLiftEnv(xlsdk.load_hand(hand) if isinstance(hand, str) else hand, **options)


def register() -> None:
    """Register :data:`ENV_ID` with gymnasium (idempotent)."""
    if ENV_ID not in gymnasium.registry:
        gymnasium.register(id=ENV_ID, entry_point=f"{__name__}:make_hand_lift", max_episode_steps=100)


register()
