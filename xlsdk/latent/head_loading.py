"""Loading and verifying heads: the installed core latent and each hand's head file, always cross-checked.

* The core latent ships inside xlsdk (``xlsdk/latent/data``); ``XLSDK_CORE_LATENT=DIR`` points at
  another one (a retrained latent, tests).
* The canonical hand's head is part of the core latent.
* Every other hand's head is ``head.safetensors`` + ``head.json`` next to its ``hand.toml``; it must
  carry the installed core latent's fingerprint and match the hand (:func:`~xlsdk.latent.head_file.read_head`).
* A plugin may carry heads for other core latents beside it, one folder per fingerprint:
  ``heads/<fingerprint>/head.safetensors`` + ``head.json``. Why: the day a new core latent ships, a
  plugin that carries heads for the old and the new one works for users of either, so vendors and
  researchers upgrade on their own schedule instead of all at once. :func:`head_files` picks the head
  of the installed core latent (its folder first, then the top-level pair); :func:`carried_fingerprints`
  says which core latents a hand carries heads for (``xlsdk hands`` shows them).

A :class:`~xlsdk.hand.Hand` knows nothing of heads: :func:`load_head` finds and verifies a hand's head
and caches it under what was verified (core fingerprint, hand digest, the sha256 of both head files),
so an edited or refitted file is never served from the cache. :func:`encode` / :func:`decode` are the
numpy-or-torch front door (``xlsdk.encode(hand, q)``).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from xlsdk.errors import DataFormatError, FingerprintMismatchError, HeadError, LatentError
from xlsdk.hand import HEAD_FILENAME, HEAD_MANIFEST_FILENAME, HEADS_DIRNAME
from xlsdk.latent.core import read_core_manifest
from xlsdk.latent.head_file import read_head, verify_head_files
from xlsdk.latent.manifests import CORE_MANIFEST, CoreLatentManifest

if TYPE_CHECKING:  # torch loads with the first head; head_status (xlsdk hands) never needs it
    import numpy as np
    import torch

    from xlsdk.hand import Hand
    from xlsdk.latent.core import CoreLatent
    from xlsdk.latent.head_network import LatentHead

HeadState = Literal["fitted", "none", "fingerprint mismatch", "stale", "corrupt", "no core latent"]

#: what ``HeadError.reason`` becomes in a :class:`HeadStatus`
_STATE_OF_REASON: dict[str, HeadState] = {
    "missing": "corrupt", "corrupt": "corrupt", "mismatch": "corrupt", "stale": "stale",
    "fingerprint": "fingerprint mismatch",
}


class HeadStatus(BaseModel):
    """A hand's head, as ``xlsdk hands`` reports it: the state of the head for the installed core latent,
    and every core-latent fingerprint the hand carries a head for (full hex, sorted)."""

    model_config = ConfigDict(frozen=True)
    state: HeadState
    detail: str = ""
    fingerprints: tuple[str, ...] = ()


def _recorded_fingerprint(manifest_path: Path) -> str | None:
    """The fingerprint a ``head.json`` records, or None when it is missing or unreadable (no other check)."""
    try:
        return str(json.loads(manifest_path.read_text(encoding="utf-8"))["latent_fingerprint"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _versioned_dir(hand: Hand, fingerprint: str) -> Path:
    return hand.head_dir / HEADS_DIRNAME / fingerprint


def carried_fingerprints(hand: Hand) -> tuple[str, ...]:
    """Core-latent fingerprints ``hand`` carries a head for: the top-level ``head.json``'s and each
    ``heads/<fingerprint>/`` folder holding a ``head.json`` (read, not verified: :func:`head_status` verifies
    the one in use). Sorted; the canonical hand's is its core latent's."""
    found: set[str] = set()
    top = _recorded_fingerprint(hand.head_manifest_path)
    if top is not None:
        found.add(top)
    versions = hand.head_dir / HEADS_DIRNAME
    if versions.is_dir():
        for child in versions.iterdir():
            recorded = _recorded_fingerprint(child / HEAD_MANIFEST_FILENAME)
            if recorded is not None:
                found.add(recorded)  # what the head says it is; a misplaced one is refused when used
    return tuple(sorted(found))


def head_files(hand: Hand, fingerprint: str) -> tuple[Path, Path]:
    """Where ``hand``'s head for core latent ``fingerprint`` is read from: ``heads/<fingerprint>/`` when the
    plugin carries that folder, the top-level ``head.safetensors``/``head.json`` otherwise (which
    :func:`~xlsdk.latent.head_file.read_head` then checks to carry ``fingerprint``)."""
    folder = _versioned_dir(hand, fingerprint)
    if (folder / HEAD_MANIFEST_FILENAME).is_file() or (folder / HEAD_FILENAME).is_file():
        _refuse_outside(hand, folder)
        return folder / HEAD_FILENAME, folder / HEAD_MANIFEST_FILENAME
    return hand.head_path, hand.head_manifest_path


def _refuse_outside(hand: Hand, folder: Path) -> None:
    """A plugin's heads are its own files: a ``heads/`` entry that resolves (through a link) outside the
    plugin's folder is refused, so a plugin never loads weights from elsewhere on the machine."""
    inside = hand.head_dir.resolve()
    for path in (folder / HEAD_FILENAME, folder / HEAD_MANIFEST_FILENAME):
        if path.exists() and not path.resolve().is_relative_to(inside):
            raise HeadError(f"{path}: resolves to {path.resolve()}, outside the plugin's folder {inside}",
                            reason="corrupt", hint="put the head files themselves into the plugin, not a link")


