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

At one to three poses a call the arithmetic is a few thousand flops, and what costs is numpy's
overhead: about a microsecond a call, more for operations over many tiny axes (a broadcast matmul of
3 x 3 blocks makes one BLAS call per block). So a call is a short, fixed sequence of whole-array
operations, whatever the hand: one sine and one matrix product give every joint's local transform,
one product per level of the chain composes them (the joints are ordered so that a level's parents
are a slice); each joint's frame is turned once so that its axis is its z axis, which makes the axis
in the palm frame a column of its transform; the Jacobian then reads every (tip, path joint) pair's
axis and origin with one ``take``, coordinates permuted as the cross product needs them, and the
expansion to the actuated joints is one more ``take`` (a second, weighted, where a mimic follower
shares a tip's path with its source). Measured in CPU time on a loaded machine: the human hand's 15
landmarks with their Jacobian at three poses (a tracker step) 38 us, from 81 us before this layout;
a robot hand's fingertips and Jacobian at one pose 16-27 us, from 37-57 us.
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
_IDENTITY = np.eye(4).reshape(16)
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
        # renumber the joints level by level (each level one contiguous slice of the transforms)
        order = _level_order(parents)  # the old 0-based node indices in their new order
        number = {0: 0, **{old + 1: new + 1 for new, old in enumerate(order)}}
        parents = [number[parents[n]] for n in order]
        depths = [0] + [depths[n + 1] for n in order]
        anchor = {link: number[node] for link, node in anchor.items()}
        frames = [frames[n] for n in order]
        revolute = [node_kinds[n] == _REVOLUTE for n in order]
        expand = np.array([rows[n] for n in order]).reshape(nodes, self.dof)  # node value = q @ expand.T + offset
        node_offset = np.array([offsets[n] for n in order], dtype=float)
        self._nodes, self._any_prismatic = nodes, not all(revolute)
        # the palm node is the xlsdk palm frame's view of the palm link: p_x = (p_palm - xyz) @ R
        palm_frame = spec.manifest.palm_frame
        rotation, translation = rpy_matrix(palm_frame.rpy), np.asarray(palm_frame.xyz, dtype=np.float64)
        self._palm = np.eye(4)
        self._palm[:3, :3], self._palm[:3, 3] = rotation.T, -rotation.T @ translation
        # each joint's frame is turned about its origin so that its axis is its z axis: the axis in the palm
        # frame is then a column of its transform, read by the Jacobian where it would otherwise be computed
        axes = [np.asarray(node_axes[n], dtype=np.float64) for n in order]
        turns = [_turn_to_z(axis) for axis in axes]
        local = [(self._palm if parents[i] == 0 else turns[parents[i] - 1].T) @ bases[n] @ turns[i]
                 for i, n in enumerate(order)]  # (4 coefficients, 4, 4) each, between turned frames
        self._prepare_transforms(local, expand, node_offset, parents, depths)
        points = [(turns[anchor[link] - 1].T if anchor[link] else self._palm) @ rest[link] @ np.append(offset, 1.0)
                  for link, offset in zip(targets, tip_offsets, strict=True)]  # in their anchor's turned frame
        self._prepare_tips([anchor[link] for link in targets], points)
        pairs = [(tip, node) for tip, link in enumerate(targets) for node in range(nodes)
                 if frames[node] in below[link]]  # (tip, joint on its path)
        lengths = np.linalg.norm(np.array(axes).reshape(nodes, 3), axis=1)  # the turn normalised the axes
        self._prepare_jacobian(pairs, expand * lengths[:, None], revolute)

    def _prepare_transforms(self, local: list[np.ndarray], expand: np.ndarray, offset: np.ndarray,
                            parents: list[int], depths: list[int]) -> None:
        """Every joint's local transform as coefficients ``(1, cos q, sin q[, q])`` times its basis, all
        joints in one matmul (the constant is ``sin(pi/2)`` and the cosine a shifted sine, so one ``np.sin``
        gives all three), and the chain's levels below the first (whose parent, the palm, is in the bases)."""
        nodes = self._nodes
        self._width = width = 4 if self._any_prismatic else 3
        angle_map = np.zeros((self.dof, nodes, width))
        angle_map[:, :, 1:] = expand.T[:, :, None]
        self._angle_map = angle_map.reshape(self.dof, nodes * width)
        self._angle_phase = np.stack([np.full(nodes, np.pi / 2), offset + np.pi / 2, offset, offset],
                                     axis=1)[:, :width].reshape(nodes * width)
        self._linear = np.arange(3, nodes * width, width) if width == 4 else None  # the (q) coefficients
        self._bases = np.array([basis[:width].reshape(width, 16) for basis in local]).reshape(nodes, width, 16)
        # each level: its transform slots and its parents' (node n sits at slot n - 1; a slice where they are one)
        self._levels: list[tuple[int, int, slice | np.ndarray]] = []
        for level_depth in range(2, max(depths) + 1):
            level = [n for n in range(1, nodes + 1) if depths[n] == level_depth]
            slots = np.array([parents[n - 1] - 1 for n in level], dtype=int)
            contiguous = bool((np.diff(slots) == 1).all())
            self._levels.append((level[0] - 1, level[-1], slice(slots[0], slots[-1] + 1) if contiguous else slots))

    def _prepare_tips(self, anchors: list[int], points: list[np.ndarray]) -> None:
        """Each tip is its anchor joint's transform applied to a fixed homogeneous point, read coordinate-major
        (the ``(3, 4, F)`` entries of the flat transforms); a tip fixed to the palm (anchor 0) reads an identity
        slot after the joints'."""
        nodes = self._nodes
        self._slots = nodes + int(0 in anchors)
        slots = 16 * np.array([anchor - 1 if anchor else nodes for anchor in anchors], dtype=int)
        self._tip_index = slots + 4 * np.arange(3)[:, None, None] + np.arange(4)[None, :, None]  # (3, 4, F)
        self._tip_point = np.stack(points).T if points else np.zeros((4, 0))  # (4, F)

    def _prepare_jacobian(self, pairs: list[tuple[int, int]], expand: np.ndarray, revolute: list[bool]) -> None:
        """The Jacobian's gathers: for each (tip, joint on its path) pair, ``a x (p - o)`` (revolute) or ``a``
        (prismatic), with ``a`` the joint's z column and ``o`` its origin, read with their coordinates
        permuted as the cross product needs them; then each Jacobian entry takes its pair's value times the
        expansion (which carries the axis length the turn normalised away). A last, dummy pair reads a
        homogeneous row's exact zeros, so its column is zero: the entries no joint moves take it. Where a
        mimic follower shares a tip's path with its source, a second gather adds the second joint."""
        count, width = self._tip_point.shape[1], len(pairs) + 1  # tips, pairs (with the dummy)
        pair_tip = np.array([tip for tip, _ in pairs] + [0], dtype=int)
        pair_slot = 16 * np.array([node for _, node in pairs] + [0], dtype=int)
        ahead, behind = np.array([1, 2, 0])[:, None], np.array([2, 0, 1])[:, None]  # (a x l)_i = a_ahead l_behind - ...
        self._pair_index = np.stack([pair_slot + 4 * ahead + 2, pair_slot + 4 * behind + 2,
                                     pair_slot + 4 * behind + 3, pair_slot + 4 * ahead + 3])  # (4, 3, P + 1)
        self._pair_index[:2, :, -1] = 12  # the dummy's axis: a bottom row's zeros
        self._pair_tip_index = np.stack([3 * pair_tip + behind, 3 * pair_tip + ahead])  # (2, 3, P + 1) of (F, 3)
        layers: list[dict[int, tuple[int, float]]] = []  # Jacobian entry -> (source column, weight)
        for index, (tip, node) in enumerate(pairs):
            for column in np.flatnonzero(expand[node]):
                for i in range(3):  # a prismatic joint's a_i is the permuted axis' entry (i + 2) % 3
                    source = (i if revolute[node] else 3 + (i + 2) % 3) * width + index
                    entry = (tip * 3 + i) * self.dof + int(column)
                    layer = next((layer for layer in layers if entry not in layer), None)
                    if layer is None:
                        layers.append(layer := {})
                    layer[entry] = (source, float(expand[node, column]))
        self._gathers: list[tuple[np.ndarray, np.ndarray | None]] = []
        for layer in layers or [{}]:
            source = np.full(count * 3 * self.dof, 3 * width - 1, dtype=int)  # default: the dummy's zero
            weights = np.ones(count * 3 * self.dof)
            for entry, (column, weight) in layer.items():
                source[entry], weights[entry] = column, weight
            self._gathers.append((source, None if (weights == 1.0).all() else weights))

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
        """Every joint's (turned) frame in the xlsdk palm frame, flat ``(B, slots x 16)``; the last slot is the
        identity when a tip is fixed to the palm."""
        rows, nodes = q.shape[0], self._nodes
        angles = q @ self._angle_map + self._angle_phase  # (B, nodes x width)
        coefficients = np.sin(angles)
        if self._linear is not None:  # a prismatic joint's translation is linear in q
            coefficients[:, self._linear] = angles[:, self._linear]
        flat = np.empty((rows, self._slots, 1, 16))
        np.matmul(coefficients.reshape(rows, nodes, 1, self._width), self._bases, out=flat[:, :nodes])
        if self._slots > nodes:
            flat[:, nodes, 0] = _IDENTITY
        world = flat.reshape(rows, self._slots, 4, 4)
        for first, end, parents in self._levels:
            world[:, first:end] = world[:, parents] @ world[:, first:end]
        return flat.reshape(rows, self._slots * 16)

    def evaluate(self, q: np.ndarray, *, jacobian: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        """Tips ``(B, F, 3)`` and, with ``jacobian``, ``d tips / d q`` ``(B, F, 3, dof)`` at joint vectors ``q``."""
        q = np.asarray(q, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != self.dof:
            raise ShapeError(f"expected joint vectors of shape (B, {self.dof}), got {q.shape}")
        rows = q.shape[0]
        flat = self._transforms(q)
        tips = np.einsum("bijf,jf->bfi", flat.take(self._tip_index, axis=1), self._tip_point, order="C")
        if not jacobian:
            return tips, None
        frames = flat.take(self._pair_index, axis=1)  # (B, 4, 3, P + 1): the pairs' axes and origins, permuted
        levers = tips.reshape(rows, -1).take(self._pair_tip_index, axis=1) - frames[:, 2:]  # p - o, permuted
        products = frames[:, :2] * levers
        columns = (products[:, 0] - products[:, 1]).reshape(rows, -1)  # (B, 3 (P + 1)): a x (p - o)
        if self._any_prismatic:  # a prismatic joint moves its tips along its axis
            columns = np.concatenate([columns, frames[:, 0].reshape(rows, -1)], axis=1)
        moving = None
        for source, weight in self._gathers:
            values = columns.take(source, axis=1)
            if weight is not None:
                values *= weight
            moving = values if moving is None else moving + values
        return tips, moving.reshape(rows, -1, 3, self.dof)


def _turn_to_z(axis: np.ndarray) -> np.ndarray:
    """A 4x4 rotation whose z column is ``axis`` normalised (exact 0/1 entries for a coordinate axis)."""
    z = axis / np.linalg.norm(axis)
    x = np.cross(np.eye(3)[int(np.argmin(np.abs(z)))], z)
    x = x / np.linalg.norm(x)
    turn = np.eye(4)
    turn[:3, :3] = np.column_stack([x, np.cross(z, x), z])
    return turn


def _level_order(parents: Sequence[int]) -> list[int]:
    """The chain's nodes (``parents[n]``: node ``n + 1``'s parent, 0 the palm) level by level, 0-based.

    A level lists its nodes in the order of their parents in the level above, siblings with the deepest
    subtree first. In a forest of chains (a hand: a finger joint drives at most one further joint) the
    parents of every level are then the first nodes of the level above, which :meth:`TipKinematics._transforms`
    reads as a slice where a tree in general needs a gather.
    """
    count = len(parents)
    height = [0] * (count + 1)
    children: list[list[int]] = [[] for _ in range(count + 1)]
    for node in range(count, 0, -1):  # a parent is numbered before its children
        height[parents[node - 1]] = max(height[parents[node - 1]], height[node] + 1)
        children[parents[node - 1]].insert(0, node)
    order: list[int] = []
    level = [0]
    while level:
        level = [child for parent in level for child in sorted(children[parent], key=lambda n: -height[n])]
        order += level
    return [node - 1 for node in order]
