"""Joint samples the latent trains and is evaluated on: uniform in the limits plus grasp-like poses.

Uniform samples alone almost never bring the thumb to a fingertip, yet pinches are what manipulation
uses and what the retargeting loss must get right. So a share of every batch is grasp-like, built for
any hand from its kinematics alone (no hand-specific tables):

* **pinch**: IK brings the thumb tip onto one other fingertip (a bank per finger, solved once);
* **tripod**: IK brings the thumb tip between the index and middle tips;
* **close**: every flexion joint closes by one shared amount plus per-finger jitter. Which way a joint
  closes is measured, not assumed: the sign in which it moves the fingertips toward the palm normal.

Banks get small Gaussian noise when drawn. Everything is seeded: the same hand and seed give the
same samples. The IK runs in float64 unless the sampler is given ``ik_dtype=torch.float32``: about
twice as fast per FK call, and precise far beyond the 5 %-of-reach pinch tolerance, so ``xlsdk fit``
(which pays the solve inside its time budget) uses it; evaluation and core training keep float64,
so what ``xlsdk check`` measures is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from xlsdk.hand import Hand
from xlsdk.ik import descend

_BANK_SIZE = 256
_IK_STEPS = 250
# IK banks are pure functions of (hand kinematics, seed, IK precision): solved once per process, shared read-only
_BANKS: dict[tuple[str, int, torch.dtype], dict[str, torch.Tensor]] = {}


@dataclass(frozen=True)
class SampleMix:
    """Shares of a batch (normalised on use)."""

    uniform: float = 0.5
    pinch: float = 0.25
    tripod: float = 0.1
    close: float = 0.15


class PoseSampler:
    """Seeded sampler of one hand's joint space (float32, CPU; move batches where you need them)."""

    def __init__(self, hand: Hand, *, seed: int = 0, mix: SampleMix | None = None, noise: float = 0.04,
                 ik_dtype: torch.dtype = torch.float64) -> None:
        self.hand = hand
        self.ik_dtype = ik_dtype
        self.mix = mix or SampleMix()
        self.noise = noise
        self.generator = torch.Generator().manual_seed(seed)
        self._seed = seed
        self._banks: dict[str, torch.Tensor] | None = None
        self._closing: torch.Tensor | None = None
        self.lower = hand.lower(torch.float32)
        self.upper = hand.upper(torch.float32)

    # --- public ------------------------------------------------------------------------------------

    def uniform(self, n: int) -> torch.Tensor:
        return self.hand.sample(n, self.generator)

    def sample(self, n: int) -> torch.Tensor:
        """A shuffled batch of ``n`` poses following the mix."""
        shares = torch.tensor([self.mix.uniform, self.mix.pinch, self.mix.tripod, self.mix.close])
        counts = torch.floor(shares / shares.sum() * n).long()
        counts[0] += n - int(counts.sum())
        parts = [self.uniform(int(counts[0]))]
        if counts[1] > 0:
            parts.append(self._from_bank("pinch", int(counts[1])))
        if counts[2] > 0:
            parts.append(self._from_bank("tripod", int(counts[2])))
        if counts[3] > 0:
            parts.append(self.closing(int(counts[3])))
        batch = torch.cat(parts)
        return batch[torch.randperm(n, generator=self.generator)]

    def grasps(self, n: int) -> torch.Tensor:
        """Only grasp-like poses (pinch, tripod and closing in the mix's proportions)."""
        shares = torch.tensor([self.mix.pinch, self.mix.tripod, self.mix.close])
        counts = torch.floor(shares / shares.sum() * n).long()
        counts[0] += n - int(counts.sum())
        batch = torch.cat([self._from_bank("pinch", int(counts[0])), self._from_bank("tripod", int(counts[1])),
                           self.closing(int(counts[2]))])
        return batch[torch.randperm(n, generator=self.generator)]

    def pinches(self, n: int) -> torch.Tensor:
        return self._from_bank("pinch", n)

    def closing(self, n: int) -> torch.Tensor:
        """Correlated closing: flexion joints share a closure level; other joints stay uniform."""
        direction = self.closing_directions()
        uniform = self.uniform(n)
        level = torch.rand(n, 1, generator=self.generator)
        jitter = 0.15 * torch.randn(n, self.hand.dof, generator=self.generator)
        closure = (level + jitter).clamp(0.0, 1.0)
        open_end = torch.where(direction > 0, self.lower, self.upper)
        closed_end = torch.where(direction > 0, self.upper, self.lower)
        closed = open_end + closure * (closed_end - open_end)
        return torch.where(direction != 0, closed, uniform)

    def closing_directions(self) -> torch.Tensor:
        """Per joint: +1 if increasing it closes the hand, -1 if it opens it, 0 if it does neither much.

        Each joint is swept across its range from the zero pose. It *closes* when it brings the
        fingertips it moves toward a grasp point in front of the palm (knuckle centre + reach *
        (0, 0.8, -0.4): palm side, toward the wrist), whatever the joint's sign convention. Abduction
        joints barely change that distance and stay uniform in the "close" samples.
        """
        if self._closing is None:
            hand = self.hand
            dtype = torch.float64
            lower, upper = hand.lower(dtype), hand.upper(dtype)
            base = torch.tensor(hand.zero_pose(), dtype=dtype)
            center = torch.tensor(hand.scale.knuckle_center, dtype=dtype)
            anchors = center + hand.scale.reach * torch.tensor([0.0, 0.8, -0.4], dtype=dtype)
            sweeps = base.repeat(2 * hand.dof, 1)
            for joint in range(hand.dof):
                sweeps[2 * joint, joint] = lower[joint]
                sweeps[2 * joint + 1, joint] = upper[joint]
            with torch.no_grad():
                tips = hand.kinematics.fingertips(sweeps).reshape(hand.dof, 2, len(hand.fingers), 3)
            reach = (tips - anchors).norm(dim=-1)  # (dof, 2, F)
            change = (reach[:, 1] - reach[:, 0]).sum(dim=-1)
            motion = (tips[:, 1] - tips[:, 0]).norm(dim=-1).sum(dim=-1)
            closes = change.abs() > 0.25 * motion
            self._closing = torch.where(closes, -torch.sign(change), torch.zeros_like(change)).to(torch.float32)
        return self._closing

    # --- banks --------------------------------------------------------------------------------------

    def _from_bank(self, kind: str, n: int) -> torch.Tensor:
        bank = self.banks()[kind]
        index = torch.randint(0, bank.shape[0], (n,), generator=self.generator)
        noise = self.noise * (self.upper - self.lower) * torch.randn(n, self.hand.dof, generator=self.generator)
        return torch.clamp(bank[index] + noise, self.lower, self.upper)

    def banks(self) -> dict[str, torch.Tensor]:
        """The pinch and tripod banks of this hand and seed (solved on first use, then shared)."""
        if self._banks is None:
            key = (self.hand.spec.digest, self._seed, self.ik_dtype)
            if key not in _BANKS:
                _BANKS[key] = self._solve_banks()
            self._banks = _BANKS[key]
        return self._banks

    def _solve_banks(self) -> dict[str, torch.Tensor]:
        """Both banks from one descent: the pinch rows and the tripod rows go through FK as one batch.

        Rows are independent (the cost is a sum over rows, Adam is per element, the projection per
        joint), so this solves exactly the two problems :meth:`_pinch_problem` and :meth:`_tripod_cost`
        describe, each as if alone, with half the FK calls (each call has a fixed cost that a larger
        batch shares).
        """
        pinch_start, pinch_cost, pinch_pick = self._pinch_problem()
        tripod_start, tripod_cost = self._starts(_BANK_SIZE // 2), self._tripod_cost()
        split = pinch_start.shape[0]

        def cost(tips: torch.Tensor) -> torch.Tensor:
            return torch.cat([pinch_cost(tips[:split]), tripod_cost(tips[split:])])

        q, final = self._descend(torch.cat([pinch_start, tripod_start]), cost)
        return {"pinch": pinch_pick(q[:split], final[:split]),
                "tripod": self._best(q[split:], final[split:], _BANK_SIZE // 2)[0]}

    def _pinch_problem(self):  # noqa: ANN202 - (starts, fingertip cost, solutions -> bank)
        """Thumb-onto-finger IK per finger, keeping only real pinches (tips within 5 % of the reach).

        A finger the thumb cannot reach on this hand (the Inspire's thumb never meets its little finger)
        contributes nothing rather than failed solutions; if no finger can be pinched, the closest
        attempts are kept so the bank is never empty. Every finger starts from the same random poses
        and all fingers descend in one batch (rows are independent: Adam is per element), so FK runs
        once per step instead of once per finger and step.
        """
        fingers = self.hand.fingers
        others = list(range(1, len(fingers)))
        per_finger = max(_BANK_SIZE // len(others), 16)
        tolerance = 0.05 * self.hand.scale.reach
        start = self._starts(per_finger)
        target = torch.tensor(others).repeat_interleave(start.shape[0])  # the finger each row pinches
        rows = torch.arange(target.shape[0])

        def cost(tips: torch.Tensor) -> torch.Tensor:
            return (tips[:, 0] - tips[rows, target]).norm(dim=-1)

        def pick(q: torch.Tensor, final: torch.Tensor) -> torch.Tensor:
            kept, fallback = [], []
            for block in range(len(others)):
                chosen = slice(block * start.shape[0], (block + 1) * start.shape[0])
                solutions, costs = self._best(q[chosen], final[chosen], per_finger)
                kept.append(solutions[costs < tolerance])
                fallback.append(solutions[: max(1, per_finger // 8)])
            bank = torch.cat(kept)
            return bank if bank.shape[0] >= 8 else torch.cat(fallback)

        return start.repeat(len(others), 1), cost, pick

    def _tripod_cost(self):  # noqa: ANN202 - a fingertip cost
        """Thumb tip between the index and middle tips (or the first two non-thumb fingers)."""
        fingers = self.hand.fingers
        pair = [fingers.index(f) for f in ("index", "middle") if f in fingers]
        if len(pair) < 2:
            pair = list(range(1, min(3, len(fingers))))

        def cost(tips: torch.Tensor) -> torch.Tensor:
            between = tips[:, pair].mean(dim=1)
            return (tips[:, 0] - between).norm(dim=-1) + 0.5 * (tips[:, pair[0]] - tips[:, pair[-1]]).norm(dim=-1)

        return cost

    def _starts(self, n: int) -> torch.Tensor:
        """``2n`` random poses in the limits (``ik_dtype``), seeded by this sampler's seed and ``n``."""
        generator = torch.Generator().manual_seed(self._seed * 7919 + n)
        lower, upper = self.hand.lower(torch.float64), self.hand.upper(torch.float64)
        starts = lower + (upper - lower) * torch.rand(2 * n, self.hand.dof, generator=generator, dtype=torch.float64)
        return starts.to(self.ik_dtype)

    def _descend(self, start: torch.Tensor, cost_fn) -> tuple[torch.Tensor, torch.Tensor]:  # noqa: ANN001
        """Projected-gradient IK from ``start``; the solutions and their final costs."""
        fingertips = self.hand.kinematics.fingertips
        q = descend(self.hand, start, lambda x: cost_fn(fingertips(x)), steps=_IK_STEPS, lr=0.03)
        with torch.no_grad():
            return q, cost_fn(fingertips(q))

    @staticmethod
    def _best(q: torch.Tensor, cost: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``n`` lowest-cost solutions, best first, as float32."""
        best = torch.argsort(cost)[:n]
        return q[best].to(torch.float32), cost[best].to(torch.float32)
