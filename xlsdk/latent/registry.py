"""Where heads come from: the installed core latent and each hand's head file, always cross-checked.

* The core latent ships inside xlsdk (``xlsdk/latent/data``); ``XLSDK_CORE_LATENT=DIR`` points at
  another one (a retrained latent, tests).
* The canonical hand's head is part of the core latent.
* Every other hand's head is ``head.safetensors`` + ``head.json`` next to its ``hand.toml`` and must
  carry the installed core latent's fingerprint.
"""

from __future__ import annotations

import os
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

from xlsdk.errors import FingerprintMismatchError, HeadError, LatentError
from xlsdk.latent.core import CORE_MANIFEST, CoreLatent
from xlsdk.latent.head import LatentHead
from xlsdk.latent.head_file import read_head

if TYPE_CHECKING:
    from xlsdk.hand import Hand

HeadState = Literal["fitted", "none", "fingerprint mismatch", "stale", "corrupt", "no core latent"]


class HeadStatus(BaseModel):
    """A hand's head, as ``xlsdk hands`` reports it."""

    model_config = ConfigDict(frozen=True)
    state: HeadState
    detail: str = ""


def core_latent_dir() -> Path:
    override = os.environ.get("XLSDK_CORE_LATENT")
    if override:
        return Path(override)
    return Path(str(files("xlsdk.latent") / "data"))


@lru_cache(maxsize=4)
def _load_core(directory: str) -> CoreLatent:
    return CoreLatent.load(directory)


def installed_core_latent() -> CoreLatent:
    """The core latent in use (cached per directory)."""
    directory = core_latent_dir()
    if not (directory / CORE_MANIFEST).is_file():
        raise LatentError(f"no core latent in {directory}", hint="run `xlsdk latent train` to create one")
    return _load_core(str(directory.resolve()))


def clear_core_latent_cache() -> None:
    _load_core.cache_clear()


def load_head_for(hand: Hand) -> LatentHead:
    """The verified head of ``hand`` (the canonical head comes from the core latent itself)."""
    core = installed_core_latent()
    if hand.name == core.manifest.canonical and hand.plugin in (None, "xlsdk-core"):
        entry = core.manifest.hands[hand.name]
        if entry.hand_digest != hand.spec.digest:
            raise LatentError("the canonical hand's URDF/manifest changed since the core latent was trained",
                              hint="retrain with `xlsdk latent train`")
        return core.canonical
    head, _ = read_head(hand.head_path, hand.head_manifest_path, expected_hand=hand.name,
                        hand_digest=hand.spec.digest, fingerprint=core.fingerprint, dof=hand.dof)
    head.eval()
    for parameter in head.parameters():
        parameter.requires_grad_(False)
    return head


def head_status(hand: Hand) -> HeadStatus:
    """fitted / none / fingerprint mismatch / stale / corrupt, with the reason."""
    try:
        installed_core_latent()
    except LatentError as exc:
        return HeadStatus(state="no core latent", detail=str(exc))
    if hand.plugin not in (None, "xlsdk-core") and not hand.head_path.exists() and not hand.head_manifest_path.exists():
        return HeadStatus(state="none", detail=f"no {hand.head_path.name}; run `xlsdk fit {hand.name}`")
    try:
        load_head_for(hand)
    except FingerprintMismatchError as exc:
        return HeadStatus(state="fingerprint mismatch", detail=str(exc))
    except HeadError as exc:
        state: HeadState = "stale" if "different version" in exc.message else "corrupt"
        return HeadStatus(state=state, detail=str(exc))
    except LatentError as exc:
        return HeadStatus(state="stale", detail=str(exc))
    return HeadStatus(state="fitted")
