"""The tree of a vendor URDF read as a hand: where the palm is, which branches are fingers, and each
finger's tip as a function of its joints.

The palm is the first link (from the root) where several branches with movable joints diverge; arms,
wrists and flanges above it are skipped. Each palm branch ends in leaves; its tip link is the leaf
farthest from the palm. A branch whose joints only drive other joints through ``<mimic>`` and carries
nothing is a driver, not a finger.

:class:`ChainFK` is the forward kinematics of one such chain before any manifest exists (so
:class:`~xlsdk.tip_kinematics.TipKinematics`, which needs a hand's spec, cannot serve): joint motions
from :func:`xlsdk.transforms.joint_motion`, prefix and suffix products at the zero pose so that
sweeping one joint costs O(1) and a proposal stays linear in the chain length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xlsdk.manifest import Finger
from xlsdk.transforms import joint_motion
from xlsdk.urdf import UrdfJoint, UrdfModel


_DRIVER_EXTENT = 0.01  # a mimic-driver branch carries nothing farther than this from the palm joint


def joint_transform(joint: UrdfJoint, q: float) -> np.ndarray:
    """A joint's transform from its parent link to its child at value ``q``: origin, then motion."""
    return joint.origin_matrix() @ joint_motion(joint.type, joint.axis, q)


@dataclass
class FingerChain:
    branch: str
    tip_link: str
    joints: list[UrdfJoint]  # palm -> tip
    names: list[str]
    shared: int = 0  # leading joints the chain shares with other fingers (a palm segment's joint): not its knuckle
    named: Finger | None = None
    fk: ChainFK | None = None
    knuckle: np.ndarray = field(default_factory=lambda: np.zeros(3))
    tip: np.ndarray = field(default_factory=lambda: np.zeros(3))
    tip_frame: np.ndarray = field(default_factory=lambda: np.eye(4))
    curl: np.ndarray = field(default_factory=lambda: np.zeros(3))
    open_tip: np.ndarray = field(default_factory=lambda: np.zeros(3))


def find_palm(model: UrdfModel, movable_below: dict[str, bool] | None = None) -> str:
    """The first link (from the root) where more than one branch with movable joints starts."""
    movable_below = movable_below if movable_below is not None else joints_moving_below(model)
    link = model.root
    while True:
        branches = [j for j in model.child_joints(link) if movable_below[j.name]]
        if len(branches) != 1:
            return link
        link = branches[0].child


def joints_moving_below(model: UrdfModel) -> dict[str, bool]:
    """For every joint: does it, or any joint below it, move? (one post-order pass)"""
    below: dict[str, bool] = {}
    order: list[UrdfJoint] = []
    stack = list(model.child_joints(model.root))
    while stack:
        joint = stack.pop()
        order.append(joint)
        stack.extend(model.child_joints(joint.child))
    for joint in reversed(order):
        below[joint.name] = joint.movable or any(below[c.name] for c in model.child_joints(joint.child))
    for joint in model.joints:  # joints outside the root's tree (a validated model has none)
        below.setdefault(joint.name, joint.movable)
    return below


def zero_values(model: UrdfModel) -> dict[str, float]:
    """Joint values at the zero pose: actuated joints at 0, mimic joints following them (offsets included)."""
    values: dict[str, float] = {}

    def value(name: str) -> float:
        if name in values:
            return values[name]
        chain = []
        current = model.joint(name)
        while current.mimic is not None and current.name not in values:
            chain.append(current)
            current = model.joint(current.mimic.joint)
        base = values.get(current.name, 0.0)
        values.setdefault(current.name, base)
        for joint in reversed(chain):
            assert joint.mimic is not None
            base = joint.mimic.multiplier * base + joint.mimic.offset
            values[joint.name] = base
        return values[name]

    for joint in model.joints:
        value(joint.name)
    return values


def zero_pose_transforms(model: UrdfModel, palm: str, values: dict[str, float]) -> dict[str, np.ndarray]:
    """Every link below ``palm`` in the palm frame at the zero pose (mimic values applied)."""
    transforms = {palm: np.eye(4)}
    frontier = [palm]
    while frontier:
        link = frontier.pop()
        for joint in model.child_joints(link):
            q = values.get(joint.name, 0.0) if joint.movable else 0.0
            transforms[joint.child] = transforms[link] @ joint_transform(joint, q)
            frontier.append(joint.child)
    return transforms


def finger_chains(model: UrdfModel, palm: str, movable_below: dict[str, bool],
                   transforms: dict[str, np.ndarray]) -> list[FingerChain]:
    branches: list[UrdfJoint] = []
    links = [palm]
    while links:  # a fixed branch that splits into several movable ones extends the palm
        link = links.pop(0)
        for joint in model.child_joints(link):
            if not movable_below[joint.name]:
                continue
            if not joint.movable and sum(movable_below[c.name] for c in model.child_joints(joint.child)) > 1:
                links.append(joint.child)
            else:
                branches.append(joint)
    depth = _movable_depth(model, palm)
    chains: list[FingerChain] = []
    drivers: list[FingerChain] = []
    for branch in branches:
        below = model.links_below(branch.child)
        joint_names = [branch.name] + [model.parent_joint(link).name for link in below[1:]]  # type: ignore[union-attr]
        is_driver = _is_driver(model, branch, below, joint_names, transforms)
        for start in ([branch.child] if is_driver else _finger_starts(model, branch, movable_below, transforms)):
            own = model.links_below(start)
            own_joints = [model.parent_joint(link).name for link in own]  # type: ignore[union-attr]
            leaves = model.leaves_below(start)
            tip = max(leaves, key=lambda leaf: (round(float(np.linalg.norm(transforms[leaf][:3, 3])), 9), depth[leaf]))
            path = model.path_between(palm, tip) or []
            shared = len(path) - len(model.path_between(start, tip) or []) - 1 if start != branch.child else 0
            chain = FingerChain(branch=branch.name, tip_link=tip, joints=path, names=own + own_joints, shared=shared)
            (drivers if is_driver else chains).append(chain)
    return chains if len(chains) >= 2 else chains + drivers  # a bare two-jaw gripper: its "driver" is a jaw


