"""Grasps synthesised on a hand's own FK: fingertip contact targets on the object's surface, solved by IK.

Nothing here is per hand. Each synthesis is a cost on the fingertips of pose ``q`` (palm frame, metres),
minimised with xlsdk's projected-gradient IK (:func:`xlsdk.ik.descend`) from several starts in one batch,
the best kept:

* :func:`pinch`: thumb and index tips ``2 h`` apart (the faces of a cube of half edge ``h``), the line
  between them parallel to the palm (so a palm-down hand pinches horizontally), their midpoint at least
  ``h`` + 1 cm in front of the palm; the other fingers stay open;
* :func:`wrap`: every fingertip on the surface of a ball (or around the axis of a cylinder along the
  palm's X axis) of radius ``r`` centred in front of the palm, the tips' centroid on the centre (so the
  thumb opposes the fingers) and past the object's equator (so it cannot drop out of the hand);
  candidate centres over a grid in front of the palm, the best kept;
* :func:`point`: the index straight, every other finger curled toward the palm (for pressing).

Each returns a :class:`Grasp`: the open pose, the closed pose and where the grasp's centre sits in the
palm frame, which is what the expert places on the object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from xlsdk.hand import Hand
from xlsdk.ik import descend

IK_STEPS = 120
DTYPE = torch.float64


@dataclass(frozen=True)
class Grasp:
    q_open: np.ndarray  # (dof,) where the fingers start and return to on release
    q_grasp: np.ndarray  # (dof,) fingertips on the object surface
    centre: np.ndarray  # (3,) palm frame: the point placed on the object's centre
    cost: float  # the IK's final cost (metres squared): how well the hand's FK met the targets
    direction: np.ndarray | None = None  # (3,) palm frame: the pinch line (thumb -> index), when there is one


def open_pose(hand: Hand) -> np.ndarray:
    """The URDF zero pose clipped to the limits (fingers straight on every reference hand)."""
    return np.clip(np.asarray(hand.zero_pose(), dtype=np.float64), hand.spec.lower, hand.spec.upper)


def _tips(hand: Hand, q: torch.Tensor) -> torch.Tensor:
    return hand.kinematics.fingertips(q)


def _starts(hand: Hand, count: int, seed: int) -> torch.Tensor:
    """``count`` IK starts: open, mid and random poses (deterministic in ``seed``)."""
    lower, upper = hand.lower(DTYPE), hand.upper(DTYPE)
    generator = torch.Generator().manual_seed(seed)
    random = lower + (upper - lower) * torch.rand(max(count - 2, 0), hand.dof, generator=generator, dtype=DTYPE)
    fixed = torch.stack([torch.as_tensor(open_pose(hand), dtype=DTYPE), torch.as_tensor(hand.mid_pose(), dtype=DTYPE)])
    return torch.cat([fixed, random])[:count]


def pinch(hand: Hand, half: float, *, seed: int = 0) -> Grasp:
    thumb, index = 0, hand.fingers.index("index")
    others = [i for i in range(len(hand.fingers)) if i not in (thumb, index)]
    q_open = torch.as_tensor(open_pose(hand), dtype=DTYPE)
    open_tips = _tips(hand, q_open[None])[0]

    def cost(q: torch.Tensor) -> torch.Tensor:
        tips = _tips(hand, q)
        line = tips[:, thumb] - tips[:, index]
        middle = (tips[:, thumb] + tips[:, index]) / 2
        gap = (line.norm(dim=-1) - 2 * half) ** 2
        flat = line[:, 1] ** 2  # the pinch line parallel to the palm plane
        clear = torch.relu(half + 0.012 - middle[:, 1]) ** 2
        still = ((tips[:, others] - open_tips[others]) ** 2).sum(dim=(-1, -2)) if others else 0.0
        return 10 * gap + 10 * flat + 10 * clear + 0.5 * still

    q = descend(hand, _starts(hand, 6, seed), cost, steps=IK_STEPS, lr=0.05)
    with torch.no_grad():
        costs = cost(q)
        best = int(costs.argmin())
        tips = _tips(hand, q[best: best + 1])[0]
    line = (tips[index] - tips[thumb]).numpy()
    return Grasp(q_open=q_open.numpy(), q_grasp=q[best].numpy(), centre=((tips[thumb] + tips[index]) / 2).numpy(),
                 cost=float(costs[best]), direction=line / max(np.linalg.norm(line), 1e-9))


def wrap(hand: Hand, radius: float, *, cylinder: bool = False, seed: int = 0) -> Grasp:
    """Every fingertip on a ball (or a cylinder along palm X) of ``radius`` in front of the palm."""
    scale = hand.scale
    knuckle = np.asarray(scale.knuckle_center)
    offsets_y = (radius + 0.004, radius + 0.015)
    offsets_z = tuple(knuckle[2] + scale.reach * f for f in (-0.3, 0.0, 0.3))
    centres = torch.tensor([[knuckle[0], y, z] for y in offsets_y for z in offsets_z], dtype=DTYPE)
    starts = torch.as_tensor(hand.mid_pose(), dtype=DTYPE).repeat(len(centres), 1)
    mask = torch.tensor([0.0, 1.0, 1.0], dtype=DTYPE) if cylinder else torch.ones(3, dtype=DTYPE)

    def cost(q: torch.Tensor) -> torch.Tensor:
        tips = _tips(hand, q)
        offset = (tips - centres[:, None]) * mask
        surface = ((offset.norm(dim=-1) - radius) ** 2).sum(dim=-1)
        enclose = (((tips.mean(dim=1) - centres) * mask) ** 2).sum(dim=-1)
        # past the equator: the tips end further from the palm than the centre, so the object cannot fall out
        beyond = (torch.relu(centres[:, None, 1] + 0.3 * radius - tips[..., 1]) ** 2).sum(dim=-1)
        return 10 * surface + 5 * enclose + 10 * beyond

    q = descend(hand, starts, cost, steps=IK_STEPS, lr=0.05)
    with torch.no_grad():
        costs = cost(q)
    best = int(costs.argmin())
    return Grasp(q_open=open_pose(hand), q_grasp=q[best].numpy(), centre=centres[best].numpy(), cost=float(costs[best]))


def point(hand: Hand) -> Grasp:
    """The index straight (as open), the other fingers curled as far toward the palm as they go."""
    index = hand.fingers.index("index")
    q_open = torch.as_tensor(open_pose(hand), dtype=DTYPE)
    open_tips = _tips(hand, q_open[None])[0]
    others = [i for i in range(len(hand.fingers)) if i != index]

    def cost(q: torch.Tensor) -> torch.Tensor:
        tips = _tips(hand, q)
        curled = tips[:, others, 2].sum(dim=-1)  # fingertips pulled back toward the wrist
        straight = ((tips[:, index] - open_tips[index]) ** 2).sum(dim=-1)
        return 10 * curled + 100 * straight

    q = descend(hand, q_open[None], cost, steps=IK_STEPS, lr=0.05)
    with torch.no_grad():
        tip = _tips(hand, q)[0, index]
    return Grasp(q_open=q_open.numpy(), q_grasp=q[0].numpy(), centre=tip.numpy(), cost=float(cost(q)[0]))


_CACHE: dict[tuple, Grasp] = {}


def cached(hand: Hand, kind: str, size: float = 0.0, **options: object) -> Grasp:
    """:func:`pinch`, :func:`wrap` or :func:`point` for ``size`` rounded to 1 mm, synthesised once per process.

    Scenes draw sizes from a range, so the same hand meets the same millimetre many times (demos,
    ceilings, seeds); the squeeze past the grasp absorbs the half-millimetre. IK starts are seeded
    with 0, so a grasp depends only on the hand and the size.
    """
    size = round(float(size), 3)
    key = (hand.name, str(hand.urdf_path), kind, size, tuple(sorted(options.items())))
    if key not in _CACHE:
        _CACHE[key] = point(hand) if kind == "point" else {"pinch": pinch, "wrap": wrap}[kind](hand, size, **options)
    return _CACHE[key]
