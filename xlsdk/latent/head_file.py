"""A plugin's head on disk: ``head.safetensors`` + ``head.json``.

``head.json`` (:class:`HeadManifest`) records which hand description the head was fitted for (the
hand's kinematic digest), the core-latent fingerprint it was fitted against, the architecture, the
sha256 of the weights file and the fit's final metrics. :func:`read_head` refuses, with a message that
names the file and field: a missing file, a truncated or edited one (checksum), impossible config values,
bad tensor shapes, NaN/inf weights or outputs, a head fitted against another core latent, one fitted for
another version of the hand's URDF/manifest, and limits that are not the hand's (the sha256 covers the
weights only, so ``config.lower/upper`` are checked against the hand itself). Each refusal is a
:class:`~xlsdk.errors.HeadError` whose ``reason`` says which kind it is.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from xlsdk.errors import FingerprintMismatchError, HeadError, validation_problems
from xlsdk.files import write_json_atomic, write_with_atomic
from xlsdk.latent.manifests import HEAD_FORMAT, HeadManifest, parameter_shapes

if TYPE_CHECKING:  # torch loads with the weights: verify_head_files (what ``xlsdk hands`` runs) needs none
    from xlsdk.hand import Hand
    from xlsdk.latent.head_network import LatentHead

__all__ = ["HEAD_FORMAT", "HeadManifest", "read_head", "read_head_manifest", "verify_head_files", "write_head"]

# head.json stores the limits as JSON floats: equal to the TOML's up to printing
_LIMIT_TOLERANCE = 1e-9
# a trained head's weights are O(1); far beyond this is an edited file (and overflows the forward pass)
_MAX_WEIGHT = 1e4


def write_head(head: LatentHead, weights_path: Path, manifest_path: Path, *, hand_digest: str, fingerprint: str,
               geometry_version: int, origin: Literal["core", "fit"], metrics: dict[str, Any] | None = None) -> HeadManifest:
    """Write the weights, then the manifest that checksums them; each atomically (temp file + rename)."""
    from safetensors.torch import save_file

    from xlsdk.version import __version__
    from xlsdk.latent.head_network import weight_tensors

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
            raise HeadError(f"{path}: missing", reason="missing", hint="fit the head with `xlsdk fit HAND`")
    try:
        text = manifest_path.read_text(encoding="utf-8")
    except OSError as exc:  # permissions, a broken disk: this hand's head is unusable, the others are not
        raise HeadError(f"{manifest_path}: cannot be read ({exc.strerror or exc})",
                        hint="check the file's permissions, or refit with `xlsdk fit HAND`") from None
    try:
        return HeadManifest.model_validate_json(text)
    except (ValidationError, ValueError) as exc:
        raise HeadError(f"{manifest_path}: not a valid head manifest ({validation_problems(exc, limit=1)[0]})",
                        hint="refit with `xlsdk fit HAND`") from None


def read_head(weights_path: Path, manifest_path: Path, *, hand: Hand | None = None, expected_hand: str | None = None,
              hand_digest: str | None = None, fingerprint: str, dof: int | None = None) -> tuple[LatentHead, HeadManifest]:
    """Load and verify a head file pair; see the module docstring for what is refused.

    Pass ``hand`` to check the head against it (name, digest, joint count and the exact joint limits
    the decoder squashes into); ``expected_hand``/``hand_digest``/``dof`` override or replace it.
    Everything :func:`verify_head_files` checks, then the weights in torch and a finite forward pass.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from xlsdk.latent.core import _load_state
    from xlsdk.latent.head_network import LatentHead
    from xlsdk.training import global_rng_untouched

    manifest = verify_head_files(weights_path, manifest_path, hand=hand, expected_hand=expected_hand,
                                 hand_digest=hand_digest, fingerprint=fingerprint, dof=dof)
    fit_hint = f"fit it again with `xlsdk fit {manifest.hand}`"
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError) as exc:
        raise HeadError(f"{weights_path}: unreadable safetensors file ({exc})", hint=fit_hint) from None
    with global_rng_untouched():  # the weights come from the file: leave the caller's random stream alone
        head = LatentHead(manifest.config)
    _load_state(head, tensors, str(weights_path))
    _check_finite(head, weights_path, fit_hint)
    return head, manifest


