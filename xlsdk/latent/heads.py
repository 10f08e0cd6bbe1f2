"""Loading and verifying heads: the installed core latent and each hand's head file, always cross-checked.

* The core latent ships inside xlsdk (``xlsdk/latent/data``); ``XLSDK_CORE_LATENT=DIR`` points at
  another one (a retrained latent, tests).
* The canonical hand's head is part of the core latent.
* Every other hand's head is ``head.safetensors`` + ``head.json`` next to its ``hand.toml``; it must
  carry the installed core latent's fingerprint and match the hand (:func:`~xlsdk.latent.head_file.read_head`).

A :class:`~xlsdk.hand.Hand` knows nothing of heads: :func:`load_head` finds and verifies a hand's head
and caches it under what was verified (core fingerprint, hand digest, the sha256 of both head files),
so an edited or refitted file is never served from the cache. :func:`encode` / :func:`decode` are the
numpy-or-torch front door (``xlsdk.encode(hand, q)``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from xlsdk.errors import DataFormatError, HeadError, LatentError
from xlsdk.latent.core import read_core_manifest
from xlsdk.latent.head_file import read_head, verify_head_files
from xlsdk.latent.manifests import CORE_MANIFEST, CoreLatentManifest

if TYPE_CHECKING:  # torch loads with the first head; head_status (xlsdk hands) never needs it
    import numpy as np
    import torch

    from xlsdk.hand import Hand
    from xlsdk.latent.core import CoreLatent
    from xlsdk.latent.head import LatentHead

HeadState = Literal["fitted", "none", "fingerprint mismatch", "stale", "corrupt", "no core latent"]

#: what ``HeadError.reason`` becomes in a :class:`HeadStatus`
_STATE_OF_REASON: dict[str, HeadState] = {
    "missing": "corrupt", "corrupt": "corrupt", "mismatch": "corrupt", "stale": "stale",
    "fingerprint": "fingerprint mismatch",
}


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
    from xlsdk.latent.core import CoreLatent

    return CoreLatent.load(directory)


def installed_core_manifest() -> CoreLatentManifest:
    """The installed core latent's manifest, checked without torch (files, schema, weights sha256, geometry)."""
    directory = core_latent_dir()
    if not (directory / CORE_MANIFEST).is_file():
        raise LatentError(f"no core latent in {directory}", hint="train one with `xlsdk latent train`")
    return read_core_manifest(directory)


def installed_core_latent() -> CoreLatent:
    """The core latent in use (cached per directory)."""
    directory = core_latent_dir()
    if not (directory / CORE_MANIFEST).is_file():
        raise LatentError(f"no core latent in {directory}", hint="train one with `xlsdk latent train`")
    return _load_core(str(directory.resolve()))


def clear_core_latent_cache() -> None:
    """Forget the loaded core latents (and so every head verified against them)."""
    _load_core.cache_clear()
    invalidate_heads()


# (core fingerprint, hand digest, sha256 of head.safetensors, sha256 of head.json) -> verified head
_HEADS: dict[tuple[str, str, str, str], LatentHead] = {}


def _file_sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""  # a missing file: read_head names it


def load_head(hand: Hand) -> LatentHead:
    """The verified, frozen head of ``hand`` (the canonical head comes from the core latent itself).

    Raises :class:`~xlsdk.errors.HeadError` (with a ``reason``) when the head is missing, corrupt,
    stale, fitted against another core latent or does not match the hand.
    """
    core = installed_core_latent()
    if _is_canonical(hand, core.manifest):
        _check_canonical(hand, core.manifest)
        return core.canonical
    key = (core.fingerprint, hand.spec.digest, _file_sha(hand.head_path), _file_sha(hand.head_manifest_path))
    head = _HEADS.get(key)
    if head is None:
        from xlsdk.latent.head import freeze

        head, _ = read_head(hand.head_path, hand.head_manifest_path, hand=hand, fingerprint=core.fingerprint)
        _HEADS[key] = freeze(head)
    return head


