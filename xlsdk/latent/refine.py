"""The geometry solver: Levenberg-Marquardt on a target hand's joints toward a source hand's fingertips.

The refinement (:class:`GeometryRefiner`) solves a small least-squares problem per pose: the
residuals are the differences of normalised fingertips and of thumb-to-finger vectors (weighted up
near pinches, as in the training objective), a linear map of the fingertip positions; their Jacobian
is that map applied to the analytic fingertip Jacobian of :class:`~xlsdk.tip_kinematics.TipKinematics`
(the hand's own pytorch-kinematics chain, evaluated in float64 numpy: one call per step for all the
candidates of every pose, where pytorch-kinematics' per-call set-up alone would cost a millisecond).
Each step solves the damped normal equations at three damping levels and projects into the joint
limits; a pose stops as soon as a step no longer lowers its cost (:mod:`xlsdk.point_fit`, the solver
the human hand's keypoint fit shares). Gauss-Newton converges in two or three steps where projected
gradient descent needs twenty.

:func:`reachable_poses` runs that solver from several starts per pose and keeps the best: the poses of a
target that come closest to a source's fingertips. The head fit's pull toward IK answers
(:func:`xlsdk.latent.fit._reach_targets`) and the evaluator's reachable floor
(:func:`xlsdk.latent.evaluate.reachable_error`) both need it; with it here, the fit imports a solver and
not the evaluator or the retargeter (issue 23). The retargeter polishes its decodes with
the same :class:`GeometryRefiner`.
"""

from __future__ import annotations

import numpy as np
import torch

from xlsdk.arrays import as_batch
from xlsdk.geometry import HandGeometry, hand_geometry, shared_fingers
from xlsdk.hand import Hand
from xlsdk.latent.objectives import GeometryWeights, tip_error
from xlsdk.point_fit import PointLeastSquares
from xlsdk.tip_kinematics import TipKinematics

#: default Levenberg-Marquardt iterations of a refinement
REFINE_STEPS = 2

#: LM iterations of the reachable floor (each stops earlier once it converges) and random starts beside
#: the given ones. Against 15 steps and 2 random starts on 2048 canonical poses, these lowered the mean
#: floor by 0.2 % (gripper3) and 2 % (five22) for 2.6x and 4x the time
_FLOOR_STEPS = 40
_FLOOR_RANDOM_STARTS = 3


