"""A plugin's head on disk: ``head.safetensors`` + ``head.json``.

``head.json`` (:class:`HeadManifest`) records which hand description the head was fitted for (the
hand's kinematic digest), the core-latent fingerprint it was fitted against, the architecture, the
sha256 of the weights file and the fit's final metrics. :func:`read_head` refuses, with a message that
names the file: a missing file, a truncated or edited one (checksum), bad tensor shapes, a head fitted
against another core latent, and a head fitted for another version of the hand's URDF/manifest.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from xlsdk.errors import FingerprintMismatchError, HeadError
from xlsdk.files import write_json_atomic, write_with_atomic
from xlsdk.latent.core import _load_state
from xlsdk.latent.head import HeadConfig, LatentHead, weight_tensors

HEAD_FORMAT = 1


class HeadManifest(BaseModel):
    """What ``head.json`` holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    format: int = HEAD_FORMAT
    hand: str
    hand_digest: str
    latent_fingerprint: str
    geometry_version: int
    config: HeadConfig
    sha256: str
    origin: Literal["core", "fit"]
    metrics: dict[str, Any] = {}
    created: str = ""
    xlsdk_version: str = ""


def write_head(head: LatentHead, weights_path: Path, manifest_path: Path, *, hand_digest: str, fingerprint: str,
               geometry_version: int, origin: Literal["core", "fit"], metrics: dict[str, Any] | None = None) -> HeadManifest:
    """Write the weights, then the manifest that checksums them; each atomically (temp file + rename)."""
    from xlsdk import __version__

    tensors = weight_tensors(head)
    write_with_atomic(weights_path, lambda tmp: save_file(tensors, str(tmp), metadata={"hand": head.config.hand,
                                                                                       "fingerprint": fingerprint}))
    manifest = HeadManifest(
        hand=head.config.hand, hand_digest=hand_digest, latent_fingerprint=fingerprint,
        geometry_version=geometry_version, config=head.config,
        sha256=hashlib.sha256(weights_path.read_bytes()).hexdigest(), origin=origin, metrics=metrics or {},
        created=datetime.now(UTC).isoformat(timespec="seconds"), xlsdk_version=__version__,
    )
    write_json_atomic(manifest_path, manifest.model_dump(mode="json"))
    return manifest


def read_head_manifest(manifest_path: Path, weights_path: Path) -> HeadManifest:
    """The head manifest, checked to exist and parse (no weights are read)."""
    for path in (weights_path, manifest_path):
        if not path.is_file():
            raise HeadError(f"{path}: missing", hint="fit the head with `xlsdk fit HAND`")
    try:
        return HeadManifest.model_validate_json(manifest_path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise HeadError(f"{manifest_path}: not a valid head manifest ({first})",
                        hint="refit with `xlsdk fit HAND`") from None


def read_head(weights_path: Path, manifest_path: Path, *, expected_hand: str, hand_digest: str,
              fingerprint: str, dof: int) -> tuple[LatentHead, HeadManifest]:
    """Load and verify a head file pair; see the module docstring for what is refused."""
    manifest = read_head_manifest(manifest_path, weights_path)
    fit_hint = f"run `xlsdk fit {expected_hand}`"
    if manifest.hand != expected_hand:
        raise HeadError(f"{manifest_path}: head is for hand {manifest.hand!r}, not {expected_hand!r}", hint=fit_hint)
    if manifest.latent_fingerprint != fingerprint:
        raise FingerprintMismatchError(
            f"{manifest_path}: head was fitted against core latent {manifest.latent_fingerprint[:12]}, the installed "
            f"core latent is {fingerprint[:12]}", hint=fit_hint)
    if manifest.hand_digest != hand_digest:
        raise HeadError(f"{manifest_path}: head was fitted for a different version of {expected_hand}'s URDF or "
                        "manifest (joints, limits, fingers or palm changed)", hint=fit_hint)
    if manifest.config.dof != dof:
        raise HeadError(f"{manifest_path}: head has {manifest.config.dof} joints, the hand has {dof}", hint=fit_hint)
    raw = weights_path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != manifest.sha256:
        raise HeadError(f"{weights_path}: checksum mismatch with {manifest_path.name} (file truncated or modified)",
                        hint=fit_hint)
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError) as exc:
        raise HeadError(f"{weights_path}: unreadable safetensors file ({exc})", hint=fit_hint) from None
    head = LatentHead(manifest.config)
    _load_state(head, tensors, str(weights_path))
    return head, manifest


def head_fingerprint_of(manifest_path: Path) -> str | None:
    """The fingerprint a head manifest records, or None if it cannot be read (for status listings)."""
    try:
        return HeadManifest.model_validate_json(manifest_path.read_text(encoding="utf-8")).latent_fingerprint
    except (OSError, ValidationError, ValueError):
        return None
