"""Retargeting between any two installed hands through the shared latent.

``retarget(q, src, dst)`` is one encode and one decode: ``D_dst(E_src(q))``. With ``refine=True`` a
few Levenberg-Marquardt steps on the fingertip geometry, warm-started from that decode, polish the
result (optimizer-level accuracy for a fraction of an optimizer's cost).

The refinement (:class:`GeometryRefiner`) solves a small least-squares problem per pose: the
residuals are the differences of normalised fingertips and of thumb-to-finger vectors (weighted up
near pinches, as in the training objective), the Jacobian comes from one batched FK call of the pose
and its ``dof`` forward-differenced neighbours (float64; pytorch-kinematics forward only, no
autograd graph), and each step solves the damped normal equations and projects into the joint limits.
Gauss-Newton converges in two or three steps where projected gradient descent needs twenty.

:class:`StreamRetargeter` is the teleoperation form: one pose per call, everything that does not
depend on the pose (heads, chains, goal layout, damping) prepared once, and the previous frame's
answer offered as a second warm start.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from xlsdk.arrays import answer, as_batch
from xlsdk.errors import DataFormatError
from xlsdk.geometry import HandGeometry, shared_fingers
from xlsdk.hand import Hand
from xlsdk.latent.heads import load_head
from xlsdk.latent.objectives import GeometryWeights, pinch_weight

#: default Levenberg-Marquardt iterations of a refinement
REFINE_STEPS = 2
_EPS = 1e-6  # forward-difference step (rad) for the Jacobian, in float64
_DAMPINGS = (1e-3, 1e-1, 3.0)  # LM damping levels tried in parallel, relative to the diagonal of J^T J
_RIDGE = 1e-6  # absolute ridge, so joints that move no fingertip stay put


def _as_hand(hand: str | Hand) -> Hand:
    if isinstance(hand, Hand):
        return hand
    from xlsdk import load_hand

    return load_hand(hand)


def retarget(q: Any, src: str | Hand, dst: str | Hand, *, refine: bool = False, refine_steps: int = REFINE_STEPS) -> Any:
    """Joint vectors of ``src`` (B, d_src) to joint vectors of ``dst`` (B, d_dst); numpy in, numpy out."""
    source, target = _as_hand(src), _as_hand(dst)
    batch, kind = as_batch(q, width=source.dof, what=f"retarget(q) from {source.name}")
    with torch.no_grad():
        z = load_head(source).encode(batch.to(torch.float32))
        decoded = load_head(target).decode(z)
    if refine:
        decoded = refine_retarget(batch, source, target, decoded, steps=refine_steps).to(torch.float32)
    bad = ~torch.isfinite(decoded).all(dim=-1)
    if bool(bad.any()):
        rows = torch.nonzero(bad).flatten()
        raise DataFormatError(f"retargeting {source.name} -> {target.name} gave non-finite values for {rows.numel()} "
                              f"pose(s) (first: row {int(rows[0])}); the input is non-finite or too far outside the "
                              f"{source.name} joint limits to map")
    return answer(decoded.to(batch.dtype), kind)


def refine_retarget(q_source: torch.Tensor, source: Hand, target: Hand, warm_start: torch.Tensor, *,
                    steps: int = REFINE_STEPS, weights: GeometryWeights | None = None) -> torch.Tensor:
    """``steps`` LM steps on ``target``'s joints towards ``source``'s geometry, inside the limits (float64 out)."""
    refiner = GeometryRefiner(source, target, weights=weights)
    return refiner(refiner.goal(q_source), warm_start, steps=steps)


class GeometryRefiner:
    """Levenberg-Marquardt on ``target``'s joints so that its fingertip geometry matches a goal.

    Built once per (source, target) pair; :meth:`goal` turns source poses into goal geometry and
    :meth:`__call__` polishes a batch of target poses towards it. Every row is independent.
    """

    def __init__(self, source: Hand, target: Hand, *, weights: GeometryWeights | None = None) -> None:
        self.source, self.target = source, target
        self.weights = weights or GeometryWeights()
        self.fingers = shared_fingers(source.fingers, target.fingers)
        dtype = torch.float64
        self.lower, self.upper = target.lower(dtype), target.upper(dtype)
        # the pose itself, then one forward-difference offset per joint: (d + 1, d)
        self._probes = torch.cat([torch.zeros(1, target.dof, dtype=dtype), _EPS * torch.eye(target.dof, dtype=dtype)])
        self._dampings = torch.tensor(_DAMPINGS, dtype=dtype)
        self._ridge = _RIDGE * torch.eye(target.dof, dtype=dtype)

    def close(self, q_source: torch.Tensor, previous_source: torch.Tensor, tolerance: float = 0.05) -> bool:
        """Whether two source poses differ by less than ``tolerance`` of every joint's range."""
        span = self.source.upper(q_source.dtype) - self.source.lower(q_source.dtype)
        return bool(((q_source - previous_source).abs() <= tolerance * span).all())

    def goal(self, q_source: torch.Tensor) -> HandGeometry:
        """The source's geometry on the shared fingers (float64)."""
        with torch.no_grad():
            return self.source.geometry(q_source.to(torch.float64)).select(self.fingers)

    def _residuals(self, geometry: HandGeometry, goal: HandGeometry, rows: int) -> torch.Tensor:
        """Weighted residual vectors (rows, R): their squared norm is the tips + vectors terms of the objective."""
        weights = self.weights
        tips = (geometry.tips - goal.tips) * (weights.tips / goal.tips.shape[1]) ** 0.5
        scale = (pinch_weight(goal, weights) * weights.vectors / max(goal.thumb_vectors.shape[1], 1)) ** 0.5
        vectors = (geometry.thumb_vectors - goal.thumb_vectors) * scale[..., None]
        return torch.cat([tips.reshape(rows, -1), vectors.reshape(rows, -1)], dim=1)

    def cost(self, q: torch.Tensor, goal: HandGeometry) -> torch.Tensor:
        """Per-row sum of squared residuals of target poses ``q`` (B, d)."""
        with torch.no_grad():
            geometry = self.target.geometry(q.to(torch.float64)).select(self.fingers)
        return self._residuals(geometry, goal, q.shape[0]).pow(2).sum(dim=1)

    def __call__(self, goal: HandGeometry, start: torch.Tensor, *, steps: int = REFINE_STEPS) -> torch.Tensor:
        """``steps`` projected LM steps from ``start`` (B, d); returns float64 poses inside the limits.

        Each step proposes one candidate per damping level (:data:`_DAMPINGS`: from nearly Gauss-Newton
        to nearly gradient descent) and the next FK call evaluates all of them with their Jacobian
        probes at once; each row keeps its best pose so far, so a step never makes a pose worse.
        """
        best = start.detach().to(torch.float64).clamp(self.lower, self.upper)
        rows, dof = best.shape
        points = best[:, None, :]  # (B, K, d) candidates to evaluate
        best_cost = best_residual = best_jacobian = None
        with torch.no_grad():
            for iteration in range(steps + 1):
                count = points.shape[1]
                probes = (points[:, :, None, :] + self._probes).reshape(-1, dof)  # (B*K*(d+1), d)
                geometry = self.target.geometry(probes).select(self.fingers)
                stacked = self._residuals(geometry, _repeat(goal, count * (dof + 1)), probes.shape[0])
                stacked = stacked.reshape(rows, count, dof + 1, -1)
                residual = stacked[:, :, 0]  # (B, K, R)
                cost, pick = residual.pow(2).sum(dim=-1).min(dim=1)  # best candidate per row
                chosen = torch.arange(rows)
                residual, stacked = residual[chosen, pick], stacked[chosen, pick]
                jacobian = ((stacked[:, 1:] - residual[:, None]) / _EPS).transpose(1, 2)  # (B, R, d)
                if best_cost is None:
                    best, best_cost, best_residual, best_jacobian = points[:, 0], cost, residual, jacobian
                else:
                    better = cost < best_cost
                    best = torch.where(better[:, None], points[chosen, pick], best)
                    best_cost = torch.where(better, cost, best_cost)
                    best_residual = torch.where(better[:, None], residual, best_residual)
                    best_jacobian = torch.where(better[:, None, None], jacobian, best_jacobian)
                if iteration == steps:
                    break
                normal = best_jacobian.transpose(1, 2) @ best_jacobian  # (B, d, d)
                diagonal = torch.diag_embed(torch.diagonal(normal, dim1=1, dim2=2))
                gradient = (best_jacobian.transpose(1, 2) @ best_residual[..., None]).squeeze(-1)
                damped = normal[:, None] + self._dampings[None, :, None, None] * diagonal[:, None] + self._ridge
                step = torch.linalg.solve(damped, -gradient[:, None, :].expand(-1, len(_DAMPINGS), -1))
                points = torch.minimum(torch.maximum(best[:, None] + step, self.lower), self.upper)
        return best