class GeometryRefiner(PointLeastSquares):
    """Levenberg-Marquardt on ``target``'s joints so that its fingertip geometry matches a goal.

    Built once per (source, target) pair; :meth:`goal` turns source poses into goal geometry and
    :meth:`__call__` polishes a batch of target poses towards it. Every row is independent.
    """

    def __init__(self, source: Hand, target: Hand, *, weights: GeometryWeights | None = None) -> None:
        self.source, self.target = source, target
        self.weights = weights or GeometryWeights()
        self.fingers = shared_fingers(source.fingers, target.fingers)
        self.lower, self.upper = target.lower(torch.float64), target.upper(torch.float64)
        super().__init__(TipKinematics(target, self.fingers), self.lower.numpy(), self.upper.numpy())
        self._source_tips = TipKinematics(source, self.fingers)
        self._source_center = np.asarray(source.scale.knuckle_center, dtype=np.float64)
        self._source_reach = source.scale.reach
        self._source_axes = np.asarray(source.scale.axes, dtype=np.float64)  # left hands mirrored (HandScale)
        self._target_center = np.asarray(target.scale.knuckle_center, dtype=np.float64)
        self._target_reach = target.scale.reach
        self._target_axes = np.asarray(target.scale.axes, dtype=np.float64)
        # residual rows as a linear map of the fingertips (3F): the tips, then thumb -> finger vectors
        count = len(self.fingers)
        between = np.zeros((count - 1, count))
        between[:, 0], between[np.arange(count - 1), np.arange(1, count)] = -1.0, 1.0
        layout = np.vstack([np.eye(3 * count) * (self.weights.tips / count) ** 0.5, np.kron(between, np.eye(3))])
        self._layout = layout / self._target_reach  # residuals in reach units from tips in metres
        self._vector_weight = self.weights.vectors / max(count - 1, 1)
        self._vector_rows = np.repeat(np.arange(count - 1), 3)  # each thumb vector's weight on its 3 rows

    def goal(self, q_source: torch.Tensor) -> HandGeometry:
        """The source's geometry on the shared fingers (float64)."""
        batch, _ = as_batch(q_source, width=self.source.dof, what=f"refinement goal from {self.source.name}")
        tips, _ = self._source_tips.evaluate(batch.detach().to(torch.float64).cpu().numpy(), jacobian=False)
        return hand_geometry(torch.from_numpy(tips), self.fingers, self.source.scale)

    def cost(self, q: torch.Tensor, goal: HandGeometry) -> torch.Tensor:
        """Per-row sum of squared residuals of target poses ``q`` (B, d)."""
        return torch.from_numpy(self.cost_of(self._system(goal), q.detach().to(torch.float64).cpu().numpy()))

    def __call__(self, goal: HandGeometry, start: torch.Tensor, *, steps: int = REFINE_STEPS) -> torch.Tensor:
        """At most ``steps`` projected LM steps from ``start`` (B, d); returns float64 poses inside the limits."""
        starts = start.detach().to(torch.float64).cpu().numpy()[:, None]
        return torch.from_numpy(self.solve(self._system(goal), starts, steps=steps))

    def system_from_source(self, q_source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`solve`'s goal for source poses ``(B, d_src)``, float64 numpy end to end (the stream's path)."""
        tips, _ = self._source_tips.evaluate(q_source, jacobian=False)
        return self.goal_system((tips - self._source_center) / self._source_reach * self._source_axes)

    def _system(self, goal: HandGeometry) -> tuple[np.ndarray, np.ndarray]:
        goal = goal.select(self.fingers)
        return self.goal_system(goal.tips.detach().to(torch.float64).cpu().numpy(),
                                goal.thumb_distances.detach().to(torch.float64).cpu().numpy())

    def goal_system(self, tips: np.ndarray, distances: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`solve`'s system for goal fingertips already normalised (``(B, F, 3)`` on :attr:`fingers`).

        For callers that know the goal's fingertips without a source pose: the human stream has just
        fitted them as landmarks, so evaluating the source hand again (:meth:`system_from_source`)
        would repeat work. ``tips`` are in the source's normalised palm frame (knuckle centre at the
        origin, reach units, a left hand mirrored: :class:`~xlsdk.geometry.HandGeometry`'s ``tips``);
        ``distances`` are the thumb-to-finger distances ``(B, F-1)`` (from ``tips`` when not given).

        Returns ``A (B, R, 3F)`` and the goal tips in the target's metres ``(B, 3F)``: ``A @ (tips - goal)``
        are the weighted residuals, tips and thumb vectors normalised by the target's reach and the vector
        rows scaled by the goal's pinch weight (:func:`~xlsdk.latent.objectives.pinch_weight`, in numpy).
        """
        if distances is None:  # np.linalg.norm's arithmetic, without its per-call overhead (a stream's every frame)
            offsets = tips[:, 1:] - tips[:, :1]
            distances = np.sqrt((offsets * offsets).sum(axis=-1))
        rows, count = tips.shape[:2]
        pinch = self.weights.vector_base + self.weights.pinch_boost * np.exp(-distances / self.weights.pinch_sigma)
        vector_scale = ((pinch * self._vector_weight) ** 0.5).take(self._vector_rows, axis=1)  # (B, 3(F-1))
        scale = np.concatenate([np.ones((rows, count * 3)), vector_scale], axis=1)
        matrix = scale[:, :, None] * self._layout
        # back into the target's own palm frame (a left target un-mirrored; residual norms are unchanged)
        return matrix, (tips * self._target_axes * self._target_reach + self._target_center).reshape(rows, -1)


def reachable_poses(source: Hand, target: Hand, q_source: torch.Tensor, starts: list[torch.Tensor], *,
                    weights: GeometryWeights | None = None, seed: int = 0, steps: int = _FLOOR_STEPS,
                    random_starts: int = _FLOOR_RANDOM_STARTS) -> tuple[torch.Tensor, torch.Tensor]:
    """The target poses (B, d_target) that come closest to ``source``'s fingertips, and their tip errors (B,).

    Levenberg-Marquardt (:class:`GeometryRefiner`) from each of ``starts`` and from
    ``random_starts`` uniform poses, separately; per pose the lowest cost wins (float64, inside the
    target's limits). The cost is the fingertip residuals alone by default (the reachable floor), or the
    refiner's tips and pinch-weighted thumb-to-finger vectors under ``weights`` (poses that keep pinches).
    """
    fingers = shared_fingers(source.fingers, target.fingers)
    refiner = GeometryRefiner(source, target, weights=weights or GeometryWeights(vectors=0.0, direction=0.0))
    goal = refiner.goal(q_source)
    reference = goal.select(fingers)
    draw = torch.Generator().manual_seed(seed)
    candidates = list(starts) + [target.sample(q_source.shape[0], draw, dtype=torch.float64)
                                 for _ in range(random_starts)]
    best_poses, best, best_cost = None, None, None
    for start in candidates:
        solved = refiner(goal, start, steps=steps)
        errors = tip_error(target.geometry(solved).select(fingers), reference)
        cost = errors if weights is None else refiner.cost(solved, goal)
        cost = torch.where(torch.isfinite(cost) & torch.isfinite(errors), cost, torch.inf)
        if best is None:
            best_poses, best, best_cost = solved, errors, cost
        else:
            better = cost < best_cost
            best_poses = torch.where(better[:, None], solved, best_poses)
            best, best_cost = torch.where(better, errors, best), torch.where(better, cost, best_cost)
    return best_poses, best
