"""What a policy's action vector means: the shared latent, raw joints padded, or functional joint slots.

All three spaces map a hand's joint vectors ``(..., dof)`` to fixed-width policy vectors ``(..., dim)`` and
back, so the same network can be trained either way (the cross-hand benchmark's two arms):

* :class:`LatentSpace`: the hand's frozen head encodes (``dim = k``, the installed core latent's size);
  any hand with a fitted head decodes, including hands absent from the training data;
* :class:`PaddedJointSpace`: joints scaled to [-1, 1] by the hand's own limits and zero-padded to the
  largest DOF trained on (the pi0 convention); a hand decodes the first ``dof`` entries, and a hand
  wider than that is refused;
* :class:`SlotSpace`: joints scaled to [-1, 1] by the hand's own limits, each written into the slot of
  its function (finger x joint role, :mod:`xlsdk.joint_slots`) of one fixed 32-wide layout; any hand
  whose spec places its joints decodes, including hands absent from the training data, with no head.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

import torch

from xlsdk.errors import PolicyError
from xlsdk.hand import Hand
from xlsdk.joint_slots import SLOT_COUNT, SlotLayout, slot_layout
from xlsdk.latent.head_loading import decode, encode, latent_dim

if TYPE_CHECKING:
    from xlsdk.policy.configuration_xlvla import XlvlaConfig

SpaceName = Literal["latent", "raw", "slots"]


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


class SlotSpace:
    """Functional joint slots: each joint, scaled by its limits, in the slot of its finger and role.

    Empty slots encode as 0 and :meth:`mask` says which they are; decoding reads each joint back from
    its slot (mimic joints are never in the vector: the hand derives them). Layouts are computed once
    per hand version (kinematic digest) and kept by the space.
    """

    name: SpaceName = "slots"

    def __init__(self, dim: int | None = None) -> None:
        if dim is not None and dim != SLOT_COUNT:
            raise PolicyError(f"the policy acts in {dim} joint slots, this xlsdk's slot layout has {SLOT_COUNT}; "
                              "retrain the policy with this xlsdk's layout")
        self.dim = SLOT_COUNT
        self._layouts: dict[str, SlotLayout] = {}

    def layout(self, hand: Hand) -> SlotLayout:
        """Which joint of ``hand`` sits in which slot (raises SlotLayoutError if the layout cannot hold it)."""
        if hand.spec.digest not in self._layouts:
            self._layouts[hand.spec.digest] = slot_layout(hand)
        return self._layouts[hand.spec.digest]

    def mask(self, hand: Hand) -> torch.Tensor:
        """``(dim,)`` bool: True where ``hand`` has a joint (mask the others out of a loss)."""
        return torch.tensor(self.layout(hand).mask, dtype=torch.bool)

    def encode(self, hand: Hand, q: torch.Tensor) -> torch.Tensor:
        q = torch.as_tensor(q)
        _check_width(hand, q, hand.dof, "joint vector")
        lower, upper = hand.lower(q.dtype, q.device), hand.upper(q.dtype, q.device)
        scaled = (2.0 * (q - lower) / (upper - lower) - 1.0).float()
        slots = torch.zeros(*q.shape[:-1], self.dim, dtype=scaled.dtype, device=q.device)
        index = torch.tensor(self.layout(hand).indices, device=q.device)
        slots[..., index] = scaled
        return slots

    def decode(self, hand: Hand, a: torch.Tensor) -> torch.Tensor:
        a = torch.as_tensor(a)
        _check_width(hand, a, self.dim, "slot vector")
        index = torch.tensor(self.layout(hand).indices, device=a.device)
        scaled = a[..., index].clamp(-1.0, 1.0)
        lower, upper = hand.lower(a.dtype, a.device), hand.upper(a.dtype, a.device)
        return lower + (scaled + 1.0) * 0.5 * (upper - lower)


def _check_width(hand: Hand, x: torch.Tensor, width: int, what: str) -> None:
    if x.ndim == 0 or x.shape[-1] != width:
        raise PolicyError(f"{what} for hand {hand.name!r}: last dimension is "
                          f"{x.shape[-1] if x.ndim else 'missing'}, expected {width}")


def make_space(name: SpaceName, width: int | None = None) -> ActionSpace:
    """The space called ``name``: ``width`` is the raw policy's padded width (required for ``"raw"``)."""
    if name == "latent":
        return LatentSpace(width)
    if name == "slots":
        return SlotSpace(width)
    if width is None:
        raise PolicyError("a raw-joint action space needs its width (the widest hand's DOF)")
    return PaddedJointSpace(width)


def space_of(config: XlvlaConfig) -> ActionSpace:
    """The action space a policy was configured (and trained) in, at the width it recorded.

    The slot layout's width is fixed (:data:`~xlsdk.joint_slots.SLOT_COUNT`), so a slots policy records none.
    """
    if config.action_space == "slots":
        return SlotSpace()
    return make_space(config.action_space, config.hand_action_dim)  # type: ignore[arg-type]
