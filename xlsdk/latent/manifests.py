"""What the latent's files say, as pydantic models: readable without torch.

``xlsdk hands`` reports every hand's head state; that must not wait for torch. So the JSON side of the
latent (a head's config and ``head.json``, the core latent's ``core_latent.json``) lives here, free
of torch, and the tensors stay in :mod:`xlsdk.latent.head_network` / :mod:`xlsdk.latent.core`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

#: k of a newly trained core latent (``xlsdk latent train -k`` changes it); an installed core latent says
#: its own (``installed_core_latent().latent_dim``), which is what policies and processor steps use
DEFAULT_LATENT_DIM = 32
DEFAULT_HIDDEN: tuple[int, ...] = (64, 128, 64)

HEAD_FORMAT = 1
CORE_WEIGHTS = "core_latent.safetensors"
CORE_MANIFEST = "core_latent.json"
FORMAT_VERSION = 1


class HeadConfig(BaseModel):
    """Shape of one head: which hand, its joint limits (command order), latent size and widths."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    hand: str
    dof: int = Field(gt=0)
    latent_dim: int = Field(DEFAULT_LATENT_DIM, gt=0)
    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    linear_skip: bool = Field(False, description="a linear path beside each MLP (encoder mean, decoder pre-squash)")

    @model_serializer(mode="wrap")
    def _without_default_skip(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Heads without the skip path serialise exactly as before the option existed.

        The core latent's fingerprint hashes every head config's JSON, so an extra ``"linear_skip":
        false`` would change the fingerprint of every installed core latent and stale every fitted head.
        """
        data = handler(self)
        if not self.linear_skip:
            data.pop("linear_skip", None)
        return data

    @model_validator(mode="after")
    def _sane(self) -> HeadConfig:
        """Refuse shapes no head can have (a hand-edited head.json), naming the field."""
        if not self.hidden or any(width <= 0 for width in self.hidden):
            raise ValueError(f"config.hidden must be one or more positive widths, got {list(self.hidden)}")
        for field in ("lower", "upper"):
            values = getattr(self, field)
            if len(values) != self.dof:
                raise ValueError(f"config.{field} has {len(values)} values, config.dof is {self.dof}")
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"config.{field} must be finite, got {list(values)}")
        if any(low >= high for low, high in zip(self.lower, self.upper, strict=True)):
            raise ValueError("config.lower must be below config.upper for every joint")
        return self


def parameter_shapes(config: HeadConfig) -> dict[str, tuple[int, ...]]:
    """The learned tensors a head of ``config`` has, by name (as :class:`~xlsdk.latent.head_network.LatentHead` names them).

    Lets a head file's tensors be checked without building the module; a test holds the two in step.
    """
    hidden = list(config.hidden)

    def mlp(prefix: str, sizes: list[int]) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {}
        for block, (width_in, width_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            linear, norm = f"{prefix}.{3 * block}", f"{prefix}.{3 * block + 1}"
            shapes |= {f"{linear}.weight": (width_out, width_in), f"{linear}.bias": (width_out,),
                       f"{norm}.weight": (width_out,), f"{norm}.bias": (width_out,)}
        return shapes

    skip = {"mean_skip.weight": (config.latent_dim, config.dof), "mean_skip.bias": (config.latent_dim,),
            "joints_skip.weight": (config.dof, config.latent_dim), "joints_skip.bias": (config.dof,)}
    return {
        **(skip if config.linear_skip else {}),
        **mlp("encoder", [config.dof, *hidden]),
        "to_mean.weight": (config.latent_dim, hidden[-1]), "to_mean.bias": (config.latent_dim,),
        "to_log_var.weight": (config.latent_dim, hidden[-1]), "to_log_var.bias": (config.latent_dim,),
        **mlp("decoder", [config.latent_dim, *hidden[::-1]]),
        "to_joints.weight": (config.dof, hidden[0]), "to_joints.bias": (config.dof,),
    }


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


class CoreHandEntry(BaseModel):
    """One head inside the core latent."""

    model_config = ConfigDict(frozen=True)
    config: HeadConfig
    hand_digest: str
    fingers: tuple[str, ...]


class CoreLatentManifest(BaseModel):
    """What ``core_latent.json`` holds."""

    model_config = ConfigDict(frozen=True)
    format: int = FORMAT_VERSION
    fingerprint: str
    latent_dim: int
    geometry_version: int
    canonical: str = "canonical"
    hands: dict[str, CoreHandEntry]
    training: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    weights_sha256: str
    xlsdk_version: str = ""