def head_target(hand: Hand, fingerprint: str) -> tuple[Path, Path]:
    """Where a head fitted for core latent ``fingerprint`` is written.

    Its folder when the plugin already carries one; else the top-level pair when it is free or holds a head
    for the same core latent (the single-head layout every plugin starts with); else a new
    ``heads/<fingerprint>/`` folder, so a fit for one core latent never overwrites the head of another.
    """
    folder = _versioned_dir(hand, fingerprint)
    if (folder / HEAD_MANIFEST_FILENAME).is_file():
        return folder / HEAD_FILENAME, folder / HEAD_MANIFEST_FILENAME
    top = _recorded_fingerprint(hand.head_manifest_path)
    if top is None or top == fingerprint:
        return hand.head_path, hand.head_manifest_path
    return folder / HEAD_FILENAME, folder / HEAD_MANIFEST_FILENAME


def missing_head_message(hand: Hand, fingerprint: str, carried: tuple[str, ...]) -> tuple[str, str]:
    """What to say (message, fix) when ``hand`` carries heads, none of them for core latent ``fingerprint``."""
    others = ", ".join(f[:12] for f in carried if f != fingerprint) or "another core latent"
    message = (f"{hand.head_dir}: {hand.name} carries heads fitted against core latent {others}, none for the "
               f"installed core latent {fingerprint[:12]}")
    fix = (f"fit one for this core with `xlsdk fit {hand.name}` (every such hand: `xlsdk fit --all-stale`), or "
           f"install a release of {hand.plugin or 'its plugin'} that carries a head for core latent {fingerprint[:12]}")
    return message, fix


def core_latent_dir() -> Path:
    override = os.environ.get("XLSDK_CORE_LATENT")
    if override:
        return Path(override)
    return _packaged_core_latent_dir()


@lru_cache(maxsize=1)
def _packaged_core_latent_dir() -> Path:
    """The core latent the package ships (looked up once: every encode and decode asks where the core is)."""
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


def known_core_latent_dirs() -> list[Path]:
    """Directories holding a core latent this process knows of: the installed one first, then each entry of
    ``XLSDK_CORE_LATENT_PATH`` (``os.pathsep``-separated; e.g. the old core latent kept after an upgrade)."""
    extra = [Path(part) for part in os.environ.get("XLSDK_CORE_LATENT_PATH", "").split(os.pathsep) if part]
    return [core_latent_dir(), *extra]


