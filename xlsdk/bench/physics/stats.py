"""Success rates with their uncertainty: the mean over seeds, the spread between seeds, a Wilson interval.

A success rate from 20 episodes is a binomial estimate: 0.8 could be anything from 0.58 to 0.92. The
**Wilson score interval** (95 %) on the episodes pooled over seeds says how far the number can be
trusted (it stays inside [0, 1] and behaves at 0 and 1, unlike the normal approximation); the spread
over seeds says how much training itself varies. Both are reported for every cell and split.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

Z95 = 1.959963984540054


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` in ``trials`` (``(0, 1)`` when there are no trials)."""
    if trials <= 0:
        return (0.0, 1.0)
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


class Rate(BaseModel):
    """A success rate over seeds: ``mean`` of the per-seed rates, their ``spread`` (population standard
    deviation), and ``ci95``, the Wilson interval of all episodes pooled."""

    model_config = ConfigDict(frozen=True)
    mean: float
    spread: float
    ci95: tuple[float, float]
    per_seed: list[float]
    successes: int = Field(ge=0)
    trials: int = Field(ge=0)

    @classmethod
    def of(cls, counts: list[tuple[int, int]]) -> Rate:
        """From (successes, trials) per seed; seeds with no trials (a hand an arm cannot drive) are left out."""
        counted = [(s, t) for s, t in counts if t > 0]
        rates = [s / t for s, t in counted]
        if not rates:
            return cls(mean=float("nan"), spread=float("nan"), ci95=(0.0, 1.0), per_seed=[], successes=0, trials=0)
        mean = sum(rates) / len(rates)
        spread = math.sqrt(sum((r - mean) ** 2 for r in rates) / len(rates))
        successes, trials = sum(s for s, _ in counted), sum(t for _, t in counted)
        low, high = wilson(successes, trials)
        return cls(mean=round(mean, 4), spread=round(spread, 4), ci95=(round(low, 4), round(high, 4)),
                   per_seed=[round(r, 4) for r in rates], successes=successes, trials=trials)

    def text(self) -> str:
        if not math.isfinite(self.mean):
            return "n/a"
        return f"{self.mean:.2f} [{self.ci95[0]:.2f}, {self.ci95[1]:.2f}]"
