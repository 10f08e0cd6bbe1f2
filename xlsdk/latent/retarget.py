"""Retargeting between any two installed hands through the shared latent.

``retarget(q, src, dst)`` is one encode and one decode: ``D_dst(E_src(q))``. With ``refine=True`` a
few Levenberg-Marquardt steps on the fingertip geometry, warm-started from that decode, polish the
result (optimizer-level accuracy for a fraction of an optimizer's cost).

The refinement (:class:`GeometryRefiner`) solves a small least-squares problem per pose: the
residuals are the differences of normalised fingertips and of thumb-to-finger vectors (weighted up
near pinches, as in the training objective), a linear map of the fingertip positions; their Jacobian
is that map applied to the analytic fingertip Jacobian of :class:`~xlsdk.tip_kinematics.TipKinematics`
(the hand's own pytorch-kinematics chain, evaluated in float64 numpy: one call per step for all the
candidates of every pose, where pytorch-kinematics' per-call set-up alone would cost a millisecond).
Each step solves the damped normal equations at three damping levels and projects into the joint
limits; a pose stops as soon as a step no longer lowers its cost (:mod:`xlsdk.point_fit`, the solver
the human hand's keypoint fit shares). Gauss-Newton converges in two or
three steps where projected gradient descent needs twenty.

:class:`StreamRetargeter` is the teleoperation form: one pose per call, everything that does not
depend on the pose (heads, chains, residual layout, damping) prepared once, and the previous frame's
answer offered as a second start beside the decode (the one with the lower cost is refined).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from xlsdk.arrays import answer, as_batch
from xlsdk.errors import DataFormatError
from xlsdk.geometry import HandGeometry, hand_geometry, shared_fingers
from xlsdk.hand import Hand
from xlsdk.latent.fast_head import NumpyHead
from xlsdk.latent.head_loading import load_head
from xlsdk.latent.objectives import GeometryWeights
from xlsdk.point_fit import PointLeastSquares
from xlsdk.tip_kinematics import TipKinematics

#: default Levenberg-Marquardt iterations of a refinement
REFINE_STEPS = 2


def _require_hand(hand: object, role: str) -> Hand:
    """Library functions take a :class:`Hand`; turning a name into one is the caller's (``xlsdk.load_hand``)."""
    if not isinstance(hand, Hand):
        raise TypeError(f"{role} must be a Hand, got {hand!r}: load it first with xlsdk.load_hand(name) "
                        "(xlsdk.retarget accepts names)")
    return hand


def retarget(q: Any, src: Hand, dst: Hand, *, refine: bool = False, refine_steps: int = REFINE_STEPS) -> Any:
    """Joint vectors of ``src`` (B, d_src) to joint vectors of ``dst`` (B, d_dst); numpy in, numpy out."""
    source, target = _require_hand(src, "src"), _require_hand(dst, "dst")
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


class StreamRetargeter:
    """Retarget a stream of single poses ``src -> dst`` at minimal latency (frozen heads, no autograd).

    With ``refine=True`` every pose is polished by up to ``refine_steps`` LM steps, started from the
    better (lower geometry cost) of its latent decode and the previous frame's answer: a teleoperation
    stream moves little between frames, so the previous answer is often already close.
    """

    def __init__(self, src: Hand, dst: Hand, *, refine: bool = False,
                 refine_steps: int = REFINE_STEPS) -> None:
        self.source, self.target = _require_hand(src, "src"), _require_hand(dst, "dst")
        # one pose per call: numpy passes of the frozen heads (torch's per-layer overhead dominated them)
        self._encoder = NumpyHead(load_head(self.source))
        self._decoder = NumpyHead(load_head(self.target))
        self.refine_steps = refine_steps
        self._refiner = GeometryRefiner(self.source, self.target) if refine else None
        self._previous: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the previous frame (call between unrelated streams)."""
        self._previous = None

    def __call__(self, q: np.ndarray) -> np.ndarray:
        pose = np.asarray(q, dtype=np.float64).reshape(1, -1)
        return self.from_latent(self._encoder.encode(pose), pose)

    def from_latent(self, z: np.ndarray | torch.Tensor, q_source: np.ndarray) -> np.ndarray:
        """The target's answer for latent ``z`` (1, k) already encoded from source pose ``q_source`` (1, d_src).

        For callers that encode one source pose once and decode it into several hands (the human hand
        streaming to every installed hand): the refinement still needs the source pose for its goal.
        """
        return self.from_decoded(self._decoder.decode(z.numpy() if isinstance(z, torch.Tensor) else z), q_source)

    def from_decoded(self, decoded: np.ndarray, q_source: np.ndarray) -> np.ndarray:
        """The answer for the target's decode ``(1, d)`` of source pose ``q_source``: refined if asked.

        For callers that decode several hands in one stacked pass (:class:`~xlsdk.latent.fast_head.StackedDecoders`).
        """
        if self._refiner is None:
            return decoded[0]
        starts = decoded[:, None]
        if self._previous is not None:
            starts = np.concatenate([starts, self._previous[None, None]], axis=1)
        system = self._refiner.system_from_source(np.asarray(q_source, dtype=np.float64).reshape(1, -1))
        refined = self._refiner.solve(system, starts, steps=self.refine_steps)[0]
        self._previous = refined if np.isfinite(refined).all() else None
        return refined
