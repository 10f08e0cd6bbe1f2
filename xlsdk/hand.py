"""The :class:`Hand`: one hand's spec, limits, kinematics and geometry behind one object.

``xlsdk.load_hand(name)`` returns one. Everything expensive (the kinematic chain, the normalisation
scale) is built on first use, and torch / pytorch-kinematics are imported only then, so listing hands
stays cheap. A hand knows no learning: its latent head is found, verified and cached by
:mod:`xlsdk.latent.head_loading` (``xlsdk.encode(hand, q)``, ``xlsdk.decode(hand, z)``).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.hand_spec import HandSpec
from xlsdk.manifest import Finger

if TYPE_CHECKING:
    import torch

    from xlsdk.geometry import HandGeometry, HandScale
    from xlsdk.kinematics import FingertipKinematics

HEAD_FILENAME = "head.safetensors"
HEAD_MANIFEST_FILENAME = "head.json"
#: heads for further core latents: ``heads/<fingerprint>/head.safetensors`` (see :mod:`xlsdk.latent.head_loading`)
HEADS_DIRNAME = "heads"


class JointLimit(BaseModel):
    """One actuated joint's effective range (URDF range, narrowed by the manifest)."""

    model_config = ConfigDict(frozen=True)
    name: str
    lower: float
    upper: float


class Hand:
    """A dexterous hand as xlsdk sees it.

    * ``fk(q)``: fingertips ``(B, F, 3)`` in metres in the xlsdk palm frame, canonical finger order;
    * ``geometry(q)``: the normalised features the latent aligns (:mod:`xlsdk.geometry`);
    * ``sample(n)``: uniform joint samples inside the limits.

    Its fitted latent head lives next to ``hand.toml`` (``head_path``), loaded by :mod:`xlsdk.latent.head_loading`.

    ``q`` is always the actuated joint vector in command order (``joint_names``); numpy in gives numpy
    out, and a single vector gives a single answer.
    """

    def __init__(self, spec: HandSpec, *, plugin: str | None = None, head_dir: Path | None = None) -> None:
        self.spec = spec
        self.plugin = plugin
        self.head_dir = head_dir if head_dir is not None else spec.manifest_path.parent

    def __repr__(self) -> str:
        return f"Hand({self.name!r}, dof={self.dof}, fingers={list(self.fingers)})"

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def title(self) -> str:
        return self.spec.manifest.title or self.spec.name

    @property
    def dof(self) -> int:
        return self.spec.dof

    @property
    def joint_names(self) -> tuple[str, ...]:
        return self.spec.joint_names

    @property
    def fingers(self) -> tuple[Finger, ...]:
        return self.spec.fingers

    @property
    def drivers(self) -> tuple[str, ...]:
        return self.spec.manifest.drivers

    @property
    def urdf_path(self) -> Path:
        return self.spec.urdf_path

    @property
    def head_path(self) -> Path:
        return self.head_dir / HEAD_FILENAME

    @property
    def head_manifest_path(self) -> Path:
        return self.head_dir / HEAD_MANIFEST_FILENAME

    @property
    def limits(self) -> list[JointLimit]:
        return [
            JointLimit(name=name, lower=low, upper=high)
            for name, low, high in zip(self.spec.joint_names, self.spec.lower, self.spec.upper, strict=True)
        ]

    def lower(self, dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> torch.Tensor:
        """The lower limits as a tensor (float32 unless ``dtype``)."""
        import torch

        return torch.tensor(self.spec.lower, dtype=dtype or torch.float32, device=device)

    def upper(self, dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> torch.Tensor:
        """The upper limits as a tensor (float32 unless ``dtype``)."""
        import torch

        return torch.tensor(self.spec.upper, dtype=dtype or torch.float32, device=device)

    def mid_pose(self) -> np.ndarray:
        return (np.asarray(self.spec.lower) + np.asarray(self.spec.upper)) / 2

    def zero_pose(self) -> np.ndarray:
        """q = 0 clipped into the limits (the URDF's reference pose where the range allows it)."""
        return np.clip(np.zeros(self.dof), self.spec.lower, self.spec.upper)

    @cached_property
    def kinematics(self) -> FingertipKinematics:
        from xlsdk.kinematics import FingertipKinematics

        return FingertipKinematics(self.spec)

    @cached_property
    def scale(self) -> HandScale:
        from xlsdk.geometry import compute_hand_scale

        return compute_hand_scale(self.spec, self.kinematics)

    def fk(self, q: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Fingertip positions ``(B, F, 3)`` in metres, palm frame, fingers in canonical order."""
        from xlsdk.arrays import answer, as_batch

        batch, kind = as_batch(q, width=self.dof, what=f"{self.name}.fk(q)")
        return answer(self.kinematics.fingertips(batch), kind)

    def geometry(self, q: torch.Tensor) -> HandGeometry:
        """Normalised geometry of a batch of joint vectors (differentiable in ``q``)."""
        from xlsdk.arrays import as_batch
        from xlsdk.geometry import hand_geometry

        batch, _ = as_batch(q, width=self.dof, what=f"{self.name}.geometry(q)")
        return hand_geometry(self.kinematics.fingertips(batch), self.fingers, self.scale)

    def sample(self, n: int, generator: torch.Generator | None = None, *, dtype: torch.dtype | None = None,
               device: torch.device | str | None = None) -> torch.Tensor:
        """``n`` joint vectors drawn uniformly inside the limits, shape ``(n, dof)`` (float32 unless ``dtype``)."""
        import torch

        dtype = dtype or torch.float32
        lower, upper = self.lower(dtype, device), self.upper(dtype, device)
        u = torch.rand(n, self.dof, generator=generator, dtype=dtype)  # generators live on the CPU
        return lower + (upper - lower) * u.to(lower.device)

    def clamp(self, q: torch.Tensor) -> torch.Tensor:
        import torch

        return torch.clamp(q, self.lower(q.dtype, q.device), self.upper(q.dtype, q.device))
