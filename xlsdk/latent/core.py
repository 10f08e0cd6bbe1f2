"""The frozen, versioned core latent: canonical head + reference heads, trained jointly, with a fingerprint.

On disk it is two files (shipped in ``xlsdk/latent/data/``):

* ``core_latent.safetensors``: every head's weights, keys ``"<hand>/<parameter>"``;
* ``core_latent.json``: a :class:`CoreLatentManifest` (k, geometry definition version, each head's
  architecture and hand digest, training config, metrics, the fingerprint and the weights' sha256).

The fingerprint is a hash of the frozen weights *and* the definitions they depend on (k, the geometry
version, every hand's kinematic digest and head shape). A head fitted against one fingerprint is
refused by a core latent with another, so nothing is ever silently decoded through the wrong latent.
Weights are read only through safetensors: no pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from xlsdk.errors import LatentError, validation_problems
from xlsdk.files import write_json_atomic, write_with_atomic
from xlsdk.geometry import GEOMETRY_VERSION
from xlsdk.latent.manifests import CORE_MANIFEST, CORE_WEIGHTS, FORMAT_VERSION, CoreHandEntry, CoreLatentManifest

if TYPE_CHECKING:  # torch loads with the weights, not with the manifest (``xlsdk hands`` reads only that)
    import torch

    from xlsdk.latent.head_network import LatentHead

__all__ = ["CORE_MANIFEST", "CORE_WEIGHTS", "FORMAT_VERSION", "CoreHandEntry", "CoreLatent", "CoreLatentManifest",
           "latent_fingerprint", "read_core_manifest"]


def read_core_manifest(directory: Path | str) -> CoreLatentManifest:
    """``core_latent.json`` of ``directory``, checked without torch: both files exist, the manifest parses,
    the weights file matches its sha256, the geometry version is this xlsdk's."""
    directory = Path(directory)
    manifest_path, weights_path = directory / CORE_MANIFEST, directory / CORE_WEIGHTS
    for path in (manifest_path, weights_path):
        if not path.is_file():
            raise LatentError(f"{path}: missing", hint="reinstall xlsdk or train one with `xlsdk latent train`")
    try:
        manifest = CoreLatentManifest.model_validate_json(manifest_path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        problem = validation_problems(exc, limit=1)[0]  # the field and what is wrong with it, one line
        raise LatentError(f"{manifest_path}: not a valid core-latent manifest ({problem})") from None
    if hashlib.sha256(weights_path.read_bytes()).hexdigest() != manifest.weights_sha256:
        raise LatentError(f"{weights_path}: checksum mismatch with {manifest_path.name} (file changed or truncated)",
                          hint="reinstall xlsdk or retrain with `xlsdk latent train`")
    if manifest.geometry_version != GEOMETRY_VERSION:
        raise LatentError(
            f"{manifest_path}: trained for geometry version {manifest.geometry_version}, this xlsdk computes "
            f"version {GEOMETRY_VERSION}", hint="retrain with `xlsdk latent train`")
    return manifest


def latent_fingerprint(latent_dim: int, geometry_version: int, entries: dict[str, CoreHandEntry],
                       weights: dict[str, torch.Tensor]) -> str:
    """sha256 over the definitions and the weights (key order independent)."""
    import torch

    digest = hashlib.sha256()
    definition = {
        "latent_dim": latent_dim,
        "geometry_version": geometry_version,
        "hands": {name: entries[name].model_dump(mode="json") for name in sorted(entries)},
    }
    digest.update(json.dumps(definition, sort_keys=True).encode())
    for key in sorted(weights):
        tensor = weights[key].detach().cpu().contiguous().to(torch.float32)
        digest.update(key.encode() + b"\0" + str(tuple(tensor.shape)).encode() + b"\0")
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


class CoreLatent:
    """The frozen core latent in memory: heads by hand name, plus its manifest."""

    def __init__(self, manifest: CoreLatentManifest, heads: dict[str, LatentHead], source: Path | None = None) -> None:
        from xlsdk.latent.head_network import freeze

        self.manifest = manifest
        self.heads = {name: freeze(head) for name, head in heads.items()}
        self.source = source

    @property
    def fingerprint(self) -> str:
        return self.manifest.fingerprint

    @property
    def latent_dim(self) -> int:
        return self.manifest.latent_dim

    @property
    def canonical(self) -> LatentHead:
        return self.heads[self.manifest.canonical]

    def __repr__(self) -> str:
        return f"CoreLatent(k={self.latent_dim}, hands={sorted(self.heads)}, fingerprint={self.fingerprint[:12]})"

    def info(self) -> dict[str, Any]:
        """Fingerprint, size, geometry version, hands (DOF, fingers, hidden sizes), metrics, training settings and
        where it was loaded from: what ``xlsdk latent info`` shows, as plain JSON-ready data."""
        manifest = self.manifest
        return {
            "fingerprint": manifest.fingerprint,
            "latent_dim": manifest.latent_dim,
            "geometry_version": manifest.geometry_version,
            "canonical": manifest.canonical,
            "hands": {name: {"dof": e.config.dof, "fingers": list(e.fingers), "hidden": list(e.config.hidden)}
                      for name, e in manifest.hands.items()},
            "metrics": manifest.metrics,
            "training": manifest.training,
            "source": str(self.source),
        }

    @classmethod
    def from_heads(cls, heads: dict[str, LatentHead], digests: dict[str, str], fingers: dict[str, tuple[str, ...]],
                   *, training: dict[str, Any] | None = None, metrics: dict[str, Any] | None = None,
                   canonical: str = "canonical") -> CoreLatent:
        """Assemble (and fingerprint) a core latent from freshly trained heads."""
        from xlsdk.version import __version__

        dims = {head.config.latent_dim for head in heads.values()}
        if len(dims) != 1:
            raise LatentError(f"heads disagree on the latent size: {sorted(dims)}")
        latent_dim = dims.pop()
        entries = {
            name: CoreHandEntry(config=head.config, hand_digest=digests[name], fingers=fingers[name])
            for name, head in heads.items()
        }
        weights = _flatten(heads)
        fingerprint = latent_fingerprint(latent_dim, GEOMETRY_VERSION, entries, weights)
        manifest = CoreLatentManifest(
            fingerprint=fingerprint, latent_dim=latent_dim, geometry_version=GEOMETRY_VERSION, canonical=canonical,
            hands=entries, training=training or {}, metrics=metrics or {}, weights_sha256="",
            xlsdk_version=__version__,
        )
        return cls(manifest, heads)

    def save(self, directory: Path | str) -> Path:
        """Write both files atomically (weights first, then the manifest that checksums them)."""
        from safetensors.torch import save_file

        directory = Path(directory)
        weights = _flatten(self.heads)
        metadata = {"fingerprint": self.fingerprint, "format": str(FORMAT_VERSION)}
        write_with_atomic(directory / CORE_WEIGHTS, lambda tmp: save_file(weights, str(tmp), metadata=metadata))
        sha = hashlib.sha256((directory / CORE_WEIGHTS).read_bytes()).hexdigest()
        manifest = self.manifest.model_copy(update={"weights_sha256": sha})
        write_json_atomic(directory / CORE_MANIFEST, manifest.model_dump(mode="json"))
        self.manifest = manifest
        self.source = directory
        return directory

    @classmethod
    def load(cls, directory: Path | str) -> CoreLatent:
        """Read and verify a core latent: manifest schema, checksum, geometry version, tensor shapes, fingerprint."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        from xlsdk.latent.head_network import LatentHead
        from xlsdk.training import global_rng_untouched

        directory = Path(directory)
        manifest = read_core_manifest(directory)
        weights_path = directory / CORE_WEIGHTS
        try:
            tensors = load_file(str(weights_path))
        except (SafetensorError, OSError) as exc:
            raise LatentError(f"{weights_path}: unreadable safetensors file ({exc})") from None
        heads: dict[str, LatentHead] = {}
        for name, entry in manifest.hands.items():
            with global_rng_untouched():  # the weights come from the file: leave the caller's random stream alone
                head = LatentHead(entry.config)
            state = {key.split("/", 1)[1]: value for key, value in tensors.items() if key.startswith(f"{name}/")}
            _load_state(head, state, f"{weights_path} [{name}]")
            heads[name] = head
        fingerprint = latent_fingerprint(manifest.latent_dim, manifest.geometry_version, dict(manifest.hands),
                                         _flatten(heads))
        if fingerprint != manifest.fingerprint:
            raise LatentError(f"{directory}: the weights do not match the recorded fingerprint")
        return cls(manifest, heads, source=directory)


def _flatten(heads: dict[str, LatentHead]) -> dict[str, torch.Tensor]:
    from xlsdk.latent.head_network import weight_tensors

    return {f"{name}/{key}": tensor for name, head in heads.items() for key, tensor in weight_tensors(head).items()}


def _load_state(head: LatentHead, state: dict[str, torch.Tensor], where: str) -> None:
    """Load learned tensors, refusing missing, extra or mis-shaped ones with the names in the message."""
    from xlsdk.errors import HeadError

    expected = {name: tuple(p.shape) for name, p in head.named_parameters()}
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    wrong = sorted(k for k in expected if k in state and tuple(state[k].shape) != expected[k])
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append(f"missing tensors {missing}")
        if extra:
            parts.append(f"unexpected tensors {extra}")
        if wrong:
            parts.append("bad shapes " + ", ".join(f"{k} {tuple(state[k].shape)} != {expected[k]}" for k in wrong))
        raise HeadError(f"{where}: " + "; ".join(parts))
    head.load_state_dict({**state, "lower": head.lower, "upper": head.upper}, strict=True)
