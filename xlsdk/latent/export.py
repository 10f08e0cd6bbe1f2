"""Writing the reference heads of a freshly trained core latent into their plugins."""

from __future__ import annotations

from pathlib import Path

from xlsdk.hand import Hand
from xlsdk.latent.core import CoreLatent
from xlsdk.latent.head_file import write_head
from xlsdk.latent.head_loading import head_target, invalidate_heads


def export_reference_heads(core: CoreLatent, hands: dict[str, Hand]) -> list[Path]:
    """Write ``head.safetensors``/``head.json`` (origin "core") next to each non-canonical hand's manifest
    (in ``heads/<fingerprint>/`` when the top-level pair holds a head for another core latent)."""
    written: list[Path] = []
    for name, hand in hands.items():
        if name == core.manifest.canonical:
            continue
        metrics = {"recon_rad": float(core.manifest.metrics.get("recon_rad", {}).get(name, float("nan")))}
        weights_path, manifest_path = head_target(hand, core.fingerprint)
        write_head(core.heads[name], weights_path, manifest_path, hand_digest=hand.spec.digest,
                   fingerprint=core.fingerprint, geometry_version=core.manifest.geometry_version, origin="core",
                   metrics=metrics)
        invalidate_heads(hand)
        written.append(weights_path)
    return written