def find_core_latent(wanted: str) -> CoreLatent:
    """The core latent ``wanted`` names: a directory holding one, or a fingerprint (its first 8+ hex
    characters are enough) of the installed core latent or of one on ``XLSDK_CORE_LATENT_PATH``."""
    candidate = Path(wanted)
    if (candidate / CORE_MANIFEST).is_file():
        return _load_core(str(candidate.resolve()))
    prefix = wanted.strip().lower()
    if len(prefix) < 8 or any(c not in "0123456789abcdef" for c in prefix):
        raise LatentError(f"--for {wanted!r}: neither a directory holding {CORE_MANIFEST} nor a core-latent "
                          "fingerprint (8 or more hex characters)", hint="see `xlsdk latent info` for fingerprints")
    seen: list[str] = []
    for directory in known_core_latent_dirs():
        if not (directory / CORE_MANIFEST).is_file():
            continue
        manifest = read_core_manifest(directory)
        if manifest.fingerprint.startswith(prefix):
            return _load_core(str(directory.resolve()))
        seen.append(f"{manifest.fingerprint[:12]} ({directory})")
    raise LatentError(f"no known core latent has fingerprint {prefix[:12]}; known: {', '.join(seen) or 'none'}",
                      hint="pass the core latent's directory to --for, or add it to XLSDK_CORE_LATENT_PATH")


def clear_core_latent_cache() -> None:
    """Forget the loaded core latents (and so every head verified against them)."""
    _load_core.cache_clear()
    invalidate_heads()


# (core fingerprint, hand digest, sha256 of head.safetensors, sha256 of head.json) -> verified head
_HEADS: dict[tuple[str, str, str, str], LatentHead] = {}


#: (path, device, inode, size, mtime ns, ctime ns) -> the file's sha256, so a head used every control step is
#: hashed once, not twice a step (reading and hashing both head files on every encode and decode was a sixth of
#: a latent policy's episode in the physics benchmark). Any rewrite, in place or by rename, changes the stat.
_SHAS: dict[tuple[str, int, int, int, int, int], str] = {}