def _repeat(goal: HandGeometry, times: int) -> HandGeometry:
    """Each row of ``goal`` repeated ``times`` times in place (row-major, matching the probe layout)."""
    return HandGeometry(fingers=goal.fingers, tips=goal.tips.repeat_interleave(times, dim=0),
                        thumb_vectors=goal.thumb_vectors.repeat_interleave(times, dim=0),
                        thumb_distances=goal.thumb_distances.repeat_interleave(times, dim=0))


class StreamRetargeter:
    """Retarget a stream of single poses ``src -> dst`` at minimal latency (frozen heads, no autograd).

    With ``refine=True`` every pose is polished by ``refine_steps`` LM steps, warm-started from the
    better of its latent decode and the previous frame's answer (a teleoperation stream moves little
    between frames, so the previous answer is often already close).
    """

    def __init__(self, src: str | Hand, dst: str | Hand, *, refine: bool = False,
                 refine_steps: int = REFINE_STEPS) -> None:
        self.source, self.target = _as_hand(src), _as_hand(dst)
        self._encoder = load_head(self.source)
        self._decoder = load_head(self.target)
        self.refine_steps = refine_steps
        self._refiner = GeometryRefiner(self.source, self.target) if refine else None
        self._previous: torch.Tensor | None = None
        self._previous_source = torch.zeros(0)

    def reset(self) -> None:
        """Forget the previous frame (call between unrelated streams)."""
        self._previous = None

    def __call__(self, q: np.ndarray) -> np.ndarray:
        pose = torch.as_tensor(np.asarray(q, dtype=np.float32)).reshape(1, -1)
        with torch.inference_mode():
            decoded = self._decoder.decode(self._encoder.encode(pose))
        if self._refiner is None:
            return decoded[0].numpy()
        goal = self._refiner.goal(pose)
        start = decoded.to(torch.float64)
        if self._previous is not None and self._refiner.close(pose, self._previous_source):
            start = self._previous  # the hand barely moved: last frame's answer is the better start
        refined = self._refiner(goal, start, steps=self.refine_steps)
        self._previous, self._previous_source = refined, pose
        return refined[0].numpy()
