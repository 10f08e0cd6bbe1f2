"""xlsdk: one shared latent action space for every dexterous hand (XL-VLA, arXiv 2603.10158).

The public API::

    import xlsdk
    xlsdk.hands()                        # installed hand names
    hand = xlsdk.load_hand("inspire")    # spec, limits, fk(q), geometry(q), sample(n)
    z = xlsdk.encode(hand, q)            # joints -> the shared latent, through the hand's verified head
    q = xlsdk.decode(hand, z)            # and back, inside the joint limits
    q_b = xlsdk.retarget(q_a, "inspire", "xhand")   # through the shared latent
    xlsdk.fit_head(hand)                 # fit a new hand's head against the frozen latent

Plugins implement the hooks in :mod:`xlsdk.hookspecs` with :data:`hookimpl`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from xlsdk.errors import (
    BrokenPluginError,
    DataFormatError,
    DriverError,
    FingerprintMismatchError,
    HeadError,
    LatentError,
    ManifestError,
    PluginConflictError,
    SafetyError,
    UnknownHandError,
    UrdfError,
    XlsdkError,
)
from xlsdk.hookspecs import hookimpl

if TYPE_CHECKING:
    from xlsdk.hand import Hand, JointLimit
    from xlsdk.latent.core import CoreLatent
    from xlsdk.manifest import CANONICAL_FINGERS, HandManifest
    from xlsdk.plugins import get_plugin_host, reset_plugin_host

from xlsdk.version import __version__

#: public names whose modules are imported on first access (PEP 562), so that ``import xlsdk`` (and the
#: ``xlsdk`` command line starting up) pays for pydantic models and numpy only when they are used
_LAZY = {
    "Hand": "xlsdk.hand",
    "JointLimit": "xlsdk.hand",
    "CANONICAL_FINGERS": "xlsdk.manifest",
    "HandManifest": "xlsdk.manifest",
    "get_plugin_host": "xlsdk.plugins",
    "reset_plugin_host": "xlsdk.plugins",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'xlsdk' has no attribute {name!r}")


def hands(*, include_core: bool = False) -> list[str]:
    """Names of the installed, working hands (``include_core`` adds the canonical hand)."""
    from xlsdk.plugins import get_plugin_host

    return get_plugin_host().hand_names(include_core=include_core)


def load_hand(name: str) -> Hand:
    """The installed hand called ``name``; raises :class:`UnknownHandError` listing the installed ones."""
    from xlsdk.plugins import get_plugin_host

    return get_plugin_host().load_hand(name)


def core_latent() -> CoreLatent:
    """The installed, frozen core latent (canonical + reference heads, fingerprint, metrics)."""
    from xlsdk.latent.head_loading import installed_core_latent

    return installed_core_latent()


def encode(hand: str | Hand, q: Any) -> Any:
    """Joint vectors ``(..., dof)`` to latents ``(..., k)`` through ``hand``'s head (numpy or torch)."""
    from xlsdk.latent.head_loading import encode as _encode

    return _encode(load_hand(hand) if isinstance(hand, str) else hand, q)


def decode(hand: str | Hand, z: Any) -> Any:
    """Latents ``(..., k)`` to joint vectors ``(..., dof)`` of ``hand``, inside its limits (numpy or torch)."""
    from xlsdk.latent.head_loading import decode as _decode

    return _decode(load_hand(hand) if isinstance(hand, str) else hand, z)


def retarget(q: Any, src: str | Hand, dst: str | Hand, *, refine: bool = False, refine_steps: int = 2) -> Any:
    """Map joint vectors of hand ``src`` to hand ``dst`` through the shared latent (numpy in, numpy out)."""
    from xlsdk.latent.retarget import retarget as _retarget

    source = load_hand(src) if isinstance(src, str) else src
    target = load_hand(dst) if isinstance(dst, str) else dst
    return _retarget(q, source, target, refine=refine, refine_steps=refine_steps)


def load_core_hands(core: CoreLatent | None = None) -> dict[str, Hand]:
    """The hands ``core`` (default: the installed core latent) was trained on, by name, loaded through the
    plugin host: what :func:`xlsdk.latent.fit.fit_head` takes as ``core_hands``.

    The latent takes Hands and never looks one up by name (tests/test_layers.py holds it to that), so the
    faces (``xlsdk fit``, :func:`fit_head` here, the benchmarks) load them with this and hand them over.
    """
    core = core or core_latent()
    return {name: load_hand(name) for name in core.manifest.hands}


def fit_head(hand: str | Hand, **options: Any) -> Any:
    """Fit ``hand``'s encoder/decoder against the frozen core latent; see :func:`xlsdk.latent.fit.fit_head`.

    Names are resolved here, the hand's and those of the hands the core latent was trained on
    (:func:`load_core_hands`, unless ``core_hands`` is given).
    """
    from xlsdk.latent.fit import fit_head as _fit_head

    core = options.pop("core", None) or core_latent()
    core_hands = options.pop("core_hands", None) or load_core_hands(core)
    return _fit_head(load_hand(hand) if isinstance(hand, str) else hand, core=core, core_hands=core_hands, **options)


__all__ = [
    "CANONICAL_FINGERS",
    "BrokenPluginError",
    "DataFormatError",
    "DriverError",
    "FingerprintMismatchError",
    "Hand",
    "HandManifest",
    "HeadError",
    "JointLimit",
    "LatentError",
    "ManifestError",
    "PluginConflictError",
    "SafetyError",
    "UnknownHandError",
    "UrdfError",
    "XlsdkError",
    "core_latent",
    "decode",
    "encode",
    "fit_head",
    "get_plugin_host",
    "hands",
    "hookimpl",
    "load_core_hands",
    "load_hand",
    "reset_plugin_host",
    "retarget",
]
