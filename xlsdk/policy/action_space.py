"""What a policy's action vector means: the shared latent, or raw joints padded to the largest hand.

Both spaces map a hand's joint vectors ``(..., dof)`` to fixed-width policy vectors ``(..., dim)`` and
back, so the same network can be trained either way (the cross-hand benchmark's two arms):

* :class:`LatentSpace`: the hand's frozen head encodes (``dim = k``, the installed core latent's size);
  any hand with a fitted head decodes, including hands absent from the training data;
* :class:`PaddedJointSpace`: joints scaled to [-1, 1] by the hand's own limits and zero-padded to the
  largest DOF trained on (the pi0 convention); a hand decodes the first ``dof`` entries, and a hand
  wider than that is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

import torch

from xlsdk.errors import PolicyError
from xlsdk.hand import Hand
from xlsdk.latent.heads import decode, encode, latent_dim

if TYPE_CHECKING:
    from xlsdk.policy.configuration_xlvla import XlvlaConfig

SpaceName = Literal["latent", "raw"]


class ActionSpace(Protocol):
    name: SpaceName
    dim: int

    def encode(self, hand: Hand, q: torch.Tensor) -> torch.Tensor: ...

    def decode(self, hand: Hand, a: torch.Tensor) -> torch.Tensor: ...


class LatentSpace:
    name: SpaceName = "latent"

    def __init__(self, dim: int | None = None) -> None:
        installed = latent_dim()
        if dim is not None and dim != installed:
            raise PolicyError(f"the policy acts in a {dim}-d latent, the installed core latent has k = {installed}; "
                              "use the core latent the policy was trained in (XLSDK_CORE_LATENT) or retrain it")
        self.dim = installed

    def encode(self, hand: Hand, q: torch.Tensor) -> torch.Tensor:
        return encode(hand, torch.as_tensor(q).float())

    def decode(self, hand: Hand, a: torch.Tensor) -> torch.Tensor:
        return decode(hand, torch.as_tensor(a).float())


class PaddedJointSpace:
    name: SpaceName = "raw"

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def _check(self, hand: Hand) -> None:
        if hand.dof > self.dim:
            raise PolicyError(f"hand {hand.name!r} has {hand.dof} joints, wider than this raw-joint policy's "
                              f"{self.dim}: it was trained on narrower hands; a latent policy drives any hand")

    def encode(self, hand: Hand, q: torch.Tensor) -> torch.Tensor:
        self._check(hand)
        lower, upper = hand.lower(q.dtype, q.device), hand.upper(q.dtype, q.device)
        scaled = 2.0 * (q - lower) / (upper - lower) - 1.0
        padding = torch.zeros(*q.shape[:-1], self.dim - hand.dof, dtype=q.dtype, device=q.device)
        return torch.cat([scaled, padding], dim=-1).float()

    def decode(self, hand: Hand, a: torch.Tensor) -> torch.Tensor:
        self._check(hand)
        lower, upper = hand.lower(a.dtype, a.device), hand.upper(a.dtype, a.device)
        scaled = a[..., : hand.dof].clamp(-1.0, 1.0)
        return lower + (scaled + 1.0) * 0.5 * (upper - lower)


def make_space(name: SpaceName, width: int | None = None) -> ActionSpace:
    """The space called ``name``: ``width`` is the raw policy's padded width (required for ``"raw"``)."""
    if name == "latent":
        return LatentSpace(width)
    if width is None:
        raise PolicyError("a raw-joint action space needs its width (the widest hand's DOF)")
    return PaddedJointSpace(width)


def space_of(config: XlvlaConfig) -> ActionSpace:
    """The action space a policy was configured (and trained) in, at the width it recorded."""
    return make_space(config.action_space, config.hand_action_dim)  # type: ignore[arg-type]