def _file_sha(path: Path) -> str:
    try:
        stat = path.stat()
        key = (str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        if key not in _SHAS:
            if len(_SHAS) > 4096:
                _SHAS.clear()
            _SHAS[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        return _SHAS[key]
    except OSError:
        return ""  # a missing file: read_head names it


#: (core latent directory as configured, hand digest, hand folder) -> (the stats of every file the answer was
#: read from, the answer): what lets :func:`load_head` answer a hand it verified before from a handful of
#: ``os.stat`` calls, about 5 us, instead of resolving the core's folder, looking for each hand's versioned heads
#: and stat-ing both head files through ``pathlib`` (80 us, which every encode and decode paid: about 2 % of a
#: latent policy's episode in the physics benchmark, and 40 % of ``xlsdk.encode`` of one vector in a driver loop)
_ANSWERS: dict[tuple[str, str, str], tuple[tuple[tuple[int, ...] | None, ...], tuple[str, ...], LatentHead]] = {}


def _stats(paths: tuple[str, ...]) -> tuple[tuple[int, ...] | None, ...]:
    """Each file's (device, inode, size, mtime ns, ctime ns), None where it is missing: any rewrite, in place or
    by rename, a link re-pointed or a file appearing or vanishing changes it."""
    out: list[tuple[int, ...] | None] = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            out.append(None)
            continue
        out.append((stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
    return tuple(out)


def load_head(hand: Hand) -> LatentHead:
    """The verified, frozen head of ``hand`` (the canonical head comes from the core latent itself).

    Raises :class:`~xlsdk.errors.HeadError` (with a ``reason``) when the head is missing, corrupt,
    stale, fitted against another core latent or does not match the hand. A hand verified before is answered
    again while none of the files the answer came from changed (:data:`_ANSWERS`), so it is cheap enough to call
    at every control step.
    """
    key = (os.environ.get("XLSDK_CORE_LATENT") or "", hand.spec.digest, str(hand.head_dir))
    known = _ANSWERS.get(key)
    if known is not None and _stats(known[1]) == known[0]:
        return known[2]
    core = installed_core_latent()
    versioned = _versioned_dir(hand, core.fingerprint)
    paths = tuple(str(path) for path in (
        core_latent_dir() / CORE_MANIFEST, hand.head_path, hand.head_manifest_path,
        versioned / HEAD_FILENAME, versioned / HEAD_MANIFEST_FILENAME))
    before = _stats(paths)
    head = _verified_head(hand, core)
    if len(_ANSWERS) > 1024:
        _ANSWERS.clear()
    _ANSWERS[key] = (before, paths, head)
    return head


def _verified_head(hand: Hand, core: CoreLatent) -> LatentHead:
    """:func:`load_head` the long way: find the head's files, verify them (cached under their sha256)."""
    if _is_canonical(hand, core.manifest):
        _check_canonical(hand, core.manifest)
        return core.canonical
    weights_path, manifest_path = head_files(hand, core.fingerprint)
    key = (core.fingerprint, hand.spec.digest, _file_sha(weights_path), _file_sha(manifest_path))
    head = _HEADS.get(key)
    if head is None:
        from xlsdk.latent.head_network import freeze

        _refuse_other_cores(hand, core.fingerprint, manifest_path)
        head, _ = read_head(weights_path, manifest_path, hand=hand, fingerprint=core.fingerprint)
        _HEADS[key] = freeze(head)
    return head


def _refuse_other_cores(hand: Hand, fingerprint: str, manifest_path: Path) -> None:
    """A hand whose heads are all for other core latents: say which it carries and what to do."""
    recorded = _recorded_fingerprint(manifest_path)
    if recorded is None or recorded == fingerprint:
        return  # missing or unreadable: read_head names the file; same core: read_head checks the rest
    if manifest_path != hand.head_manifest_path:
        raise FingerprintMismatchError(
            f"{manifest_path}: head was fitted against core latent {recorded[:12]} but sits in the folder of core "
            f"latent {fingerprint[:12]}", hint=f"move it to {HEADS_DIRNAME}/{recorded}/ or refit with `xlsdk fit {hand.name}`")
    message, fix = missing_head_message(hand, fingerprint, carried_fingerprints(hand))
    raise FingerprintMismatchError(message, hint=fix)


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
        _ANSWERS.clear()
        return
    for key in [key for key in _HEADS if key[1] == hand.spec.digest]:
        del _HEADS[key]
    for key in [key for key in _ANSWERS if key[1] == hand.spec.digest]:
        del _ANSWERS[key]


def head_status(hand: Hand, core: CoreLatentManifest | None = None) -> HeadStatus:
    """fitted / none / fingerprint mismatch / stale / corrupt, with the reason; never raises for a bad head.

    Decided without torch (what ``xlsdk hands`` needs to answer at once): the core latent's manifest and
    weights checksum, and :func:`~xlsdk.latent.head_file.verify_head_files` (manifest, hand, limits,
    checksum, tensor shapes and magnitudes). :func:`load_head` adds the finite forward pass. ``core``: the
    core latent to judge against (default: the installed one; ``xlsdk fit --all-stale --for`` passes another).
    """
    if core is None:
        try:
            core = installed_core_manifest()
        except LatentError as exc:
            return HeadStatus(state="no core latent", detail=str(exc))
    canonical = _is_canonical(hand, core)
    carried = (core.fingerprint,) if canonical else carried_fingerprints(hand)
    try:
        weights_path, manifest_path = head_files(hand, core.fingerprint)
    except HeadError as exc:
        return HeadStatus(state=_STATE_OF_REASON[exc.reason], detail=str(exc), fingerprints=carried)
    if not canonical and not weights_path.exists() and not manifest_path.exists():
        return HeadStatus(state="none", detail=f"no {hand.head_path.name}; fit one with `xlsdk fit {hand.name}`")
    try:
        if canonical:
            _check_canonical(hand, core)
        else:
            _refuse_other_cores(hand, core.fingerprint, manifest_path)
            verify_head_files(weights_path, manifest_path, hand=hand, fingerprint=core.fingerprint)
    except HeadError as exc:
        return HeadStatus(state=_STATE_OF_REASON[exc.reason], detail=str(exc), fingerprints=carried)
    return HeadStatus(state="fitted", fingerprints=carried)


#: head states a refit repairs (``xlsdk fit --all-stale``): a head for another core latent, or for an older URDF
STALE_STATES: tuple[HeadState, ...] = ("fingerprint mismatch", "stale")


def stale_hands(hands: list[Hand], core: CoreLatentManifest) -> list[Hand]:
    """The hands among ``hands`` whose head does not match ``core`` (fitted for another core latent or an
    older version of the hand); hands with no head at all are not stale, they were never fitted."""
    return [hand for hand in hands if not _is_canonical(hand, core) and head_status(hand, core).state in STALE_STATES]


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