def _finger_starts(model: UrdfModel, branch: UrdfJoint, movable_below: dict[str, bool],
                   transforms: dict[str, np.ndarray]) -> list[str]:
    """Where the fingers of one palm branch start: the branch itself, or, when it splits again below its
    movable joint into sub-branches that each reach as far as a finger (a second palm segment on a
    cupping joint carrying the ring and little fingers), each of those sub-branches.

    A sub-branch reaching under half as far from the split as the longest one (a linkage bar, a sensor
    arm) is no finger of its own: the branch stays one finger.
    """
    link = branch.child
    while True:
        children = [j for j in model.child_joints(link) if movable_below[j.name]]
        if len(children) != 1:
            break
        link = children[0].child
    if len(children) < 2:
        return [branch.child]
    origin = transforms[link][:3, 3]
    reach = {j.child: max(float(np.linalg.norm(transforms[leaf][:3, 3] - origin))
                          for leaf in model.leaves_below(j.child))
             for j in children}
    longest = max(reach.values())
    fingers = [child for child, distance in reach.items() if distance >= 0.5 * longest]
    return fingers if len(fingers) >= 2 else [branch.child]


def _movable_depth(model: UrdfModel, palm: str) -> dict[str, int]:
    depth = {palm: 0}
    stack = [palm]
    while stack:
        link = stack.pop()
        for joint in model.child_joints(link):
            depth[joint.child] = depth[link] + int(joint.movable)
            stack.append(joint.child)
    return depth


def _is_driver(model: UrdfModel, branch: UrdfJoint, below: list[str], joint_names: list[str],
               transforms: dict[str, np.ndarray]) -> bool:
    """A branch whose movable joints only drive joints elsewhere through <mimic>, carrying nothing."""
    inside = set(joint_names)
    followed = {j.mimic.joint for j in model.joints if j.mimic is not None and j.name not in inside}
    movable = [name for name in joint_names if model.joint(name).movable]
    if not movable or not all(name in followed for name in movable):
        return False
    if any(model.link(link).geometry for link in below):
        return False  # it carries a body: a finger
    start = transforms[branch.child][:3, 3]
    return max(float(np.linalg.norm(transforms[link][:3, 3] - start)) for link in below) < _DRIVER_EXTENT


def mimic_source(model: UrdfModel, name: str) -> str:
    joint = model.joint(name)
    seen = {name}
    while joint.mimic is not None and joint.mimic.joint not in seen:
        seen.add(joint.mimic.joint)
        joint = model.joint(joint.mimic.joint)
    return joint.name


class ChainFK:
    """A chain's tip (palm frame) as a function of joint values, mimic joints following.

    Prefix and suffix products at the zero pose make one joint's sweep O(1) when no other joint on the chain
    follows it, so the whole import stays linear in the chain length.
    """

    def __init__(self, model: UrdfModel, joints: list[UrdfJoint], zero: dict[str, float]) -> None:
        self.model = model
        self.joints = joints
        self.zero = zero
        local = [joint_transform(j, zero.get(j.name, 0.0) if j.movable else 0.0) for j in joints]
        self.prefix = [np.eye(4)]
        for matrix in local:
            self.prefix.append(self.prefix[-1] @ matrix)
        self.suffix = [np.array([0.0, 0.0, 0.0, 1.0])]
        for matrix in reversed(local):
            self.suffix.append(matrix @ self.suffix[-1])
        self.suffix.reverse()  # suffix[k]: the tip in the frame before joint k's origin
        self.followed = {mimic_source(model, j.name) for j in joints if j.mimic is not None}

    def value(self, joint: UrdfJoint, values: dict[str, float]) -> float:
        if joint.mimic is None:
            return values.get(joint.name, 0.0)
        source = self.model.joint(joint.mimic.joint)
        return joint.mimic.multiplier * self.value(source, values) + joint.mimic.offset

    def tip(self, values: dict[str, float]) -> np.ndarray:
        transform = np.eye(4)
        for joint in self.joints:
            transform = transform @ joint_transform(joint, self.value(joint, values) if joint.movable else 0.0)
        return transform[:3, 3]

    def sweep(self, index: int, q: float) -> np.ndarray:
        """The tip with joint ``index`` at ``q`` and everything else at the zero pose."""
        joint = self.joints[index]
        if joint.name in self.followed:
            return self.tip({joint.name: q})
        point = self.prefix[index] @ joint_transform(joint, q) @ self.suffix[index + 1]
        return point[:3]


def sweep_ends(joint: UrdfJoint) -> tuple[float, float]:
    low = joint.lower if joint.lower is not None else -0.5
    high = joint.upper if joint.upper is not None else 0.5
    return low, high
