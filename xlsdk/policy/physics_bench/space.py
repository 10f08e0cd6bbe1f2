"""One policy action = a wrist command + a hand action, for every hand.

:class:`WristHandSpace` wraps an :class:`~xlsdk.policy.action_space.ActionSpace` (the shared latent, or
raw joints padded to the widest hand): the first 6 entries are the wrist pose, scaled to about [-1, 1]
by fixed workspace constants (the same for every hand), the rest is the hand's part in the wrapped
space. A latent policy's hand part is decoded by the attached hand's frozen head, so a hand the policy
never saw is driven through its own head.
"""

from __future__ import annotations

import numpy as np
import torch

from xlsdk.hand import Hand
from xlsdk.policy.action_space import ActionSpace
from xlsdk.policy.physics_bench.dataset import WRIST_DIM

#: palm-frame pose normalisation: (pose - centre) / scale puts the benchmark's wrist motions in about [-1, 1]
WRIST_CENTRE = torch.tensor([0.0, 0.0, 0.15, 0.0, 0.0, 0.0])
WRIST_SCALE = torch.tensor([0.15, 0.15, 0.15, np.pi / 2, np.pi / 2, np.pi])


class WristHandSpace:
    def __init__(self, hand_space: ActionSpace) -> None:
        self.hand_space = hand_space
        self.name = hand_space.name
        self.dim = WRIST_DIM + hand_space.dim

    def encode(self, hand: Hand, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x).float()
        wrist = (x[..., :WRIST_DIM] - WRIST_CENTRE) / WRIST_SCALE
        return torch.cat([wrist, self.hand_space.encode(hand, x[..., WRIST_DIM:])], dim=-1)

    def decode(self, hand: Hand, a: torch.Tensor) -> torch.Tensor:
        a = torch.as_tensor(a).float()
        wrist = a[..., :WRIST_DIM] * WRIST_SCALE + WRIST_CENTRE
        return torch.cat([wrist, self.hand_space.decode(hand, a[..., WRIST_DIM:]).float()], dim=-1)
