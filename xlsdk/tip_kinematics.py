"""Fingertip positions and their analytic Jacobian for a few poses at a time (numpy, float64).

The refinement of a retargeted pose (:mod:`xlsdk.latent.retarget`) evaluates the fingertips of one to
three candidate poses per Levenberg-Marquardt step, one stream frame at a time. At that size a
pytorch-kinematics call costs about a millisecond of tensor set-up for every frame of the tree, where
the arithmetic takes microseconds, and a forward-difference Jacobian needs ``dof + 1`` poses per
candidate. ``xlsdk info`` needs a handful of poses too, and importing torch and pytorch-kinematics for
them costs seconds of a command that should answer at once. This evaluator is the *same* chain, read
from the hand's spec (the joints of :mod:`xlsdk.urdf`, the one URDF reader; the mimic expansion
``q_full = A q + b`` of :mod:`xlsdk.kinematics`; tip offsets; palm frame), in numpy alone, compressed once:

* the chain starts at the palm: every fingertip hangs off the palm link (the manifest checks it), so
  the joints above it (an arm, a wrist) move the palm and the tips together and never change where a
  tip sits in the palm frame;
* frames that cannot move are folded into their child's static offset: fixed joints, and joints no
  actuated joint drives (they sit at their mimic offset, as in ``fingertips``);
* only frames on the path from the palm to a fingertip are kept;
* a joint's local transform is linear in ``(1, cos q, sin q, q)``, so every joint's transform is one
  contraction with coefficients precomputed from its static offset and axis.

The Jacobian is the geometric one: a revolute joint with world axis ``a`` through ``o`` moves a tip
``p`` at ``a x (p - o)``, a prismatic one at ``a``, everything in the palm frame; mimic couplings
enter through the expansion matrix. The tests hold it to pytorch-kinematics' FK and to finite
differences on the reference hands and on import-corpus hands (mimic couplings, skipped wrists, arms).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from xlsdk.errors import ShapeError
from xlsdk.manifest import Finger
from xlsdk.transforms import joint_motion, rpy_matrix, skew

if TYPE_CHECKING:
    from xlsdk.hand import Hand

_FIXED, _REVOLUTE, _PRISMATIC = 0, 1, 2
_KINDS = {"fixed": _FIXED, "revolute": _REVOLUTE, "continuous": _REVOLUTE, "prismatic": _PRISMATIC}


def _basis(kind: int, axis: np.ndarray) -> np.ndarray:
    """The four 4x4 matrices whose combination with ``(1, cos q, sin q, q)`` is the joint's motion.

    Revolute: ``c I + (1 - c) k k^T + s [k]x`` (pytorch-kinematics' formula, exact for any axis length);
    prismatic: a translation ``q k``; fixed: the identity.
    """
    basis = np.zeros((4, 4, 4))
    if kind == _REVOLUTE:
        outer = np.outer(axis, axis)
        basis[0, :3, :3], basis[0, 3, 3] = outer, 1.0
        basis[1, :3, :3] = np.eye(3) - outer
        basis[2, :3, :3] = skew(axis)
    else:
        basis[0] = np.eye(4)
        if kind == _PRISMATIC:
            basis[3, :3, 3] = axis
    return basis


class TipKinematics:
    """Fingertips of ``fingers`` (default: all of the hand's) in the xlsdk palm frame, metres.

    With ``links`` it tracks those links' origins instead of fingertips (the human hand's landmark
    frames, :mod:`xlsdk.human`). ``evaluate(q)`` takes actuated joint vectors ``(B, dof)`` (float64
    numpy) and returns the tips ``(B, F, 3)`` and, unless ``jacobian=False``, their Jacobian ``(B, F, 3, dof)``. Agrees with
    ``hand.fk`` to rounding; built once per hand, tens of microseconds per call after that.
    """

    def __init__(self, hand: Hand, fingers: tuple[Finger, ...] | None = None, *,
                 links: Sequence[str] | None = None) -> None:
        spec = hand.spec
        fingers = tuple(fingers) if fingers is not None else hand.fingers
        missing = [f for f in fingers if f not in hand.fingers]
        if missing:
            raise ShapeError(f"{hand.name} has no finger(s) {missing}; it declares {list(hand.fingers)}")
        self.dof, self.fingers = hand.dof, fingers if links is None else ()
        model, palm_link = spec.urdf, spec.manifest.palm_link
        if links is None:
            targets = [spec.manifest.fingers[f].link for f in fingers]
            tip_offsets = np.array([spec.manifest.fingers[f].offset for f in fingers], dtype=np.float64).reshape(-1, 3)
        else:  # named frames instead of fingertips: each link's origin
            targets, tip_offsets = self._check_links(hand, links), np.zeros((len(links), 3))
        below = {link: [joint.child for joint in model.path_between(palm_link, link) or []] for link in targets}
        depth = {link: index + 1 for path in below.values() for index, link in enumerate(path)}

        def drive(name: str) -> tuple[np.ndarray, float]:  # the joint's row of q_full = A q + b (HandSpec.drive)
            column, multiplier, offset = spec.drive(name)
            row = np.zeros(self.dof)
            if column is not None:
                row[column] = multiplier
            return row, offset

        # node 0 is the palm; a kept link's transform is its anchor node's transform @ rest[link]
        anchor: dict[str, int] = {palm_link: 0}
        rest: dict[str, np.ndarray] = {palm_link: np.eye(4)}
        parents, depths, bases, node_axes, node_kinds, rows, offsets, frames = [], [0], [], [], [], [], [], []
        for link in sorted(depth, key=lambda name: depth[name]):
            joint = model.parent_joint(link)
            assert joint is not None, link  # every link on a path below the palm has its joint
            local = rest[joint.parent] @ joint.origin_matrix()
            kind = _KINDS[joint.type]
            axis = np.asarray(joint.axis, dtype=np.float64)
            row, offset = drive(joint.name)
            if kind != _FIXED and np.any(row != 0.0):
                parents.append(anchor[joint.parent])
                depths.append(depths[anchor[joint.parent]] + 1)
                bases.append(local @ _basis(kind, axis))  # (4 coefficients, 4, 4)
                node_axes.append(axis)
                node_kinds.append(kind)
                rows.append(row)
                offsets.append(offset)
                frames.append(link)
                anchor[link], rest[link] = len(parents), np.eye(4)
            else:  # fixed, or moved by no actuated joint: folded into the static offset at its value
                motion = joint_motion(joint.type, axis, offset)
                anchor[link], rest[link] = anchor[joint.parent], local @ motion
        nodes = len(parents)
        # renumber the joints by depth so that each level of the chain is one contiguous slice
        order = sorted(range(nodes), key=lambda n: depths[n + 1])
        number = {0: 0, **{old + 1: new + 1 for new, old in enumerate(order)}}
        parents = [number[parents[n]] for n in order]
        depths = [0] + [depths[n + 1] for n in order]
        anchor = {link: number[node] for link, node in anchor.items()}
        frames = [frames[n] for n in order]
        # the palm node is the xlsdk palm frame's view of the palm link: p_x = (p_palm - xyz) @ R
        palm_frame = spec.manifest.palm_frame
        rotation, translation = rpy_matrix(palm_frame.rpy), np.asarray(palm_frame.xyz, dtype=np.float64)
        self._palm = np.eye(4)
        self._palm[:3, :3], self._palm[:3, 3] = rotation.T, -rotation.T @ translation
        self._nodes = nodes
        self._bases = np.array([self._palm @ bases[n] if parents[i] == 0 else bases[n] for i, n in enumerate(order)])
        self._bases = self._bases.reshape(nodes, 4, 16).transpose(1, 0, 2) if nodes else np.zeros((4, 0, 16))
        self._axes = np.array([node_axes[n] for n in order]).reshape(nodes, 3)
        self._revolute = np.array([node_kinds[n] for n in order], dtype=int) == _REVOLUTE
        self._any_prismatic = not bool(self._revolute.all())
        self._expand = np.array([rows[n] for n in order]).reshape(nodes, self.dof)  # node value = q @ expand.T + offset
        self._offset = np.array([offsets[n] for n in order], dtype=float)
        self._twice = np.concatenate([self._expand, self._expand]).T  # (dof, 2 nodes)
        self._phase = np.concatenate([self._offset + np.pi / 2, self._offset])
        self._levels: list[tuple[int, int, np.ndarray | None]] = []  # node slice, its parents (None: the palm)
        for level_depth in range(1, max(depths) + 1):
            level = [n for n in range(1, nodes + 1) if depths[n] == level_depth]
            level_parents = np.array([parents[n - 1] for n in level], dtype=int)
            self._levels.append((level[0], level[-1] + 1, None if (level_parents == 0).all() else level_parents))
        # tips: the anchor's transform applied to a fixed homogeneous point
        self._tip_anchor = np.array([anchor[link] for link in targets], dtype=int)
        points = [(self._palm if anchor[link] == 0 else np.eye(4)) @ rest[link] @ np.append(offset, 1.0)
                  for link, offset in zip(targets, tip_offsets, strict=True)]
        self._tip_point = np.stack(points) if points else np.zeros((0, 4))
        # which joints move which tip (the joint's link is on the tip's path), folded into the expansion
        # as (tip, node) pairs: a tip hangs off a few of the chain's joints (one finger's), so the Jacobian
        # columns are computed for those pairs only and scattered into a (tip, node) block
        pairs = [(tip, node) for tip, link in enumerate(targets) for node in range(nodes)
                 if frames[node] in below[link]]
        self._pair_tip = np.array([p[0] for p in pairs], dtype=int)
        self._pair_node = np.array([p[1] for p in pairs], dtype=int)

    @staticmethod
    def _check_links(hand: Hand, links: Sequence[str]) -> list[str]:
        """``links``, each of which must exist and hang below the palm link (else its position in the palm
        frame would depend on joints above the palm, which this evaluator folds away)."""
        model, palm = hand.spec.urdf, hand.spec.manifest.palm_link
        names = set(model.link_names())
        unknown = [link for link in links if link not in names]
        if unknown:
            raise ShapeError(f"{hand.name}: no link(s) {', '.join(unknown)} in {hand.urdf_path.name}")
        outside = [link for link in links if model.path_between(palm, link) is None]
        if outside:
            raise ShapeError(f"{hand.name}: link(s) {', '.join(outside)} are not below the palm link {palm!r}")
        return list(links)

    @property
    def joints_kept(self) -> int:
        """Joints the compressed chain evaluates (the driven joints between the palm and the tips)."""
        return self._nodes

    def _transforms(self, q: np.ndarray) -> np.ndarray:
        """Transforms of every node in the xlsdk palm frame, ``(B, nodes + 1, 4, 4)`` (node 0: the palm)."""
        rows, nodes = q.shape[0], self._nodes
        values = q @ self._twice + self._phase  # (B, 2 nodes): q + pi/2 then q, so one sine gives cos and sin
        local = np.einsum("bkn,knj->bnj", np.sin(values).reshape(rows, 2, nodes), self._bases[1:3]) + self._bases[0]
        if self._any_prismatic:
            local = local + values[:, nodes:, None] * self._bases[3]
        local = local.reshape(rows, nodes, 4, 4)
        world = np.empty((rows, self._nodes + 1, 4, 4))
        world[:, 0] = self._palm
        for first, end, level_parents in self._levels:
            if level_parents is None:
                world[:, first:end] = local[:, first - 1:end - 1]
            else:
                world[:, first:end] = world[:, level_parents] @ local[:, first - 1:end - 1]
        return world

    def evaluate(self, q: np.ndarray, *, jacobian: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Tips ``(B, F, 3)`` and, with ``jacobian``, ``d tips / d q`` ``(B, F, 3, dof)`` at joint vectors ``q``."""
        q = np.asarray(q, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != self.dof:
            raise ShapeError(f"expected joint vectors of shape (B, {self.dof}), got {q.shape}")
        world = self._transforms(q)
        tips = np.einsum("bfij,fj->bfi", world[:, self._tip_anchor, :3, :], self._tip_point)
        if not jacobian:
            return tips, None
        rows, count = tips.shape[:2]
        nodes = self._pair_node
        axes = np.einsum("bnij,nj->bni", world[:, 1:, :3, :3], self._axes)[:, nodes]  # (B, P, 3)
        lever = tips[:, self._pair_tip] - world[:, 1:, :3, 3][:, nodes]  # (B, P, 3): from the joint to the tip
        ax, ay, az = axes[..., 0], axes[..., 1], axes[..., 2]
        lx, ly, lz = lever[..., 0], lever[..., 1], lever[..., 2]
        columns = np.stack([ay * lz - az * ly, az * lx - ax * lz, ax * ly - ay * lx], axis=-1)  # a x (p - o)
        if self._any_prismatic:
            columns = np.where(self._revolute[nodes, None], columns, axes)
        block = np.zeros((rows, count, self._nodes, 3))
        block[:, self._pair_tip, nodes] = columns
        # the mimic expansion maps every joint's motion to the actuated joints: one matrix product
        moving = np.swapaxes(block, 2, 3).reshape(-1, self._nodes) @ self._expand
        return tips, moving.reshape(rows, count, 3, self.dof)  # (B, F, 3, dof)
