"""Retargeting between any two installed hands through the shared latent.

``retarget(q, src, dst)`` is one encode and one decode: ``D_dst(E_src(q))``. With ``refine=True`` a
few Levenberg-Marquardt steps on the fingertip geometry, warm-started from that decode, polish the
result (optimizer-level accuracy for a fraction of an optimizer's cost).

The refinement is :class:`~xlsdk.latent.refine.GeometryRefiner` (:mod:`xlsdk.latent.refine`, the solver
the fit and the evaluator share).

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
from xlsdk.hand import Hand
from xlsdk.latent.fast_head import NumpyHead
from xlsdk.latent.head_loading import load_head
from xlsdk.latent.objectives import GeometryWeights
from xlsdk.latent.refine import REFINE_STEPS, GeometryRefiner



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
