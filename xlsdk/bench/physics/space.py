"""One policy action = a wrist command + a hand action, for every hand.

:class:`WristHandSpace` wraps an :class:`~xlsdk.policy.action_space.ActionSpace` (the shared latent, or
raw joints padded to the widest hand): the first 6 entries are the wrist pose, scaled by fixed
workspace constants (the same for every hand), the rest is the hand's part in the wrapped space. A
latent policy's hand part is decoded by the attached hand's frozen head, so a hand the policy never
saw is driven through its own head.

The wrist *position* of an action is relative (:func:`relative_wrist`): the target minus the wrist
position measured when the chunk was predicted. The policy sees through the wrist camera, which shows
where the object is relative to the hand, so "how far to move" is what the image tells, while an
absolute target would also have to be added to the current pose inside the network. The wrist
*rotation* stays absolute: the tasks' orientations are fixed poses (palm down, fingers down, side
grasp), and relative rotations would integrate every chunk's small error into a drift.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch

from xlsdk.hand import Hand
from xlsdk.policy.action_space import ActionSpace
from xlsdk.physics.world_spec import WRIST_JOINTS

WRIST_DIM = len(WRIST_JOINTS)

#: palm-frame pose normalisation: (pose - centre) / scale. 5 cm per unit for the position, so that the
#: centimetre that decides a pinch is a visible share of the regression loss (shared with the hand part)
WRIST_CENTRE = torch.tensor([0.0, 0.0, 0.15, 0.0, 0.0, 0.0])
WRIST_SCALE = torch.tensor([0.05, 0.05, 0.05, np.pi / 4, np.pi / 4, np.pi / 2])
#: the wrist entries an action gives relative to the measured wrist (x, y, z)
RELATIVE = 3


class WristHandSpace:
    def __init__(self, hand_space: ActionSpace) -> None:
        self.hand_space = hand_space
        self.name = hand_space.name
        self.dim = WRIST_DIM + hand_space.dim

    def encode(self, hand: Hand, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x).float()
        wrist = (x[..., :WRIST_DIM] - WRIST_CENTRE) / WRIST_SCALE
        return torch.cat([wrist, self.hand_space.encode(hand, x[..., WRIST_DIM:])], dim=-1)

    def mask(self, hand: Hand) -> torch.Tensor | None:
        """Which entries ``hand`` fills (the wrist always), where the wrapped space can leave some empty."""
        inner = getattr(self.hand_space, "mask", None)
        if inner is None:
            return None
        return torch.cat([torch.ones(WRIST_DIM, dtype=torch.bool), inner(hand)])

    def decode(self, hand: Hand, a: torch.Tensor) -> torch.Tensor:
        a = torch.as_tensor(a).float()
        wrist = a[..., :WRIST_DIM] * WRIST_SCALE + WRIST_CENTRE
        return torch.cat([wrist, self.hand_space.decode(hand, a[..., WRIST_DIM:]).float()], dim=-1)


def relative_wrist(frames: Any) -> Any:
    """The demo frames with each action chunk's wrist position made relative to the frame's measured one.

    Stored as ``centre + (target - measured)``, so the states' normalisation (:class:`WristHandSpace`)
    maps "stay where you are" to zero; :func:`absolute_wrist` undoes it when a policy acts.
    """
    actions = []
    for state, chunk in zip(frames.states, frames.actions, strict=True):
        chunk = chunk.clone()
        chunk[:, :RELATIVE] += WRIST_CENTRE[:RELATIVE] - state[-1, :RELATIVE]
        actions.append(chunk)
    return replace(frames, actions=actions)


def absolute_wrist(command: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """A decoded command (6 + dof) whose wrist position is relative to ``anchor`` (the measured wrist when
    its chunk was predicted) -> the absolute command the world takes."""
    command = np.array(command, dtype=np.float64)
    command[:RELATIVE] += np.asarray(anchor[:RELATIVE]) - WRIST_CENTRE[:RELATIVE].numpy()
    return command