def verify_head_files(weights_path: Path, manifest_path: Path, *, hand: Hand | None = None,
                      expected_hand: str | None = None, hand_digest: str | None = None, fingerprint: str,
                      dof: int | None = None) -> HeadManifest:
    """Every check that needs no torch: the manifest, its match with the hand and the core latent, the
    weights' checksum, and each tensor's name, shape and magnitude (read with numpy)."""
    expected_hand = expected_hand or (hand.name if hand is not None else None)
    hand_digest = hand_digest or (hand.spec.digest if hand is not None else None)
    dof = dof if dof is not None else (hand.dof if hand is not None else None)
    if expected_hand is None or hand_digest is None or dof is None:
        raise TypeError("read_head needs a hand, or expected_hand, hand_digest and dof")
    manifest = read_head_manifest(manifest_path, weights_path)
    fit_hint = f"fit it again with `xlsdk fit {expected_hand}`"
    if manifest.hand != expected_hand:
        raise HeadError(f"{manifest_path}: field `hand`: head is for hand {manifest.hand!r}, not {expected_hand!r}",
                        reason="mismatch", hint=fit_hint)
    if manifest.latent_fingerprint != fingerprint:
        raise FingerprintMismatchError(
            f"{manifest_path}: head was fitted against core latent {manifest.latent_fingerprint[:12]}, the installed "
            f"core latent is {fingerprint[:12]}", hint=fit_hint)
    if manifest.hand_digest != hand_digest:
        raise HeadError(f"{manifest_path}: head was fitted for a different version of {expected_hand}'s URDF or "
                        "manifest (joints, limits, fingers or palm changed)", reason="stale", hint=fit_hint)
    if manifest.config.dof != dof:
        raise HeadError(f"{manifest_path}: field `config.dof`: head has {manifest.config.dof} joints, the hand has {dof}",
                        reason="mismatch", hint=fit_hint)
    if hand is not None:
        _check_limits(manifest, manifest_path, hand, fit_hint)
    try:
        raw = weights_path.read_bytes()
    except OSError as exc:
        raise HeadError(f"{weights_path}: cannot be read ({exc.strerror or exc})",
                        hint=f"check the file's permissions, or {fit_hint}") from None
    if hashlib.sha256(raw).hexdigest() != manifest.sha256:
        raise HeadError(f"{weights_path}: checksum mismatch with {manifest_path.name} (file truncated or modified)",
                        hint=fit_hint)
    _check_tensors(raw, manifest, weights_path, fit_hint)
    return manifest


def _check_tensors(raw: bytes, manifest: HeadManifest, weights_path: Path, fit_hint: str) -> None:
    """The tensors the config calls for, with their shapes, finite and of a trained head's magnitude."""
    import numpy as np
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        tensors = load(raw)
    except (SafetensorError, ValueError) as exc:
        raise HeadError(f"{weights_path}: unreadable safetensors file ({exc})", hint=fit_hint) from None
    expected = parameter_shapes(manifest.config)
    missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in expected if k in tensors and tuple(tensors[k].shape) != expected[k])
    if missing or extra or wrong:
        parts = [f"missing tensors {missing}"] * bool(missing) + [f"unexpected tensors {extra}"] * bool(extra)
        if wrong:
            parts.append("bad shapes " + ", ".join(f"{k} {tuple(tensors[k].shape)} != {expected[k]}" for k in wrong))
        raise HeadError(f"{weights_path}: " + "; ".join(parts), hint=fit_hint)
    for name in sorted(tensors):
        values = tensors[name].astype(np.float64)
        if not np.isfinite(values).all():
            raise HeadError(f"{weights_path}: tensor {name!r} holds NaN or infinite values", hint=fit_hint)
        largest = float(np.abs(values).max(initial=0.0))
        if largest > _MAX_WEIGHT:
            raise HeadError(f"{weights_path}: tensor {name!r} holds values up to {largest:.3g}; a trained head's "
                            f"weights stay far below {_MAX_WEIGHT:g}", hint=fit_hint)


def _check_limits(manifest: HeadManifest, manifest_path: Path, hand: Hand, fit_hint: str) -> None:
    """The decoder squashes into ``config.lower/upper``: they must be the hand's limits, joint by joint."""
    for field, own in (("lower", hand.spec.lower), ("upper", hand.spec.upper)):
        recorded = getattr(manifest.config, field)
        for joint, mine, theirs in zip(hand.joint_names, own, recorded, strict=True):
            if abs(mine - theirs) > _LIMIT_TOLERANCE:
                raise HeadError(f"{manifest_path}: field `config.{field}`: joint {joint!r} is {theirs}, the hand's "
                                f"limit is {mine}", reason="mismatch", hint=fit_hint)


def _check_finite(head: LatentHead, weights_path: Path, fit_hint: str) -> None:
    """A finite encode, decode and round trip on a few poses and latents (what finite weights still cannot promise)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        u = torch.rand(8, head.config.dof, generator=generator)
        q = head.lower + (head.upper - head.lower) * u
        z = torch.randn(8, head.config.latent_dim, generator=generator)
        outputs = {"encode": head.encode_distribution(q)[0], "decode": head.decode_normalized(z),
                   "round trip": head(q)}
    for what, value in outputs.items():
        if not torch.isfinite(value).all():
            raise HeadError(f"{weights_path}: the head's {what} gives NaN or infinite values on sample inputs",
                            hint=fit_hint)
