"""What a policy's action vector means: the shared latent, or raw joints padded to the largest hand.

Both spaces map a hand's joint vectors ``(..., dof)`` to fixed-width policy vectors ``(..., dim)`` and
back, so the same network can be trained either way (the cross-hand benchmark's two arms):

* :class:`LatentSpace`: the hand's frozen head encodes (``dim = k = 32``); any hand with a fitted head
  decodes, including hands absent from the training data;
* :class:`PaddedJointSpace`: joints scaled to [-1, 1] by the hand's own limits and zero-padded to the
  largest DOF (the pi0 convention); a hand decodes the first ``dof`` entries.
"""

from __future__ import annotations

from typing import Literal, Protocol

import torch

from xlsdk.hand import Hand
from xlsdk.latent.head import LATENT_DIM

SpaceName = Literal["latent", "raw"]


class ActionSpace(Protocol):
    name: SpaceName
    dim: int

    def encode(self, hand: Hand, q: torch.Tensor) -> torch.Tensor: ...

    def decode(self, hand: Hand, a: torch.Tensor) -> torch.Tensor: ...


class LatentSpace:
    name: SpaceName = "latent"
    dim = LATENT_DIM

    def encode(self, hand: Hand, q: torch.Tensor) -> torch.Tensor:
        shape = q.shape[:-1]
        with torch.no_grad():
            z = hand.head.encode(q.reshape(-1, q.shape[-1]).float())
        return z.reshape(*shape, self.dim)

    def decode(self, hand: Hand, a: torch.Tensor) -> torch.Tensor:
        shape = a.shape[:-1]
        with torch.no_grad():
            q = hand.head.decode(a.reshape(-1, self.dim).float())
        return q.reshape(*shape, hand.dof)


class PaddedJointSpace:
    name: SpaceName = "raw"

    def __init__(self, dim: int = 13) -> None:
        self.dim = dim

    def encode(self, hand: Hand, q: torch.Tensor) -> torch.Tensor:
        lower, upper = hand.lower(q.dtype, q.device), hand.upper(q.dtype, q.device)
        scaled = 2.0 * (q - lower) / (upper - lower) - 1.0
        padding = torch.zeros(*q.shape[:-1], self.dim - hand.dof, dtype=q.dtype, device=q.device)
        return torch.cat([scaled, padding], dim=-1).float()

    def decode(self, hand: Hand, a: torch.Tensor) -> torch.Tensor:
        lower, upper = hand.lower(a.dtype, a.device), hand.upper(a.dtype, a.device)
        scaled = a[..., : hand.dof].clamp(-1.0, 1.0)
        return lower + (scaled + 1.0) * 0.5 * (upper - lower)


def make_space(name: SpaceName, raw_dim: int = 13) -> ActionSpace:
    return LatentSpace() if name == "latent" else PaddedJointSpace(raw_dim)
