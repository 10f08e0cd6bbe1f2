"""The core's own plugin: what xlsdk provides without any hand plugin installed.

It registers the canonical hand (the anthropomorphic model at the centre of the core latent; listed
only with ``xlsdk hands --all``), the ``sim`` driver, which drives every hand from its manifest, and the
``mujoco`` driver, which puts any hand in the physics world of :mod:`xlsdk.physics`.
It goes through the same hooks as any third-party plugin, so the core exercises its own contract.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from xlsdk.hookspecs import hookimpl

CANONICAL_HAND = "canonical"


@hookimpl
def xlsdk_register_hands(register: Callable[..., None]) -> None:
    register(files("xlsdk.canonical") / "hand.toml", core=True)


@hookimpl
def xlsdk_register_drivers(register: Callable[..., None]) -> None:
    from xlsdk.drivers.mujoco_driver import mujoco_driver_entry
    from xlsdk.drivers.sim import sim_driver_entry

    register(sim_driver_entry())
    register(mujoco_driver_entry())
