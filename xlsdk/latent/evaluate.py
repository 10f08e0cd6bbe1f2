"""``xlsdk latent eval``: how good is a latent, per hand and per hand pair, on held-out poses.

* **reconstruction**: mean absolute joint error of ``D_h(E_h(q))`` in radians (uniform and grasp poses);
* **cross-hand geometry error** for ``a -> b``: mean distance between normalised fingertips of
  ``G_b(D_b(E_a(q_a)))`` and ``G_a(q_a)`` on shared fingers, also in millimetres at ``b``'s scale,
  next to the same number for the naive joint-range mapping;
* **pinch consistency**: of the source poses that are pinches (thumb within 0.15 reach of a
  fingertip), the share that are still pinches (within 0.25 reach) after retargeting;
* **smoothness**: decode 32 evenly spaced latents between two poses' latents; the largest fingertip
  step relative to the mean step (1.0 = perfectly even path; large = a jump);
* **reachable floor** (``floor=True``): for the same source poses, the smallest fingertip error any
  joint vector of the target reaches, by Levenberg-Marquardt on the target's fingertips from the
  latent's answer, the naive mapping and random poses (the lowest wins, per pose). It is what the
  target's kinematics allow: a three-finger gripper cannot put its fingertips where a five-finger
  hand's go, whatever the latent does, and the floor says how far off the best joint vector stays.

Held-out means drawn with another seed than training (different uniform samples and IK banks).
"""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict

from xlsdk.geometry import shared_fingers
from xlsdk.hand import Hand
from xlsdk.latent.head_network import LatentHead
from xlsdk.latent.naive import naive_retarget
from xlsdk.latent.objectives import tip_error
from xlsdk.latent.refine import reachable_poses
from xlsdk.latent.sampling import PoseSampler

PINCH_IN = 0.15
PINCH_KEPT = 0.25
_PATH_STEPS = 32


class HandMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)
    hand: str
    dof: int
    recon_rad: float
    recon_rad_uniform: float
    recon_rad_grasp: float
    recon_rad_max_joint: float


class PairMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)
    source: str
    target: str
    fingers: tuple[str, ...]
    geometry_error: float
    geometry_error_mm: float
    naive_error: float
    naive_error_mm: float
    pinch_kept: float
    naive_pinch_kept: float
    pinch_count: int
    smoothness: float
    floor_error: float | None = None  # reachable floor (reach units), when asked for


class LatentReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    hands: list[HandMetrics]
    pairs: list[PairMetrics]

    def summary(self) -> dict:
        """The compact form stored in a core latent's manifest and printed by ``xlsdk latent info``."""
        pairs = self.pairs
        mean = lambda values: float(sum(values) / max(len(values), 1))  # noqa: E731
        return {
            "recon_rad": {h.hand: round(h.recon_rad, 5) for h in self.hands},
            "geometry_error": round(mean([p.geometry_error for p in pairs]), 5),
            "geometry_error_mm": round(mean([p.geometry_error_mm for p in pairs]), 3),
            "naive_error": round(mean([p.naive_error for p in pairs]), 5),
            "naive_error_mm": round(mean([p.naive_error_mm for p in pairs]), 3),
            "pinch_kept": round(mean([p.pinch_kept for p in pairs]), 4),
            "naive_pinch_kept": round(mean([p.naive_pinch_kept for p in pairs]), 4),
            "smoothness": round(mean([p.smoothness for p in pairs]), 3),
        }


