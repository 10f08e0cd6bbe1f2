"""The naive baseline every retargeting result is compared with: joint-range mapping.

Each destination joint takes the *normalised position in its range* of the source joint that plays
the same role (same canonical finger, same name suffix such as ``_mcp``), or else the mean normalised
position of the source finger's joints; joints of a finger the source lacks stay mid-range. This is
what people do by hand when no geometry is involved, and what the latent must clearly beat.
"""

from __future__ import annotations

import torch

from xlsdk.hand import Hand
from xlsdk.joint_slots import joint_fingers
from xlsdk.manifest import Finger


def _suffix(name: str) -> str:
    return name.rsplit("_", 1)[-1]


def naive_retarget(q: torch.Tensor, source: Hand, target: Hand) -> torch.Tensor:
    """Map ``q`` (B, source.dof) to (B, target.dof) by normalised joint ranges."""
    lo_s, hi_s = source.lower(q.dtype, q.device), source.upper(q.dtype, q.device)
    normalised = (q - lo_s) / (hi_s - lo_s)
    owner_s, owner_t = joint_fingers(source), joint_fingers(target)
    by_finger: dict[Finger, list[int]] = {}
    for index, name in enumerate(source.joint_names):
        if name in owner_s:
            by_finger.setdefault(owner_s[name], []).append(index)
    columns = []
    for name in target.joint_names:
        finger = owner_t.get(name)
        sources = by_finger.get(finger, []) if finger is not None else []
        same_role = [i for i in sources if _suffix(source.joint_names[i]) == _suffix(name)]
        if same_role:
            columns.append(normalised[:, same_role[0]])
        elif sources:
            columns.append(normalised[:, sources].mean(dim=1))
        else:
            columns.append(torch.full_like(normalised[:, 0], 0.5))
    t = torch.stack(columns, dim=1)
    lo_t, hi_t = target.lower(q.dtype, q.device), target.upper(q.dtype, q.device)
    return lo_t + t * (hi_t - lo_t)
