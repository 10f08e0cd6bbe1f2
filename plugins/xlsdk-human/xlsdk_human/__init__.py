"""xlsdk hand plugin: the human hand, the source of every teleoperated demonstration.

Declarative only: ``hand.toml`` + the URDF it names (generated from anthropometric facts by
``tools/write_urdf.py``) + the latent head fitted against the frozen core latent. Keypoints of a
person's hand become this hand's joints in :mod:`xlsdk.human`; from there the latent carries them to
every installed hand. It drives nothing but the simulated hand (``sim``).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from xlsdk import hookimpl


@hookimpl
def xlsdk_register_hands(register: Callable[..., None]) -> None:
    register(files(__name__) / "hand.toml")