@torch.no_grad()
def evaluate_latent(hands: dict[str, Hand], heads: dict[str, LatentHead] | None = None, *, n: int = 1024,
                    seed: int = 12345, sources: list[str] | None = None, targets: list[str] | None = None,
                    floor: bool = False) -> LatentReport:
    """Metrics for every hand and every ordered pair (restricted by ``sources``/``targets``).

    ``floor=True`` adds each pair's reachable floor (a few seconds of IK per pair).

    ``heads`` defaults to each hand's installed, verified head (:func:`~xlsdk.latent.head_loading.load_head`);
    training passes the heads it is evaluating.
    """
    if heads is None:
        from xlsdk.latent.head_loading import load_head

        heads = {name: load_head(hand) for name, hand in hands.items()}
    poses: dict[str, dict[str, torch.Tensor]] = {}
    for index, (name, hand) in enumerate(hands.items()):
        sampler = PoseSampler(hand, seed=seed + 7 * index)
        poses[name] = {"uniform": sampler.uniform(n // 2), "grasp": sampler.grasps(n // 2),
                       "pinch": sampler.pinches(n // 2)}
    hand_metrics = [_hand_metrics(hand, heads[name], poses[name]) for name, hand in hands.items()]
    pair_metrics = []
    for source in sources or list(hands):
        for target in targets or list(hands):
            if source != target:
                pair_metrics.append(_pair_metrics(hands[source], hands[target], heads[source], heads[target],
                                                  poses[source], floor=floor))
    return LatentReport(hands=hand_metrics, pairs=pair_metrics)


def _hand_metrics(hand: Hand, head: LatentHead, poses: dict[str, torch.Tensor]) -> HandMetrics:
    errors = {kind: (head(q) - q).abs() for kind, q in poses.items() if kind in ("uniform", "grasp")}
    both = torch.cat(list(errors.values()))
    return HandMetrics(
        hand=hand.name, dof=hand.dof, recon_rad=float(both.mean()),
        recon_rad_uniform=float(errors["uniform"].mean()), recon_rad_grasp=float(errors["grasp"].mean()),
        recon_rad_max_joint=float(both.mean(dim=0).max()),
    )


def _pair_metrics(source: Hand, target: Hand, source_head: LatentHead, target_head: LatentHead,
                  poses: dict[str, torch.Tensor], *, floor: bool = False) -> PairMetrics:
    fingers = shared_fingers(source.fingers, target.fingers)
    q = torch.cat([poses["uniform"], poses["grasp"]])
    reference = source.geometry(q).select(fingers)
    decoded = target_head.decode(source_head.encode(q))
    naive = naive_retarget(q, source, target)
    latent_errors = tip_error(target.geometry(decoded).select(fingers), reference)
    latent_error = latent_errors.mean()
    naive_error = tip_error(target.geometry(naive).select(fingers), reference).mean()
    floor_error = None
    if floor:
        floor_error = float(reachable_error(source, target, q, [decoded, naive], known=latent_errors).mean())
    kept, naive_kept, count = _pinch_consistency(source, target, source_head, target_head, poses["pinch"], fingers)
    scale_mm = target.scale.reach * 1000.0
    return PairMetrics(
        source=source.name, target=target.name, fingers=fingers,
        geometry_error=float(latent_error), geometry_error_mm=float(latent_error) * scale_mm,
        naive_error=float(naive_error), naive_error_mm=float(naive_error) * scale_mm,
        pinch_kept=kept, naive_pinch_kept=naive_kept, pinch_count=count,
        smoothness=_smoothness(target, source_head, target_head, q, fingers), floor_error=floor_error,
    )


def reachable_error(source: Hand, target: Hand, q_source: torch.Tensor, starts: list[torch.Tensor], *,
                    known: torch.Tensor | None = None, seed: int = 0) -> torch.Tensor:
    """Per source pose, the smallest fingertip error (reach units, :func:`tip_error`) found on ``target``.

    The errors of :func:`reachable_poses`; ``known`` (errors already reached, e.g. the latent's) bounds
    them from above, so the floor is never worse than an answer in hand.
    """
    errors = reachable_poses(source, target, q_source, starts, seed=seed)[1]
    return errors if known is None else torch.minimum(errors, known.to(errors.dtype))


def _pinch_consistency(source: Hand, target: Hand, source_head: LatentHead, target_head: LatentHead,
                       pinches: torch.Tensor, fingers: tuple[str, ...]) -> tuple[float, float, int]:
    geometry = source.geometry(pinches).select(fingers)
    closest, finger = geometry.thumb_distances.min(dim=1)
    chosen = closest < PINCH_IN
    if not bool(chosen.any()):
        return 1.0, 1.0, 0
    q = pinches[chosen]
    finger = finger[chosen]
    rows = torch.arange(q.shape[0])
    latent = target.geometry(target_head.decode(source_head.encode(q))).select(fingers).thumb_distances[rows, finger]
    naive = target.geometry(naive_retarget(q, source, target)).select(fingers).thumb_distances[rows, finger]
    return float((latent < PINCH_KEPT).float().mean()), float((naive < PINCH_KEPT).float().mean()), int(q.shape[0])


def _smoothness(target: Hand, source_head: LatentHead, target_head: LatentHead, q: torch.Tensor,
                fingers: tuple[str, ...], pairs: int = 32) -> float:
    generator = torch.Generator().manual_seed(0)
    index = torch.randint(0, q.shape[0], (pairs, 2), generator=generator)
    z = source_head.encode(q)
    alphas = torch.linspace(0.0, 1.0, _PATH_STEPS)[None, :, None]
    path = z[index[:, 0]][:, None] * (1 - alphas) + z[index[:, 1]][:, None] * alphas  # (P, S, k)
    decoded = target_head.decode(path.reshape(-1, z.shape[-1]))
    tips = target.geometry(decoded).select(fingers).tips.reshape(pairs, _PATH_STEPS, -1)
    steps = (tips[:, 1:] - tips[:, :-1]).norm(dim=-1)  # (P, S-1)
    mean_step = steps.mean(dim=1).clamp_min(1e-6)
    return float((steps.max(dim=1).values / mean_step).mean())
