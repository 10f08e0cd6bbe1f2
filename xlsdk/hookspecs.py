"""The xlsdk plugin contract: every hook a plugin may implement, and nothing else.

A plugin is a distribution with an entry point in the ``xlsdk`` group pointing at a module that
implements some of these hooks with ``@xlsdk.hookimpl``. Plugins *register* objects through the
``register`` callback they are handed instead of returning them: the host owns validation, duplicate
detection and error isolation, and new keyword options can be added to ``register`` without breaking
any plugin.

Hooks are called once per process, lazily, the first time something asks for hands or drivers
(``xlsdk.hands()``, ``xlsdk.load_hand()``, ``xlsdk hands``). A hook that raises marks only its own
plugin as broken; every other plugin keeps working.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

hookspec = pluggy.HookspecMarker("xlsdk")
hookimpl = pluggy.HookimplMarker("xlsdk")


@hookspec
def xlsdk_register_hands(register: Callable[..., None]) -> None:
    """Register the hands this plugin provides.

    :param register: call ``register(manifest_path)`` once per hand, with the path of the hand's
        ``hand.toml`` (typically ``importlib.resources.files(__package__) / "hand.toml"``). The
        manifest names the URDF; the hand's fitted latent head (``head.safetensors`` + ``head.json``)
        is looked up next to the manifest, heads for other core latents in ``heads/<fingerprint>/``.

    The host validates each manifest against its URDF. An invalid manifest lists the hand as broken
    (with the reason) in ``xlsdk hands``; two plugins registering the same hand name is an error that
    names both.
    """


@hookspec
def xlsdk_register_drivers(register: Callable[..., None]) -> None:
    """Register the hardware drivers this plugin provides.

    :param register: call ``register(entry)`` with an :class:`xlsdk.drivers.DriverEntry` per driver:
        its ``name`` (what users pass to ``--driver``), the ``hands`` it can drive (empty = any hand),
        a ``factory(hand, options) -> Driver`` and a one-line ``description``. Import vendor SDKs
        inside the factory, not at module import, so a missing SDK breaks only that driver and the
        error can say what to install.

    The core registers the ``sim`` driver, which works for every hand from its manifest.
    """
