"""Retargeting between any two installed hands through the shared latent.

``retarget(q, src, dst)`` is one encode and one decode: ``D_dst(E_src(q))``. With ``refine=True`` a
few projected gradient steps on the geometry objective, warm-started from that decode, polish the
result (optimizer-level accuracy for a fraction of an optimizer's cost).

Small batches (a single stream of poses from a teleoperation loop) take a numpy path through the
frozen MLPs: for one pose the per-call overhead of torch dominates the arithmetic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from xlsdk.arrays import answer, as_batch
from xlsdk.geometry import shared_fingers
from xlsdk.hand import Hand
from xlsdk.ik import descend
from xlsdk.latent.head import LatentHead
from xlsdk.latent.heads import load_head
from xlsdk.latent.objectives import GeometryWeights, geometry_loss


def _as_hand(hand: str | Hand) -> Hand:
    if isinstance(hand, Hand):
        return hand
    from xlsdk import load_hand

    return load_hand(hand)


def retarget(q: Any, src: str | Hand, dst: str | Hand, *, refine: bool = False, refine_steps: int = 20) -> Any:
    """Joint vectors of ``src`` (B, d_src) to joint vectors of ``dst`` (B, d_dst); numpy in, numpy out."""
    source, target = _as_hand(src), _as_hand(dst)
    batch, kind = as_batch(q, width=source.dof, what=f"retarget(q) from {source.name}")
    with torch.no_grad():
        z = load_head(source).encode(batch.to(torch.float32))
        decoded = load_head(target).decode(z)
    if refine:
        decoded = refine_retarget(batch.to(torch.float32), source, target, decoded, steps=refine_steps)
    return answer(decoded.to(batch.dtype), kind)


def refine_retarget(q_source: torch.Tensor, source: Hand, target: Hand, warm_start: torch.Tensor, *,
                    steps: int = 20, lr: float = 0.02, weights: GeometryWeights | None = None) -> torch.Tensor:
    """A few Adam steps on ``target``'s joints towards ``source``'s geometry, kept inside the limits."""
    weights = weights or GeometryWeights()
    fingers = shared_fingers(source.fingers, target.fingers)
    with torch.no_grad():
        goal = source.geometry(q_source).select(fingers)
    return descend(target, warm_start, lambda q: geometry_loss(target.geometry(q).select(fingers), goal, weights)
                   * q.shape[0], steps=steps, lr=lr)


class NumpyHead:
    """A frozen head's MLPs in plain numpy, for one-pose-at-a-time streams (same math as LatentHead)."""

    def __init__(self, head: LatentHead) -> None:
        def blocks(sequential: torch.nn.Sequential) -> list[tuple[np.ndarray, ...]]:
            layers = list(sequential)
            out = []
            for i in range(0, len(layers), 3):
                linear, norm = layers[i], layers[i + 1]
                out.append((linear.weight.detach().numpy().T.copy(), linear.bias.detach().numpy().copy(),
                            norm.weight.detach().numpy().copy(), norm.bias.detach().numpy().copy(), norm.eps))
            return out

        self.encoder = blocks(head.encoder)
        self.decoder = blocks(head.decoder)
        self.mean = (head.to_mean.weight.detach().numpy().T.copy(), head.to_mean.bias.detach().numpy().copy())
        self.out = (head.to_joints.weight.detach().numpy().T.copy(), head.to_joints.bias.detach().numpy().copy())
        self.lower = head.lower.numpy().astype(np.float32)
        self.upper = head.upper.numpy().astype(np.float32)

    @staticmethod
    def _run(x: np.ndarray, blocks: list[tuple[np.ndarray, ...]]) -> np.ndarray:
        for weight, bias, gamma, beta, eps in blocks:
            x = x @ weight + bias
            mu = x.mean(-1, keepdims=True)
            var = ((x - mu) ** 2).mean(-1, keepdims=True)
            x = (x - mu) / np.sqrt(var + eps) * gamma + beta
            x = x / (1.0 + np.exp(-x))  # SiLU
        return x

    def encode(self, q: np.ndarray) -> np.ndarray:
        u = 2.0 * (q - self.lower) / (self.upper - self.lower) - 1.0
        return self._run(u.astype(np.float32), self.encoder) @ self.mean[0] + self.mean[1]

    def decode(self, z: np.ndarray) -> np.ndarray:
        u = np.clip(1.05 * np.tanh(self._run(z.astype(np.float32), self.decoder) @ self.out[0] + self.out[1]), -1, 1)
        return self.lower + (u + 1.0) * 0.5 * (self.upper - self.lower)


class StreamRetargeter:
    """Retarget a stream of single poses ``src -> dst`` at minimal latency (numpy MLPs, no autograd)."""

    def __init__(self, src: str | Hand, dst: str | Hand) -> None:
        self.source, self.target = _as_hand(src), _as_hand(dst)
        self._encoder = NumpyHead(load_head(self.source))
        self._decoder = NumpyHead(load_head(self.target))

    def __call__(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q, dtype=np.float32)
        return self._decoder.decode(self._encoder.encode(q))
