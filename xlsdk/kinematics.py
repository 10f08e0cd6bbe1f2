"""Differentiable, batched forward kinematics of the fingertips, on pytorch-kinematics.

pytorch-kinematics builds the chain from the URDF but treats mimic joints as independent parameters
(given only the actuated joints, a mimic joint with multiplier 1.2 moves as if it were 1.0). So the
actuated vector is expanded here, ``q_full = A q + b``, with ``A``/``b`` built from the resolved mimic
terms of :class:`~xlsdk.hand_spec.HandSpec`; the chain only ever sees full joint vectors.

Output frame: the xlsdk palm frame (see :class:`xlsdk.manifest.PalmFrame`), metres::

             +Z (toward the fingertips)
              ^
              |   index middle ring little      (right hand seen from the palm side)
              |     |     |     |     |
     thumb    |     +-----+-----+-----+   <- knuckles
       \\      |     |                 |
        \\     |     |      palm       |
         +----O-----+-----------------+---> +X (toward the little finger)
             /  wrist mount (origin)
            v
          +Y  palm normal: the side the fingers curl toward
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from xlsdk.errors import ShapeError
from xlsdk.hand_spec import HandSpec
from xlsdk.transforms import rpy_matrix

if TYPE_CHECKING:  # torch and pytorch-kinematics load when a chain is built, not when xlsdk starts
    import pytorch_kinematics as pk
    import torch


@dataclass(frozen=True)
class _Chain:
    chain: pk.Chain
    expand: torch.Tensor  # (n_full, d)
    bias: torch.Tensor  # (n_full,)
    tip_frames: torch.Tensor  # (F,) frame indices
    tip_offsets: torch.Tensor  # (F, 3)
    palm_frame: int
    palm_is_identity: bool
    palm_rotation: torch.Tensor  # (3, 3) xlsdk palm frame in palm link
    palm_translation: torch.Tensor  # (3,)


class FingertipKinematics:
    """Fingertip positions of one hand for batches of actuated joint vectors, differentiable in ``q``.

    ``fingertips(q)`` takes ``q`` of shape ``(B, d)`` (actuated joints in command order) and returns
    ``(B, F, 3)``: the canonical fingertips the hand declares, in canonical order, in the xlsdk palm
    frame, in metres. Works on any device and floating dtype; one chain is built per (dtype, device).
    """

    def __init__(self, spec: HandSpec) -> None:
        import torch

        self.spec = spec
        self._chains: dict[tuple[torch.dtype, torch.device], _Chain] = {}
        self.full_joint_names: tuple[str, ...] = tuple(self._build(torch.float64, torch.device("cpu")).chain.get_joint_parameter_names())

    def fingertips(self, q: torch.Tensor) -> torch.Tensor:
        built = self._chain_for(q)
        squeeze = q.ndim == 1
        q2 = q.unsqueeze(0) if squeeze else q
        if q2.shape[-1] != self.spec.dof:
            raise ShapeError(f"{self.spec.name}: expected q with {self.spec.dof} joints, got shape {tuple(q.shape)}")
        q_full = q2 @ built.expand.T + built.bias
        transforms = built.chain.forward_kinematics_tensor(q_full)  # (frames, B, 4, 4)
        tips = transforms[built.tip_frames]  # (F, B, 4, 4)
        points = (tips[..., :3, :3] @ built.tip_offsets[:, None, :, None]).squeeze(-1) + tips[..., :3, 3]
        points = points.transpose(0, 1)  # (B, F, 3)
        if not built.palm_is_identity:
            palm = transforms[built.palm_frame]  # (B, 4, 4)
            rotation, translation = palm[:, :3, :3], palm[:, :3, 3]
            points = (points - translation[:, None, :]) @ rotation
        points = (points - built.palm_translation) @ built.palm_rotation
        return points[0] if squeeze else points

    def expand(self, q: torch.Tensor) -> torch.Tensor:
        """Actuated ``(B, d)`` to the full joint vector ``(B, n_full)`` in :attr:`full_joint_names` order."""
        built = self._chain_for(q)
        return q @ built.expand.T + built.bias

    def link_poses(self, q: torch.Tensor, links: list[str]) -> torch.Tensor:
        """Poses ``(B, L, 4, 4)`` of the named links in the xlsdk palm frame (for viewers and simulators)."""
        built = self._chain_for(q)
        q_full = q @ built.expand.T + built.bias
        transforms = built.chain.forward_kinematics_tensor(q_full)
        indices = built.chain.get_frame_indices(*links)
        poses = transforms[indices].transpose(0, 1)  # (B, L, 4, 4)
        palm = transforms[built.palm_frame]
        import torch

        to_palm = torch.linalg.inv(palm)
        frame = torch.eye(4, dtype=q.dtype, device=q.device)
        frame[:3, :3] = built.palm_rotation
        frame[:3, 3] = built.palm_translation
        to_xlsdk = torch.linalg.inv(frame)
        return to_xlsdk @ to_palm[:, None] @ poses

    def _chain_for(self, q: torch.Tensor) -> _Chain:
        import torch

        if not torch.is_floating_point(q):
            raise ShapeError(f"joint vectors must be floating point, got {q.dtype}")
        key = (q.dtype, q.device)
        if key not in self._chains:
            self._chains[key] = self._build(q.dtype, q.device)
        return self._chains[key]

    def _build(self, dtype: torch.dtype, device: torch.device) -> _Chain:
        key = (dtype, device)
        if key in self._chains:
            return self._chains[key]
        import pytorch_kinematics as pk
        import torch

        spec = self.spec
        chain = pk.build_chain_from_urdf(spec.urdf.text.encode("utf-8")).to(dtype=dtype, device=device)
        names = chain.get_joint_parameter_names()
        expand = torch.zeros(len(names), spec.dof, dtype=dtype)
        bias = torch.zeros(len(names), dtype=dtype)
        for row, name in enumerate(names):
            column, multiplier, offset = spec.drive(name)
            if column is not None:
                expand[row, column], bias[row] = multiplier, offset
        fingers = spec.manifest.fingers
        tip_frames = chain.get_frame_indices(*[tip.link for tip in fingers.values()])
        offsets = torch.tensor([tip.offset for tip in fingers.values()], dtype=dtype)
        palm_frame = int(chain.get_frame_indices(spec.manifest.palm_link)[0])
        root_name = chain.get_frame_names(exclude_fixed=False)[0]
        palm_is_identity = spec.manifest.palm_link == root_name
        palm = spec.manifest.palm_frame
        built = _Chain(
            chain=chain,
            expand=expand.to(device),
            bias=bias.to(device),
            tip_frames=tip_frames.to(device),
            tip_offsets=offsets.to(device),
            palm_frame=palm_frame,
            palm_is_identity=palm_is_identity,
            palm_rotation=torch.tensor(rpy_matrix(palm.rpy), dtype=dtype, device=device),
            palm_translation=torch.tensor(palm.xyz, dtype=dtype, device=device),
        )
        self._chains[key] = built
        return built
