"""Embodiment-agnostic hand geometry: the quantities the shared latent aligns across hands.

Raw fingertip positions are not comparable between hands: one hand's wrist mount sits 4 cm further
from its knuckles than another's, and its fingers are 30 % longer. So positions are expressed relative
to the hand's *knuckle centre* ``c`` and divided by its *finger reach* ``s``::

    palm frame (side view, +X out of the page)        normalised tip  p~ = (p - c) / s
                       tip
      +Z  ^            o            reach s: mean over non-thumb fingers of the largest
          |           /             knuckle-to-tip distance the finger reaches
          |  knuckle o              (fully extended, about 1.0 in p~ units)
          |          |  c = mean of the non-thumb knuckles
          |   palm   |
          O----------+----> +Y (palm normal)
        wrist

The grasp relations are thumb-to-finger vectors ``(p_f - p_thumb) / s`` and their lengths: a pinch
is a short thumb-index vector whatever the hand's size. Two hands are compared only on the canonical
fingers both declare (:func:`shared_finger_indices`).

Bump :data:`GEOMETRY_VERSION` whenever a definition here changes: it is part of the core latent's
fingerprint, so heads trained on the old definition are rejected instead of silently mis-aligned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from xlsdk.errors import ShapeError
from xlsdk.hand_spec import HandSpec
from xlsdk.manifest import Finger

if TYPE_CHECKING:  # GEOMETRY_VERSION and shared_fingers are needed without torch (listings, head status)
    import torch

    from xlsdk.kinematics import FingertipKinematics

GEOMETRY_VERSION = 1
_REACH_SAMPLES = 4096
_REACH_SEED = 20260310


@dataclass(frozen=True)
class HandScale:
    """Per-hand normalisation: knuckle centre (metres, palm frame) and finger reach (metres).

    ``axes`` flips the palm frame's lateral X for a left hand: the shared geometry is a right hand's
    (thumb toward -X), and a left hand's palm frame is its mirror image (thumb toward +X), which no
    rotation turns into a right hand's. Mirrored, a left hand's pinch is where a right hand's is, so
    one latent serves both. Metric uses of the scale (centre, reach) stay in the hand's own frame.
    """

    knuckle_center: tuple[float, float, float]
    reach: float
    axes: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def mirrored(self) -> bool:
        return self.axes[0] < 0


@dataclass(frozen=True)
class HandGeometry:
    """Normalised geometry of a batch of poses. ``fingers`` names the F entries of ``tips``."""

    fingers: tuple[Finger, ...]
    tips: torch.Tensor  # (B, F, 3) normalised fingertip positions
    thumb_vectors: torch.Tensor  # (B, F-1, 3) thumb tip -> other fingertips, normalised
    thumb_distances: torch.Tensor  # (B, F-1)

    def rows(self, index: torch.Tensor | slice) -> HandGeometry:
        """The geometry of a subset of the batch (an index tensor or a slice of poses)."""
        return HandGeometry(fingers=self.fingers, tips=self.tips[index], thumb_vectors=self.thumb_vectors[index],
                            thumb_distances=self.thumb_distances[index])

    def select(self, fingers: tuple[Finger, ...]) -> HandGeometry:
        """The same geometry restricted to ``fingers`` (which must include the thumb)."""
        tip_index = [self.fingers.index(f) for f in fingers]
        other_index = [self.fingers.index(f) - 1 for f in fingers if f != "thumb"]
        return HandGeometry(
            fingers=fingers,
            tips=self.tips[:, tip_index],
            thumb_vectors=self.thumb_vectors[:, other_index],
            thumb_distances=self.thumb_distances[:, other_index],
        )


def compute_hand_scale(spec: HandSpec, kinematics: FingertipKinematics) -> HandScale:
    """Knuckle centre and reach of a hand, deterministic for a given URDF + manifest."""
    fingers = spec.manifest.fingers
    paths = {finger: spec.urdf.path_between(spec.manifest.palm_link, tip.link) or [] for finger, tip in fingers.items()}
    knuckle_links: list[str] = []
    non_thumb: list[int] = []
    for index, (finger, tip) in enumerate(fingers.items()):
        if finger == "thumb":
            continue
        # a finger's knuckle is its own first moving joint: one it shares with other fingers (a palm segment
        # on a cupping joint) moves a piece of palm, not this finger (no such joint: the same as the first)
        shared = {joint.name for other, path in paths.items() if other != finger for joint in path}
        movable = [joint for joint in paths[finger] if joint.movable and joint.name not in shared]
        knuckle_links.append(movable[0].child if movable else tip.link)
        non_thumb.append(index)
    import torch

    dtype = torch.float64
    lower = torch.tensor(spec.lower, dtype=dtype)
    upper = torch.tensor(spec.upper, dtype=dtype)
    generator = torch.Generator().manual_seed(_REACH_SEED)
    samples = lower + (upper - lower) * torch.rand(_REACH_SAMPLES, spec.dof, generator=generator, dtype=dtype)
    extremes = torch.stack([lower, upper, (lower + upper) / 2, torch.clamp(torch.zeros_like(lower), lower, upper)])
    samples = torch.cat([extremes, samples])
    with torch.no_grad():
        knuckles = kinematics.link_poses(samples[:1], knuckle_links)[0, :, :3, 3]  # (K, 3), fixed w.r.t. the palm
        # knuckles move with abduction joints, so measure reach from each pose's own knuckle position
        knuckles_all = kinematics.link_poses(samples, knuckle_links)[:, :, :3, 3]  # (S, K, 3)
        tips = kinematics.fingertips(samples)[:, non_thumb]  # (S, K, 3)
        reach = (tips - knuckles_all).norm(dim=-1).amax(dim=0).mean()
    center = knuckles.mean(dim=0)
    axes = (-1.0, 1.0, 1.0) if spec.manifest.handedness == "left" else (1.0, 1.0, 1.0)
    return HandScale(knuckle_center=tuple(float(v) for v in center), reach=float(reach), axes=axes)


def hand_geometry(tips: torch.Tensor, fingers: tuple[Finger, ...], scale: HandScale) -> HandGeometry:
    """Normalised geometry of fingertip positions ``(B, F, 3)`` (metres, palm frame, canonical order).

    Normalised: about the knuckle centre, in units of the reach, a left hand mirrored into a right's.
    """
    import torch

    center = torch.tensor(scale.knuckle_center, dtype=tips.dtype, device=tips.device)
    normalised = (tips - center) / scale.reach
    if scale.mirrored:
        normalised = normalised * torch.tensor(scale.axes, dtype=tips.dtype, device=tips.device)
    if fingers[0] != "thumb":
        raise ShapeError(f"fingertips must start with the thumb (canonical order), got {list(fingers)}")
    vectors = normalised[:, 1:] - normalised[:, :1]
    return HandGeometry(
        fingers=fingers, tips=normalised, thumb_vectors=vectors, thumb_distances=vectors.norm(dim=-1)
    )


def shared_fingers(a: tuple[Finger, ...], b: tuple[Finger, ...]) -> tuple[Finger, ...]:
    """Canonical fingers both hands declare, in canonical order (always starts with the thumb)."""
    return tuple(finger for finger in a if finger in b)
