"""Inverse kinematics by projected gradient descent on the differentiable FK.

One loop serves every place xlsdk needs joints that achieve an arbitrary differentiable fingertip
goal: the grasp banks of the latent's pose sampler and the benchmarks' IK demonstrations. Adam on the
cost, then clamping into the joint limits after every step (projection), so every iterate is a valid
pose. (The refinement of a retargeted pose has a least-squares goal and its own Levenberg-Marquardt
solver, :class:`xlsdk.latent.refine.GeometryRefiner`.)
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from xlsdk.hand import Hand


def descend(hand: Hand, start: torch.Tensor, cost: Callable[[torch.Tensor], torch.Tensor], *, steps: int,
            lr: float) -> torch.Tensor:
    """Minimise ``cost(q).sum()`` over joint vectors ``q`` (B, dof) from ``start``, inside the limits."""
    lower, upper = hand.lower(start.dtype, start.device), hand.upper(start.dtype, start.device)
    with torch.enable_grad():  # callers may sit inside a no_grad evaluation block
        q = start.detach().clone().requires_grad_(True)
        optimizer = torch.optim.Adam([q], lr=lr)
        for _ in range(steps):
            loss = cost(q).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                q.copy_(torch.maximum(torch.minimum(q, upper), lower))
    return q.detach()