def _is_canonical(hand: Hand, core: CoreLatentManifest) -> bool:
    return hand.name == core.canonical and hand.plugin in (None, "xlsdk-core")


def _check_canonical(hand: Hand, core: CoreLatentManifest) -> None:
    if core.hands[hand.name].hand_digest != hand.spec.digest:
        raise HeadError("the canonical hand's URDF/manifest changed since the core latent was trained",
                        reason="stale", hint="retrain the core latent with `xlsdk latent train`")


def invalidate_heads(hand: Hand | None = None) -> None:
    """Drop cached heads: every one, or those of ``hand`` (after writing its head files)."""
    if hand is None:
        _HEADS.clear()
        return
    for key in [key for key in _HEADS if key[1] == hand.spec.digest]:
        del _HEADS[key]


def head_status(hand: Hand) -> HeadStatus:
    """fitted / none / fingerprint mismatch / stale / corrupt, with the reason; never raises for a bad head.

    Decided without torch (what ``xlsdk hands`` needs to answer at once): the core latent's manifest and
    weights checksum, and :func:`~xlsdk.latent.head_file.verify_head_files` (manifest, hand, limits,
    checksum, tensor shapes and magnitudes). :func:`load_head` adds the finite forward pass.
    """
    try:
        core = installed_core_manifest()
    except LatentError as exc:
        return HeadStatus(state="no core latent", detail=str(exc))
    canonical = _is_canonical(hand, core)
    if not canonical and not hand.head_path.exists() and not hand.head_manifest_path.exists():
        return HeadStatus(state="none", detail=f"no {hand.head_path.name}; fit one with `xlsdk fit {hand.name}`")
    try:
        if canonical:
            _check_canonical(hand, core)
        else:
            verify_head_files(hand.head_path, hand.head_manifest_path, hand=hand, fingerprint=core.fingerprint)
    except HeadError as exc:
        return HeadStatus(state=_STATE_OF_REASON[exc.reason], detail=str(exc))
    return HeadStatus(state="fitted")


def apply_over_last_dim(fn: Callable[[torch.Tensor], torch.Tensor], x: Any, *, width: int, what: str,
                        device: torch.device | str = "cpu") -> Any:
    """``fn`` on the last dimension of ``x`` (``(..., width)``), any leading shape, numpy or torch.

    ``fn`` runs in float32 on ``device`` without gradients; the answer has ``x``'s leading shape, its
    kind (numpy stays numpy), its floating dtype and its device. A wrong width raises
    :class:`~xlsdk.errors.DataFormatError` naming ``what``.
    """
    import numpy as np
    import torch

    is_numpy = not isinstance(x, torch.Tensor)
    tensor = torch.as_tensor(np.asarray(x)) if is_numpy else x
    if tensor.ndim == 0 or tensor.shape[-1] != width:
        raise DataFormatError(f"{what}: expected shape (..., {width}), got {tuple(tensor.shape)}")
    dtype = tensor.dtype if torch.is_floating_point(tensor) else torch.float32
    with torch.no_grad():
        out = fn(tensor.reshape(-1, width).to(device=device, dtype=torch.float32))
    out = out.reshape(*tensor.shape[:-1], out.shape[-1]).to(device=tensor.device, dtype=dtype)
    return out.numpy() if is_numpy else out


def encode(hand: Hand, q: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Joint vectors ``(..., dof)`` of ``hand`` to latents ``(..., k)`` (the posterior mean)."""
    head = load_head(hand)
    return apply_over_last_dim(head.encode, q, width=hand.dof, what=f"encode({hand.name}, q)",
                               device=head.lower.device)


def decode(hand: Hand, z: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Latents ``(..., k)`` to joint vectors ``(..., dof)`` of ``hand``, always inside its limits."""
    head = load_head(hand)
    return apply_over_last_dim(head.decode, z, width=head.config.latent_dim, what=f"decode({hand.name}, z)",
                               device=head.lower.device)


def latent_dim() -> int:
    """k, the size of the installed core latent (what a latent policy's actions and state are)."""
    return installed_core_latent().latent_dim
