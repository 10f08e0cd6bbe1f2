"""From a vendor's URDF to a proposed hand manifest: the tedious part of ``xlsdk new-hand``.

Nothing here is hand-specific; the proposals come from the tree and its geometry at the zero pose:

1. **palm**: walk down from the root while only one child branch contains movable joints (wrist
   joints, mounting flanges); the first link where several such branches diverge is the palm.
2. **finger chains**: each branch of the palm ends in leaves; the chain's tip link is the leaf farthest
   from the palm (a tip frame beats a tactile pad hanging off a middle phalanx).
3. **joints**: movable non-mimic joints on the chains are actuated (URDF order); mimic and fixed ones
   are derived.
4. **thumb**: the chain whose pointing direction is most opposed to the others' (and whose knuckle sits
   farthest from theirs).
5. **palm frame**: +Z along the mean pointing direction of the other fingers, +Y the direction they curl
   (from their most extended to their most flexed pose), +X = Y x Z. If that differs from the palm link's
   axes, the manifest gets a ``[palm_frame]`` rotation instead of the URDF being edited.
6. **other fingers**: ordered by distance from the thumb along X: index, middle, ring, little.
7. **tip offset**: the end of the tip link's primitive geometry along the finger, else the link origin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.errors import UrdfError
from xlsdk.kinematics import rpy_matrix
from xlsdk.manifest import CANONICAL_FINGERS, Finger
from xlsdk.urdf import UrdfJoint, UrdfModel


class ChainProposal(BaseModel):
    model_config = ConfigDict(frozen=True)
    finger: Finger
    tip_link: str
    offset: tuple[float, float, float]
    offset_source: str
    joints: tuple[str, ...]


class ManifestProposal(BaseModel):
    """Everything ``new-hand`` proposes, with the reasons it gives the vendor."""

    model_config = ConfigDict(frozen=True)
    palm_link: str
    joints: tuple[str, ...]
    mimic_joints: tuple[str, ...]
    fixed_joints: tuple[str, ...]
    chains: tuple[ChainProposal, ...]
    palm_rpy: tuple[float, float, float]
    notes: tuple[str, ...] = ()

    @property
    def fingers(self) -> dict[Finger, ChainProposal]:
        return {chain.finger: chain for chain in self.chains}


@dataclass
class _Chain:
    branch: str
    tip_link: str
    joints: list[UrdfJoint]
    knuckle: np.ndarray = field(default_factory=lambda: np.zeros(3))
    tip: np.ndarray = field(default_factory=lambda: np.zeros(3))
    tip_frame: np.ndarray = field(default_factory=lambda: np.eye(4))
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    offset_source: str = ""


def propose_manifest(model: UrdfModel, palm: str | None = None) -> ManifestProposal:
    """Propose palm, actuated joints, canonical fingers, tip offsets and palm frame for ``model``.

    ``palm`` overrides the proposed palm link (the vendor knows better).
    """
    palm = palm or find_palm(model)
    chains = _finger_chains(model, palm)
    if len(chains) < 2:
        raise UrdfError(model.path, [f"palm link {palm!r} has {len(chains)} finger chain(s); a hand needs a thumb and "
                                     "at least one finger (chains of movable joints hanging off the palm)"])
    transforms = _zero_pose_transforms(model, palm)
    for chain in chains:
        movable = [j for j in chain.joints if j.movable]
        chain.knuckle = transforms[movable[0].child][:3, 3] if movable else transforms[chain.tip_link][:3, 3]
        chain.tip_frame = transforms[chain.tip_link]
        chain.tip = chain.tip_frame[:3, 3]
    thumb_index = _pick_thumb(chains)
    others = [c for i, c in enumerate(chains) if i != thumb_index]
    frame = _palm_axes(model, others, transforms)
    notes: list[str] = []
    for chain in chains:
        offset, source = _tip_offset(model, chain, frame)
        chain.offset, chain.offset_source = offset, source
    thumb = chains[thumb_index]
    along_x = sorted(others, key=lambda c: abs(float((c.knuckle - thumb.knuckle) @ frame[:, 0])))
    names: list[Finger] = list(CANONICAL_FINGERS[1:1 + len(along_x)]) if len(along_x) <= 4 else []
    if len(along_x) > 4:
        raise UrdfError(model.path, [f"palm link {palm!r} has {len(chains)} finger chains; xlsdk knows five canonical "
                                     "fingers (thumb, index, middle, ring, little)"])
    proposals = [_proposal("thumb", thumb)]
    proposals += [_proposal(name, chain) for name, chain in zip(names, along_x, strict=True)]
    actuated = [j.name for j in model.joints if j.movable and j.mimic is None and _on_chains(j, chains)]
    mimic = [j.name for j in model.joints if j.mimic is not None and _on_chains(j, chains)]
    fixed = [j.name for j in model.joints if not j.movable]
    rpy = _rpy(frame)
    if not np.allclose(frame, np.eye(3), atol=1e-6):
        notes.append("the palm link's axes differ from the xlsdk palm frame; [palm_frame] converts them")
    order = {name: i for i, name in enumerate(CANONICAL_FINGERS)}
    proposals.sort(key=lambda p: order[p.finger])
    return ManifestProposal(palm_link=palm, joints=tuple(actuated), mimic_joints=tuple(mimic), fixed_joints=tuple(fixed),
                            chains=tuple(proposals), palm_rpy=rpy, notes=tuple(notes))


def find_palm(model: UrdfModel) -> str:
    """The first link (from the root) where more than one branch with movable joints starts."""
    link = model.root
    while True:
        branches = [j for j in model.child_joints(link) if _has_movable_below(model, j)]
        if len(branches) != 1:
            return link
        link = branches[0].child


def _has_movable_below(model: UrdfModel, joint: UrdfJoint) -> bool:
    if joint.movable:
        return True
    return any(_has_movable_below(model, child) for child in model.child_joints(joint.child))


def _finger_chains(model: UrdfModel, palm: str) -> list[_Chain]:
    transforms = _zero_pose_transforms(model, palm)
    chains: list[_Chain] = []
    for branch in model.child_joints(palm):
        if not _has_movable_below(model, branch):
            continue
        leaves = model.leaves_below(branch.child)

        def reach(leaf: str) -> tuple[float, int]:
            path = model.path_between(palm, leaf) or []
            return float(np.linalg.norm(transforms[leaf][:3, 3])), sum(j.movable for j in path)

        tip = max(leaves, key=reach)
        chains.append(_Chain(branch=branch.name, tip_link=tip, joints=model.path_between(palm, tip) or []))
    return chains


def _zero_pose_transforms(model: UrdfModel, palm: str) -> dict[str, np.ndarray]:
    """Every link below ``palm`` in the palm frame at q = 0 (mimic offsets applied)."""
    transforms = {palm: np.eye(4)}
    frontier = [palm]
    by_name = {j.name: j for j in model.joints}
    while frontier:
        link = frontier.pop()
        for joint in model.child_joints(link):
            q = 0.0
            if joint.mimic is not None and joint.mimic.joint in by_name:
                q = joint.mimic.offset
            transforms[joint.child] = transforms[link] @ joint.origin_matrix() @ _motion(joint, q)
            frontier.append(joint.child)
    return transforms


def _motion(joint: UrdfJoint, q: float) -> np.ndarray:
    out = np.eye(4)
    axis = np.asarray(joint.axis)
    if joint.type in ("revolute", "continuous") and q:
        skew = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        out[:3, :3] = np.eye(3) + np.sin(q) * skew + (1 - np.cos(q)) * skew @ skew
    elif joint.type == "prismatic":
        out[:3, 3] = axis * q
    return out


def _pick_thumb(chains: list[_Chain]) -> int:
    """The chain pointing most against the others, sitting apart from their knuckles, nearest the wrist."""
    directions = [_unit(c.tip - c.knuckle) for c in chains]
    length = float(np.mean([np.linalg.norm(c.tip - c.knuckle) for c in chains])) or 1.0
    farthest = max(float(np.linalg.norm(c.knuckle)) for c in chains) or 1.0
    scores = []
    for i, chain in enumerate(chains):
        others = [d for j, d in enumerate(directions) if j != i]
        opposed = 1.0 - float(directions[i] @ _unit(np.mean(others, axis=0)))
        centroid = np.mean([c.knuckle for j, c in enumerate(chains) if j != i], axis=0)
        apart = float(np.linalg.norm(chain.knuckle - centroid)) / length
        near_wrist = 1.0 - float(np.linalg.norm(chain.knuckle)) / farthest
        scores.append(opposed + 0.25 * apart + 0.5 * near_wrist)
    return int(np.argmax(scores))


def _palm_axes(model: UrdfModel, fingers: list[_Chain], transforms: dict[str, np.ndarray]) -> np.ndarray:
    """Columns: the xlsdk palm frame's X, Y, Z expressed in the palm link's frame."""
    z = _unit(np.mean([_unit(_open_tip(model, c) - c.knuckle) for c in fingers], axis=0))
    curl = sum((_curl(model, chain) for chain in fingers), np.zeros(3))
    curl -= (curl @ z) * z
    if np.linalg.norm(curl) < 1e-9:
        curl = np.cross(z, [1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.cross(z, [0.0, 1.0, 0.0])
    y = _unit(curl)
    x = _unit(np.cross(y, z))
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=1)


def _curl(model: UrdfModel, chain: _Chain) -> np.ndarray:
    """Where the fingertip goes when the finger flexes, from each joint swept across its range.

    A joint's sweep counts in proportion to how much it shortens the finger (knuckle-to-tip distance):
    flexion joints curl the tip toward the palm side, abduction joints barely shorten it and drop out.
    The closed end of each sweep is the one where the finger is shorter, whatever the joint's sign.
    """
    total = np.zeros(3)
    for joint in chain.joints:
        if not joint.movable or joint.mimic is not None or joint.type == "prismatic":
            continue
        low = joint.lower if joint.lower is not None else -0.5
        high = joint.upper if joint.upper is not None else 0.5
        tips = [_chain_tip(model, chain, {joint.name: value}) for value in (low, high)]
        reach = [float(np.linalg.norm(tip - chain.knuckle)) for tip in tips]
        closed, opened = (tips[0], tips[1]) if reach[0] < reach[1] else (tips[1], tips[0])
        total += abs(reach[0] - reach[1]) * _unit(closed - opened)
    return total


def _open_tip(model: UrdfModel, chain: _Chain) -> np.ndarray:
    """The tip with every joint at the end of its range (or 0) that extends the finger most."""
    values: dict[str, float] = {}
    for joint in chain.joints:
        if not joint.movable or joint.mimic is not None:
            continue
        low = joint.lower if joint.lower is not None else -0.5
        high = joint.upper if joint.upper is not None else 0.5
        candidates = [v for v in (low, high, 0.0) if low <= v <= high]
        values[joint.name] = max(candidates, key=lambda v: (
            round(float(np.linalg.norm(_chain_tip(model, chain, {joint.name: v}) - chain.knuckle)), 6), v == 0.0))
    return _chain_tip(model, chain, values)


def _chain_tip(model: UrdfModel, chain: _Chain, values: dict[str, float]) -> np.ndarray:
    """Tip position (palm frame) with the given actuated values, others at 0, mimic joints following."""
    by_name = {j.name: j for j in model.joints}

    def value(joint: UrdfJoint) -> float:
        if joint.mimic is None:
            return values.get(joint.name, 0.0)
        source = by_name.get(joint.mimic.joint)
        return joint.mimic.multiplier * (value(source) if source is not None else 0.0) + joint.mimic.offset

    transform = np.eye(4)
    for joint in chain.joints:
        transform = transform @ joint.origin_matrix() @ _motion(joint, value(joint) if joint.movable else 0.0)
    return transform[:3, 3]


def _tip_offset(model: UrdfModel, chain: _Chain, frame: np.ndarray) -> tuple[tuple[float, float, float], str]:
    """The end of the tip link's primitive geometry along the finger, in the tip link's frame."""
    direction_palm = _unit(chain.tip - chain.knuckle)
    rotation = chain.tip_frame[:3, :3]
    direction = rotation.T @ direction_palm  # the finger direction in the tip link frame
    best: np.ndarray | None = None
    source = "link origin (no primitive geometry on the tip link)"
    for shape in model.link(chain.tip_link).geometry:
        origin = np.asarray(shape.origin)
        center, axes = origin[:3, 3], origin[:3, :3]
        if shape.kind == "sphere":
            point = center + shape.size[0] * direction
        elif shape.kind == "cylinder":
            axis = axes[:, 2]
            sign = 1.0 if axis @ direction >= 0 else -1.0
            point = center + sign * 0.5 * shape.size[1] * axis
        elif shape.kind == "box":
            point = center.copy()
            for k in range(3):
                component = axes[:, k] @ direction
                point += np.sign(component) * 0.5 * shape.size[k] * axes[:, k] * (abs(component) > 0.5)
        else:
            continue
        if best is None or point @ direction > best @ direction:
            best = point
            source = f"end of the tip link's {shape.kind} geometry"
    if best is None:
        best = np.zeros(3)
    return (float(best[0]), float(best[1]), float(best[2])), source


def _on_chains(joint: UrdfJoint, chains: list[_Chain]) -> bool:
    return any(joint in chain.joints for chain in chains)


def _proposal(finger: Finger, chain: _Chain) -> ChainProposal:
    return ChainProposal(finger=finger, tip_link=chain.tip_link, offset=chain.offset, offset_source=chain.offset_source,
                         joints=tuple(j.name for j in chain.joints))


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 1e-12 else vector


def _rpy(matrix: np.ndarray) -> tuple[float, float, float]:
    pitch = float(np.arcsin(-np.clip(matrix[2, 0], -1.0, 1.0)))
    if abs(abs(matrix[2, 0]) - 1.0) < 1e-9:  # gimbal lock: put everything into yaw
        roll = 0.0
        yaw = float(np.arctan2(-matrix[0, 1], matrix[1, 1]))
    else:
        roll = float(np.arctan2(matrix[2, 1], matrix[2, 2]))
        yaw = float(np.arctan2(matrix[1, 0], matrix[0, 0]))
    rpy = (roll, pitch, yaw)
    assert np.allclose(rpy_matrix(rpy), matrix, atol=1e-6), "rpy round trip"
    return tuple(0.0 if abs(v) < 1e-12 else v for v in rpy)  # type: ignore[return-value]
