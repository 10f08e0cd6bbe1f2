"""xlsdk hand plugin: Robotera XHAND1 (right hand).

Declarative first: the hand is `hand.toml` + the URDF it names + the fitted latent head next to it.
Code lives only where behaviour differs: the drivers in `driver.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from xlsdk import hookimpl

from xlsdk_xhand.driver import driver_entries


@hookimpl
def xlsdk_register_hands(register: Callable[..., None]) -> None:
    register(files(__name__) / "hand.toml")


@hookimpl
def xlsdk_register_drivers(register: Callable[..., None]) -> None:
    for entry in driver_entries():
        register(entry)
