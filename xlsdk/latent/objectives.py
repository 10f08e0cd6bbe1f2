"""The losses that tie hands together in one latent, without paired data.

For two hands compared on the fingers they share (geometry from :mod:`xlsdk.geometry`):

* **tips**: squared distance between normalised fingertip positions;
* **vectors**: squared difference of thumb-to-finger vectors, weighted up near pinches with
  ``vector_base + pinch_boost * exp(-d_target / pinch_sigma)`` so that a pinch stays a pinch;
* **direction**: ``1 - cos`` of the thumb-to-finger vectors, same weighting.

Plus the per-hand terms: reconstruction in normalised joint space and the KL of the posterior to N(0, I).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from xlsdk.geometry import HandGeometry, shared_fingers


@dataclass(frozen=True)
class GeometryWeights:
    tips: float = 2.0
    vectors: float = 1.0
    direction: float = 0.2
    pinch_boost: float = 3.0
    pinch_sigma: float = 0.2
    vector_base: float = 1.0  # weight of the vector and direction terms away from pinches


def pinch_weight(target: HandGeometry, weights: GeometryWeights) -> torch.Tensor:
    return weights.vector_base + weights.pinch_boost * torch.exp(-target.thumb_distances / weights.pinch_sigma)


def geometry_loss(pred: HandGeometry, target: HandGeometry, weights: GeometryWeights) -> torch.Tensor:
    """Scalar loss between two geometries restricted to the same fingers."""
    tips = ((pred.tips - target.tips) ** 2).sum(-1).mean()
    w = pinch_weight(target, weights)
    vectors = (w * ((pred.thumb_vectors - target.thumb_vectors) ** 2).sum(-1)).mean()
    cosine = torch.nn.functional.cosine_similarity(pred.thumb_vectors, target.thumb_vectors, dim=-1, eps=1e-6)
    direction = (w * (1.0 - cosine)).mean()
    return weights.tips * tips + weights.vectors * vectors + weights.direction * direction


def pair_geometry_loss(pred: HandGeometry, target: HandGeometry, weights: GeometryWeights) -> torch.Tensor:
    """:func:`geometry_loss` between two hands' geometries, on the fingers both have."""
    fingers = shared_fingers(pred.fingers, target.fingers)
    return geometry_loss(pred.select(fingers), target.select(fingers), weights)


def tip_error(pred: HandGeometry, target: HandGeometry) -> torch.Tensor:
    """Per-sample mean distance between normalised fingertips (reach units), shape (B,)."""
    return (pred.tips - target.tips).norm(dim=-1).mean(dim=-1)


def reconstruction_loss(normalised_pred: torch.Tensor, normalised_target: torch.Tensor) -> torch.Tensor:
    return ((normalised_pred - normalised_target) ** 2).mean()


def kl_divergence(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)), averaged over the batch."""
    return 0.5 * (mean.pow(2) + log_var.exp() - 1.0 - log_var).sum(-1).mean()
