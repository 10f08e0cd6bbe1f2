"""Projected Levenberg-Marquardt on a hand's joints for residuals that are linear in tracked points.

Two problems in xlsdk have this shape: the retargeting refinement (a target hand's fingertips towards
another hand's geometry, :class:`xlsdk.latent.refine.GeometryRefiner`) and the human hand's fit to
measured keypoints (its 21 landmarks towards a person's, :mod:`xlsdk.human`). In both the residuals
are ``A @ (points(q) - goal)`` for a per-pose matrix ``A``, and the points and their analytic Jacobian
come from one :class:`~xlsdk.tip_kinematics.TipKinematics`. So one solver serves both: it only needs
the evaluator, the joint limits and the ``(A, goal)`` system of each pose.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np

from xlsdk.tip_kinematics import TipKinematics

_DAMPINGS = (1e-3, 1e-1, 3.0)  # LM damping levels tried in parallel, relative to the diagonal of J^T J
_RIDGE = 1e-6  # absolute ridge, so joints that move no point stay put
_TOLERANCE = 1e-2  # a pose whose step lowered its cost by less than this fraction has converged


class PointLeastSquares:
    """Least squares on joints ``q`` inside ``[lower, upper]`` for residuals ``A @ (points(q) - goal)``.

    ``points`` evaluates the tracked points ``(B, P, 3)`` (and their Jacobian) of a batch of joint
    vectors; a *system* is ``(A (B, R, 3P), goal (B, 3P))``, one matrix and goal per pose, or
    ``(None, goal)`` when the residuals are the point differences themselves (the keypoint fit: no
    ``(3P, 3P)`` identity multiplied in every step). Every row is independent.
    """

    def __init__(self, points: TipKinematics, lower: np.ndarray, upper: np.ndarray) -> None:
        self.points = points
        self._lower, self._upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
        self._dampings = np.asarray(_DAMPINGS)
        self._ridge = _RIDGE * np.eye(points.dof)
        self._diagonal = np.arange(points.dof)

    def _evaluate(self, candidates: np.ndarray, matrix: np.ndarray | None, goal: np.ndarray, *,
                  jacobian: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Costs ``(B, K)``, residuals ``(B, K, R)`` and their Jacobians ``(B, K, R, d)`` at candidates ``(B, K, d)``."""
        rows, count, dof = candidates.shape
        points, point_jacobian = self.points.evaluate(candidates.reshape(-1, dof), jacobian=jacobian)
        delta = points.reshape(rows, count, -1) - goal[:, None]
        residual = delta if matrix is None else np.einsum("brj,bkj->bkr", matrix, delta)
        cost = np.einsum("bkr,bkr->bk", residual, residual)
        if point_jacobian is None:
            return cost, residual, None
        point_jacobian = point_jacobian.reshape(rows, count, -1, dof)
        return cost, residual, point_jacobian if matrix is None else matrix[:, None] @ point_jacobian

    def cost_of(self, system: tuple[np.ndarray | None, np.ndarray], q: np.ndarray) -> np.ndarray:
        """Per-pose sum of squared residuals at joint vectors ``q`` ``(B, d)``."""
        return self._evaluate(np.asarray(q, dtype=np.float64)[:, None], *system, jacobian=False)[0][:, 0]

    @overload
    def solve(self, system: tuple[np.ndarray | None, np.ndarray], starts: np.ndarray, *, steps: int,
              tolerance: float = ..., with_cost: Literal[False] = ...) -> np.ndarray: ...

    @overload
    def solve(self, system: tuple[np.ndarray | None, np.ndarray], starts: np.ndarray, *, steps: int,
              tolerance: float = ..., with_cost: Literal[True]) -> tuple[np.ndarray, np.ndarray]: ...

    def solve(self, system: tuple[np.ndarray | None, np.ndarray], starts: np.ndarray, *, steps: int,
              tolerance: float = _TOLERANCE, with_cost: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """LM from the best of several starts per pose ``(B, S, d)``; float64 poses ``(B, d)`` inside the limits.

        Each step proposes one candidate per damping level (:data:`_DAMPINGS`: from nearly Gauss-Newton
        to nearly gradient descent) and evaluates them with their Jacobians in one call; a pose keeps
        its best candidate only when it lowers the cost, so a step never makes a pose worse. A pose
        stops once a step lowers its cost by less than ``tolerance`` of it (converged) or not at
        all (the next step would propose the same candidates), and the loop ends when every pose has
        stopped. A pose with no finite start or a non-finite goal comes back as NaN for the caller to
        refuse. With ``with_cost`` the final cost of each pose comes back too (no extra evaluation).
        """
        matrix, goal = system
        rows, _, dof = starts.shape
        usable = np.isfinite(starts).all(axis=2)  # (B, S)
        valid = usable.any(axis=1) & np.isfinite(goal).all(axis=1)
        if matrix is not None:
            valid &= np.isfinite(matrix).all(axis=(1, 2))
            matrix = np.where(valid[:, None, None], matrix, 0.0)
        starts = np.clip(np.where(usable[..., None], starts, 0.0), self._lower, self._upper)
        goal = np.where(valid[:, None], goal, 0.0)
        every = np.arange(rows)
        cost, residual, jacobian = self._evaluate(starts, matrix, goal, jacobian=steps > 0)
        cost = np.where(usable, cost, np.inf)
        pick = cost.argmin(axis=1)
        best, best_cost = starts[every, pick], cost[every, pick]
        active = np.ones(rows, dtype=bool)
        for step in range(steps):
            best_residual, best_jacobian = residual[every, pick], jacobian[every, pick]  # type: ignore[index]
            transposed = np.swapaxes(best_jacobian, 1, 2)
            normal = transposed @ best_jacobian  # (B, d, d)
            gradient = transposed @ best_residual[..., None]  # (B, d, 1)
            damped = np.repeat(normal[:, None] + self._ridge, len(self._dampings), axis=1)  # (B, K, d, d)
            damped[..., self._diagonal, self._diagonal] += self._dampings[:, None] * normal[:, None, self._diagonal,
                                                                                            self._diagonal]
            moves = np.linalg.solve(damped, -gradient[:, None])[..., 0]
            candidates = np.clip(best[:, None] + moves, self._lower, self._upper)
            cost, residual, jacobian = self._evaluate(candidates, matrix, goal, jacobian=step + 1 < steps)
            pick = cost.argmin(axis=1)
            reached = cost[every, pick]
            better = active & (reached < best_cost)
            best = np.where(better[:, None], candidates[every, pick], best)
            active = better & (reached < (1.0 - tolerance) * best_cost)  # converged poses stop here
            best_cost = np.where(better, reached, best_cost)
            if not active.any():
                break
            if step + 1 < steps and not better.all():  # a pose that did not improve keeps its own residuals
                residual[~better, pick[~better]] = best_residual[~better]
                jacobian[~better, pick[~better]] = best_jacobian[~better]  # type: ignore[index]
        best[~valid] = np.nan
        if with_cost:
            return best, np.where(valid, best_cost, np.nan)
        return best
