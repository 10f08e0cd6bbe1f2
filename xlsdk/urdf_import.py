"""From a vendor's URDF to a proposed hand manifest: the tedious part of ``xlsdk new-hand``.

Nothing here is hand-specific; the proposals come from the tree, its names and its geometry at the zero pose:

1. **palm**: walk down from the root while only one child branch contains movable joints (arms, wrist
   joints, mounting flanges: skipped and listed); the first link where several such branches diverge is
   the palm. A branch reached through fixed joints that splits again extends the palm.
2. **finger chains**: each branch of the palm ends in leaves; the chain's tip link is the leaf farthest
   from the palm (a tip frame beats a tactile pad hanging off a middle phalanx). A branch whose joints
   only drive other joints through ``<mimic>`` and that carries nothing (a spread joint on the palm) is a
   driver, not a finger.
3. **joints**: the movable non-mimic joints on the chains, plus every joint a chain's mimic joints follow
   (wherever it sits), in URDF order; mimic and fixed ones are derived.
4. **names first**: each chain's link and joint names are split into tokens (``rh_FFJ3`` -> rh, ffj;
   ``R_index_proximal`` -> r, index, proximal) and matched case-insensitively against thumb/th,
   index/ff/first/fore, middle/mf, ring/rf, little/pinky/lf. Numbers are never names (``finger_0``,
   ``joint_3.0``). A chain gets a finger when its names agree on one.
5. **then geometry**: the thumb is the chain pointing most against the others, curling against them and
   sitting nearest the wrist; the palm frame has +Z along the other fingers, +Y the side they curl to
   (perpendicular to the line of their knuckles) and +X = Y x Z: a right-handed frame built from the
   fingers alone, so the palm link's axes never decide the side. The thumb's side is where it is mounted
   and where its workspace lies along X (not where its tip happens to point at the zero pose: a thumb
   resting folded across the palm is still on its side). A right hand has its thumb on -X, a left hand on
   +X. The other chains are ordered by their signed position along X from the thumb's side: index,
   middle, ring, little. Names win over geometry for fingers; for the side, names (``lh_``, ``_r``, the
   robot's name) are a second opinion used only when the geometry cannot tell. Every disagreement is a note.
6. **tip offset**: a tip frame (a geometry-less leaf) is the tip; else the end of the tip link's primitive
   geometry along the finger; else the farthest point of its mesh from its joint (when the mesh file
   resolves); else the link origin, with a warning saying how to set ``offset``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.errors import UrdfError
from xlsdk.transforms import axis_angle_matrix, matrix_rpy, rpy_matrix
from xlsdk.manifest import CANONICAL_FINGERS, Finger
from xlsdk.urdf import LinkGeometry, UrdfJoint, UrdfModel

Handedness = Literal["right", "left"]

#: name tokens of each canonical finger: a token is a finger's word or code, alone or followed by a phalanx word
#: (``thumbtip``, ``forefinger``, ``ffknuckle``, ``thj`` from ``THJ5``; never ``forearm``)
_FINGER_WORDS: dict[Finger, tuple[str, ...]] = {
    "thumb": ("thumb", "pollex"),
    "index": ("index", "fore", "first"),
    "middle": ("middle",),
    "ring": ("ring",),
    "little": ("little", "pinky", "pinkie", "small"),
}
_FINGER_CODES: dict[Finger, str] = {"thumb": "th", "index": "ff", "middle": "mf", "ring": "rf", "little": "lf"}
_PART_WORDS = ("", "j", "joint", "link", "base", "hub", "knuckle", "metacarpal", "proximal", "middle", "medial",
               "intermediate", "distal", "tip", "pad", "finger", "phalanx")
_SIDE_TOKENS: dict[Handedness, tuple[str, ...]] = {"right": ("right", "r", "rh", "rj", "rl"),
                                                    "left": ("left", "l", "lh", "lj", "ll")}
_TIP_FRAME_MIN = 1e-3  # a geometry-less leaf this far from its parent's origin is a tip frame
_DRIVER_EXTENT = 0.01  # a mimic-driver branch carries nothing farther than this from the palm joint
_SIDE_AMBIGUOUS = 0.3  # |thumb side evidence| below this (in knuckle half-spans): geometry cannot tell the side


class ChainProposal(BaseModel):
    model_config = ConfigDict(frozen=True)
    finger: Finger
    tip_link: str
    offset: tuple[float, float, float]
    offset_source: str
    joints: tuple[str, ...]
    reason: str = ""
    named: Finger | None = None  # the finger the chain's names say, if they say one
    geometric: Finger | None = None  # the finger its place in the hand says


class ManifestProposal(BaseModel):
    """Everything ``new-hand`` proposes, with the reasons it gives the vendor."""

    model_config = ConfigDict(frozen=True)
    palm_link: str
    joints: tuple[str, ...]
    mimic_joints: tuple[str, ...]
    fixed_joints: tuple[str, ...]
    chains: tuple[ChainProposal, ...]
    palm_rpy: tuple[float, float, float]
    handedness: Handedness = "right"
    handedness_source: str = ""
    skipped_joints: tuple[str, ...] = ()
    #: proposed [limits] for actuated continuous joints (URDF gives them no range)
    limits: dict[str, tuple[float, float]] = {}
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def fingers(self) -> dict[Finger, ChainProposal]:
        return {chain.finger: chain for chain in self.chains}


@dataclass
class _Chain:
    branch: str
    tip_link: str
    joints: list[UrdfJoint]  # palm -> tip
    names: list[str]
    shared: int = 0  # leading joints the chain shares with other fingers (a palm segment's joint): not its knuckle
    named: Finger | None = None
    fk: _ChainFK | None = None
    knuckle: np.ndarray = field(default_factory=lambda: np.zeros(3))
    tip: np.ndarray = field(default_factory=lambda: np.zeros(3))
    tip_frame: np.ndarray = field(default_factory=lambda: np.eye(4))
    curl: np.ndarray = field(default_factory=lambda: np.zeros(3))
    open_tip: np.ndarray = field(default_factory=lambda: np.zeros(3))


def propose_manifest(model: UrdfModel, palm: str | None = None) -> ManifestProposal:
    """Propose palm, actuated joints, canonical fingers, tip offsets, palm frame and handedness for ``model``.

    ``palm`` overrides the proposed palm link (the vendor knows better).
    """
    movable_below = _movable_below(model)
    palm = palm or find_palm(model, movable_below)
    values = _zero_values(model)
    transforms = _zero_pose_transforms(model, palm, values)
    chains = _finger_chains(model, palm, movable_below, transforms)
    if len(chains) < 2:
        raise UrdfError(model.path, [f"palm link {palm!r} has {len(chains)} finger chain(s); a hand needs a thumb and "
                                     "at least one finger (chains of movable joints hanging off the palm)"])
    if len(chains) > 5:
        raise UrdfError(model.path, [f"palm link {palm!r} has {len(chains)} finger chains; xlsdk knows five canonical "
                                     "fingers (thumb, index, middle, ring, little)"])
    for chain in chains:
        chain.fk = _ChainFK(model, chain.joints, values)
        movable = [j for j in chain.joints[chain.shared:] if j.movable]
        chain.knuckle = transforms[movable[0].child][:3, 3] if movable else transforms[chain.tip_link][:3, 3]
        chain.tip_frame = transforms[chain.tip_link]
        chain.tip = chain.tip_frame[:3, 3]
        chain.curl = _curl(chain)
        chain.open_tip = _open_tip(chain)
        chain.named = _finger_from_names(chain.names)
    notes: list[str] = []
    warnings: list[str] = []

    geometric_thumb = chains[_pick_thumb(chains)]
    named_thumbs = [c for c in chains if c.named == "thumb"]
    thumb = named_thumbs[0] if len(named_thumbs) == 1 else geometric_thumb
    if len(named_thumbs) > 1:
        notes.append(f"several chains are named like a thumb ({', '.join(c.tip_link for c in named_thumbs)}); "
                     f"chose the thumb by geometry: {thumb.tip_link}")
        for chain in named_thumbs:
            chain.named = None
    elif named_thumbs and thumb is not geometric_thumb:
        notes.append(f"names and geometry disagree on the thumb: names say the chain ending at {thumb.tip_link!r}, "
                     f"geometry (the chain pointing most against the others) says {geometric_thumb.tip_link!r}; "
                     "used the names")
    others = [c for c in chains if c is not thumb]
    frame = _palm_axes(others, thumb)

    side, side_source = _thumb_side(thumb, others, frame)
    named_side, side_token = _side_from_names(model, palm)
    if side is None:
        if named_side is not None:
            handedness, handedness_source = named_side, f"names: {side_token}; {side_source}"
        else:
            handedness, handedness_source = "right", f"assumed: {side_source} and no left/right names"
            notes.append(f"could not tell a left from a right hand ({side_source}); assumed right: set "
                         "`handedness` in hand.toml if it is a left hand")
    else:
        handedness, handedness_source = side, side_source
        if named_side is not None and named_side != side:
            notes.append(f"the names ({side_token}) say a {named_side} hand, the geometry says {side} "
                         f"({side_source}); used the geometry")
    sign = -1.0 if handedness == "right" else 1.0  # where the thumb's side is along X
    lateral = {id(c): float(((c.knuckle + c.tip) / 2) @ frame[:, 0]) for c in others}
    across = sorted(others, key=lambda c: -sign * lateral[id(c)])
    geometric = {id(c): f for c, f in zip(across, CANONICAL_FINGERS[1:], strict=False)}
    geometric[id(geometric_thumb)] = "thumb"
    if geometric_thumb is not thumb:
        geometric.pop(id(thumb), None)

    assigned = _assign_fingers(thumb, across, notes)
    proposals: list[ChainProposal] = []
    for chain in chains:
        finger, reason = assigned[id(chain)]
        offset, source, warning = _tip_offset(model, chain, finger)
        if warning:
            warnings.append(warning)
        proposals.append(ChainProposal(finger=finger, tip_link=chain.tip_link, offset=offset, offset_source=source,
                                       joints=tuple(j.name for j in chain.joints), reason=reason, named=chain.named,
                                       geometric=geometric.get(id(chain))))

    on_chains = {j.name for chain in chains for j in chain.joints}
    mimic = [j.name for j in model.joints if j.mimic is not None and j.name in on_chains]
    sources = {_mimic_source(model, name) for name in mimic}
    actuated = [j.name for j in model.joints
                if j.movable and j.mimic is None and (j.name in on_chains or j.name in sources)]
    fixed = [j.name for j in model.joints if not j.movable]
    used = set(actuated) | set(mimic)
    above = {j.name for j in (model.path_between(model.root, palm) or [])}
    skipped_above = [j.name for j in model.joints if j.movable and j.name in above]
    skipped_other = [j.name for j in model.joints if j.movable and j.name not in above and j.name not in used]
    if skipped_above:
        notes.append(f"skipped {len(skipped_above)} joint(s) above the palm (arm/wrist, not part of the hand): "
                     + ", ".join(skipped_above))
    if skipped_other:
        notes.append(f"skipped {len(skipped_other)} joint(s) that move no fingertip: " + ", ".join(skipped_other))
    off_chain_sources = [name for name in actuated if name not in on_chains]
    if off_chain_sources:
        notes.append("actuated though on no finger chain (fingers follow them through <mimic>): "
                     + ", ".join(off_chain_sources))
    continuous = [name for name in actuated if model.joint(name).type == "continuous"]
    limits = {name: _sweep_ends(model.joint(name)) if model.joint(name).lower is not None and
              model.joint(name).upper is not None else (-float(np.pi), float(np.pi)) for name in continuous}
    if continuous:
        notes.append("continuous joint(s) given a range in [limits] ([-pi, pi] unless the URDF's <limit> has one); "
                     "narrow it to the real range: " + ", ".join(continuous))
    rpy = matrix_rpy(frame, snap=1e-12)
    assert np.allclose(rpy_matrix(rpy), frame, atol=1e-6), "rpy round trip"
    if not np.allclose(frame, np.eye(3), atol=1e-6):
        notes.append("the palm link's axes differ from the xlsdk palm frame; [palm_frame] converts them")
    order = {name: i for i, name in enumerate(CANONICAL_FINGERS)}
    proposals.sort(key=lambda p: order[p.finger])
    return ManifestProposal(palm_link=palm, joints=tuple(actuated), mimic_joints=tuple(mimic),
                            fixed_joints=tuple(fixed),
                            chains=tuple(proposals), palm_rpy=rpy, handedness=handedness,
                            handedness_source=handedness_source, skipped_joints=tuple(skipped_above + skipped_other),
                            limits=limits, notes=tuple(notes), warnings=tuple(warnings))


def find_palm(model: UrdfModel, movable_below: dict[str, bool] | None = None) -> str:
    """The first link (from the root) where more than one branch with movable joints starts."""
    movable_below = movable_below if movable_below is not None else _movable_below(model)
    link = model.root
    while True:
        branches = [j for j in model.child_joints(link) if movable_below[j.name]]
        if len(branches) != 1:
            return link
        link = branches[0].child


# --- names ----------------------------------------------------------------------------------------------------------

def name_tokens(name: str) -> list[str]:
    """Lowercase word tokens of a link/joint name: split at non-letters, digits and lower->Upper steps."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return [token.lower() for token in re.split(r"[^A-Za-z]+", spaced) if token]


def fingers_in_name(name: str) -> set[Finger]:
    """The canonical fingers a single name mentions (``rh_ffmiddle`` is the first finger's middle phalanx)."""
    found: set[Finger] = set()
    tokens = name_tokens(name)
    for token in tokens:
        for finger, words in _FINGER_WORDS.items():  # "thumbtip", "forefinger" yes; "forearm" no
            if any(token.startswith(word) and token[len(word):] in _PART_WORDS for word in words):
                found.add(finger)
        for finger, code in _FINGER_CODES.items():
            if token.startswith(code) and token[len(code):] in _PART_WORDS:
                found.add(finger)
    if len(found) > 1 and "middle" in found:
        found.discard("middle")  # "index_middle_link": the middle phalanx of the index finger
    return found


def _finger_from_names(names: list[str]) -> Finger | None:
    votes: dict[Finger, int] = {}
    for name in names:
        for finger in fingers_in_name(name):
            votes[finger] = votes.get(finger, 0) + 1
    if not votes:
        return None
    ranked = sorted(votes.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[1][1] * 2 > ranked[0][1]:
        return None  # the names do not agree on one finger
    return ranked[0][0]


def _side_from_names(model: UrdfModel, palm: str) -> tuple[Handedness | None, str]:
    """left/right from the hand's names: a side word or letter at the start or end of most link names below
    the palm (``lh_``, ``left_hand_``, ``R_``, ``palm_r``, ``index_link_l``), else in the robot's name.

    Only a second opinion: the geometry decides whenever it can, and a disagreement becomes a note.
    """
    counts: dict[Handedness, int] = {"right": 0, "left": 0}
    token_of: dict[Handedness, str] = {}
    names = model.links_below(palm)
    for name in names:
        tokens = name_tokens(name)
        if not tokens:
            continue
        for side, words in _SIDE_TOKENS.items():
            if tokens[0] in words or (len(tokens) > 1 and tokens[-1] in words):
                counts[side] += 1
                token_of.setdefault(side, name)
    for side, other in (("right", "left"), ("left", "right")):
        if counts[side] > 0 and counts[side] >= 0.6 * len(names) and counts[other] == 0:
            return side, f"link names such as {token_of[side]!r}"  # type: ignore[return-value]
    robot = set(name_tokens(model.name))
    sides = [side for side in ("right", "left") if side in robot]
    if len(sides) == 1:
        return sides[0], f"the robot's name {model.name!r}"  # type: ignore[return-value]
    return None, ""


def _assign_fingers(thumb: _Chain, across: list[_Chain], notes: list[str]) -> dict[int, tuple[Finger, str]]:
    """Names first, then the geometric order across the palm for the chains whose names say nothing."""
    assigned: dict[int, tuple[Finger, str]] = {id(thumb): ("thumb", "named thumb" if thumb.named == "thumb" else
                                                           "the chain pointing most against the others")}
    claims: dict[Finger, list[_Chain]] = {}
    for chain in across:
        if chain.named is not None:
            claims.setdefault(chain.named, []).append(chain)
    for finger, claimants in claims.items():
        if finger == "thumb" or len(claimants) > 1:
            notes.append(f"the names of {', '.join(c.tip_link for c in claimants)} all say {finger}; ordered "
                         "them by geometry instead")
            for chain in claimants:
                chain.named = None
    taken = {chain.named for chain in across if chain.named is not None}
    free = [f for f in CANONICAL_FINGERS[1:] if f not in taken]
    position = {id(c): i for i, c in enumerate(across)}
    for chain in across:
        geometric = CANONICAL_FINGERS[1 + position[id(chain)]]
        if chain.named is not None:
            assigned[id(chain)] = (chain.named, f"named {chain.named}")
            if chain.named != geometric:
                notes.append(f"names and geometry disagree: the chain ending at {chain.tip_link!r} is named "
                             f"{chain.named}, but it is finger {position[id(chain)] + 1} from the thumb's side "
                             f"({geometric} by geometry); used the names")
        else:
            finger = free.pop(0)
            assigned[id(chain)] = (finger, f"finger {position[id(chain)] + 1} across the palm from the thumb's side")
    return assigned


# --- tree walking -----------------------------------------------------------------------------------------------------

def _movable_below(model: UrdfModel) -> dict[str, bool]:
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


def _zero_values(model: UrdfModel) -> dict[str, float]:
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


def _zero_pose_transforms(model: UrdfModel, palm: str, values: dict[str, float]) -> dict[str, np.ndarray]:
    """Every link below ``palm`` in the palm frame at the zero pose (mimic values applied)."""
    transforms = {palm: np.eye(4)}
    frontier = [palm]
    while frontier:
        link = frontier.pop()
        for joint in model.child_joints(link):
            q = values.get(joint.name, 0.0) if joint.movable else 0.0
            transforms[joint.child] = transforms[link] @ joint.origin_matrix() @ _motion(joint, q)
            frontier.append(joint.child)
    return transforms


def _finger_chains(model: UrdfModel, palm: str, movable_below: dict[str, bool],
                   transforms: dict[str, np.ndarray]) -> list[_Chain]:
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
    chains: list[_Chain] = []
    drivers: list[_Chain] = []
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
            chain = _Chain(branch=branch.name, tip_link=tip, joints=path, names=own + own_joints, shared=shared)
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
    reach = {j.child: max(float(np.linalg.norm(transforms[leaf][:3, 3] - origin)) for leaf in model.leaves_below(j.child))
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


def _mimic_source(model: UrdfModel, name: str) -> str:
    joint = model.joint(name)
    seen = {name}
    while joint.mimic is not None and joint.mimic.joint not in seen:
        seen.add(joint.mimic.joint)
        joint = model.joint(joint.mimic.joint)
    return joint.name


def _motion(joint: UrdfJoint, q: float) -> np.ndarray:
    out = np.eye(4)
    axis = np.asarray(joint.axis)
    if joint.type in ("revolute", "continuous") and q:
        out[:3, :3] = axis_angle_matrix(axis, q)
    elif joint.type == "prismatic":
        out[:3, 3] = axis * q
    return out


class _ChainFK:
    """A chain's tip (palm frame) as a function of joint values, mimic joints following.

    Prefix and suffix products at the zero pose make one joint's sweep O(1) when no other joint on the chain
    follows it, so the whole import stays linear in the chain length.
    """

    def __init__(self, model: UrdfModel, joints: list[UrdfJoint], zero: dict[str, float]) -> None:
        self.model = model
        self.joints = joints
        self.zero = zero
        local = [j.origin_matrix() @ _motion(j, zero.get(j.name, 0.0) if j.movable else 0.0) for j in joints]
        self.prefix = [np.eye(4)]
        for matrix in local:
            self.prefix.append(self.prefix[-1] @ matrix)
        self.suffix = [np.array([0.0, 0.0, 0.0, 1.0])]
        for matrix in reversed(local):
            self.suffix.append(matrix @ self.suffix[-1])
        self.suffix.reverse()  # suffix[k]: the tip in the frame before joint k's origin
        self.followed = {_mimic_source(model, j.name) for j in joints if j.mimic is not None}

    def value(self, joint: UrdfJoint, values: dict[str, float]) -> float:
        if joint.mimic is None:
            return values.get(joint.name, 0.0)
        source = self.model.joint(joint.mimic.joint)
        return joint.mimic.multiplier * self.value(source, values) + joint.mimic.offset

    def tip(self, values: dict[str, float]) -> np.ndarray:
        transform = np.eye(4)
        for joint in self.joints:
            transform = transform @ joint.origin_matrix() @ _motion(joint, self.value(joint, values) if joint.movable
                                                                     else 0.0)
        return transform[:3, 3]

    def sweep(self, index: int, q: float) -> np.ndarray:
        """The tip with joint ``index`` at ``q`` and everything else at the zero pose."""
        joint = self.joints[index]
        if joint.name in self.followed:
            return self.tip({joint.name: q})
        point = self.prefix[index] @ joint.origin_matrix() @ _motion(joint, q) @ self.suffix[index + 1]
        return point[:3]


def _sweep_ends(joint: UrdfJoint) -> tuple[float, float]:
    low = joint.lower if joint.lower is not None else -0.5
    high = joint.upper if joint.upper is not None else 0.5
    return low, high


def _curl(chain: _Chain) -> np.ndarray:
    """Where the fingertip goes when the finger flexes, from each joint swept across its range.

    Two cues, both in metres: a sweep counts in proportion to how much it shortens the finger
    (knuckle-to-tip distance; the closed end is the shorter one), and in proportion to how lopsided its
    range is (fingers flex much farther than they hyperextend; the closed end is the far limit). The second
    cue matters when a flexion axis passes through the knuckle, where the first sees nothing.
    """
    assert chain.fk is not None
    total = np.zeros(3)
    for index, joint in enumerate(chain.joints):
        if not joint.movable or joint.mimic is not None or joint.type == "prismatic":
            continue
        low, high = _sweep_ends(joint)
        tips = [chain.fk.sweep(index, value) for value in (low, high)]
        reach = [float(np.linalg.norm(tip - chain.knuckle)) for tip in tips]
        closed, opened = (tips[0], tips[1]) if reach[0] < reach[1] else (tips[1], tips[0])
        total += abs(reach[0] - reach[1]) * _unit(closed - opened)
        span = abs(low) + abs(high)
        if span > 1e-9:
            far, near = (tips[1], tips[0]) if abs(high) >= abs(low) else (tips[0], tips[1])
            total += (abs(abs(high) - abs(low)) / span) * (far - near)
    return total


def _open_tip(chain: _Chain) -> np.ndarray:
    """The tip with every joint at the end of its range (or 0) that extends the finger most."""
    assert chain.fk is not None
    values: dict[str, float] = {}
    for index, joint in enumerate(chain.joints):
        if not joint.movable or joint.mimic is not None:
            continue
        low, high = _sweep_ends(joint)
        candidates = [v for v in (low, high, 0.0) if low <= v <= high]
        fk = chain.fk
        values[joint.name] = max(candidates, key=lambda v: (
            round(float(np.linalg.norm(fk.sweep(index, v) - chain.knuckle)), 6), v == 0.0))
    return chain.fk.tip(values)


def _pick_thumb(chains: list[_Chain]) -> int:
    """The chain pointing and curling most against the others, sitting apart from them and nearest the wrist."""
    directions = [_unit(c.tip - c.knuckle) for c in chains]
    curls = [_unit(c.curl) for c in chains]
    length = float(np.mean([np.linalg.norm(c.tip - c.knuckle) for c in chains])) or 1.0
    scores = []
    for i, chain in enumerate(chains):
        others = [j for j in range(len(chains)) if j != i]
        along = _unit(np.mean([directions[j] for j in others], axis=0))
        opposed = 1.0 - float(directions[i] @ along)
        curl_against = 0.5 * (1.0 - float(curls[i] @ _unit(np.mean([curls[j] for j in others], axis=0))))
        centroid = np.mean([chains[j].knuckle for j in others], axis=0)
        apart = float(np.linalg.norm(chain.knuckle - centroid)) / length
        lower = float(np.clip((centroid - chain.knuckle) @ along / length, -1.0, 1.0))
        scores.append(opposed + 0.5 * curl_against + 0.25 * apart + 0.5 * lower)
    return int(np.argmax(scores))


def _palm_axes(fingers: list[_Chain], thumb: _Chain) -> np.ndarray:
    """Columns: the xlsdk palm frame's X, Y, Z expressed in the palm link's frame.

    +Z: the mean open direction of the fingers. +Y: perpendicular to +Z and to the line of the knuckles
    (two or more fingers), on the side the fingers curl to; with one finger, its curl direction.
    """
    z = _unit(np.mean([_unit(c.open_tip - c.knuckle) for c in fingers], axis=0))
    curl = sum((c.curl for c in fingers), np.zeros(3))
    curl -= (curl @ z) * z
    normal = None
    if len(fingers) >= 2:
        knuckles = np.array([c.knuckle for c in fingers])
        points = knuckles - knuckles.mean(axis=0)
        points -= np.outer(points @ z, z)
        _, singular, vt = np.linalg.svd(points)
        if singular[0] > 1e-4:
            normal = _unit(np.cross(z, vt[0]))
            cue = float(curl @ normal)
            if abs(cue) < 1e-9:  # the fingers' curl says nothing: the thumb sits on the palm side
                cue = float((thumb.open_tip - knuckles.mean(axis=0)) @ normal)
            normal = normal if cue >= 0 else -normal
    if normal is None:
        if np.linalg.norm(curl) < 1e-9:
            curl = np.cross(z, [1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.cross(z, [0.0, 1.0, 0.0])
        normal = _unit(curl)
    y = normal
    x = _unit(np.cross(y, z))
    y = np.cross(z, x)
    frame = np.stack([x, y, z], axis=1)
    frame[np.abs(frame) < 1e-5] = 0.0  # axis-aligned vendor frames come out exactly so (clean rpy, no gimbal noise)
    z = _unit(frame[:, 2])
    x = _unit(np.cross(frame[:, 1], z))
    return np.stack([x, np.cross(z, x), z], axis=1)


def _thumb_side(thumb: _Chain, others: list[_Chain], frame: np.ndarray) -> tuple[Handedness | None, str]:
    """Which side of the finger row the thumb is on (right hand: -X), from the hand's chirality.

    ``frame`` is built from the fingers alone (+Z where they point, +Y where they curl, +X = Y x Z), so
    it is right-handed whatever the palm link's axes are: a mirrored hand gets the mirrored fingers and
    the same frame rule, and its thumb lands on the other side. The evidence, in half-spans of the other
    knuckles, is where the thumb is rather than where it points at the zero pose: where it is mounted
    (its first joint) plus the middle of its workspace (its tip over its joints' ranges). A thumb resting
    folded across the palm, or pointing along the fingers, still has its mount and its reach on its side.
    """
    x = frame[:, 0]
    positions = [float(c.knuckle @ x) for c in others]
    centre = float(np.mean(positions))
    span = max(max(abs(p - centre) for p in positions), 0.01)
    mount = (float(thumb.knuckle @ x) - centre) / span
    reach = (float(_workspace_centre(thumb) @ x) - centre) / span
    evidence = mount + reach
    if abs(evidence) < _SIDE_AMBIGUOUS:
        return None, "the thumb sits on neither side of the finger row"
    side: Handedness = "right" if evidence < 0 else "left"
    where = "-X" if evidence < 0 else "+X"
    return side, (f"geometry: the thumb is mounted and reaches on the {where} side of the finger row, seen with "
                  f"the fingers pointing +Z and curling to +Y ({evidence:+.2f} knuckle half-spans)")


_WORKSPACE_SAMPLES = 243  # 3^5: a thumb's joints at their ends and middles, or this many random poses


def _workspace_centre(chain: _Chain) -> np.ndarray:
    """The mean fingertip over the chain's actuated joints' ranges (ends and middles), in the palm frame."""
    assert chain.fk is not None
    actuated = [j for j in chain.joints if j.movable and j.mimic is None]
    if not actuated:
        return chain.tip
    levels = [np.linspace(*_sweep_ends(j), 3) for j in actuated]
    if 3 ** len(actuated) <= _WORKSPACE_SAMPLES:
        grid = np.stack(np.meshgrid(*levels, indexing="ij"), axis=-1).reshape(-1, len(actuated))
    else:  # a long chain: the same number of seeded random poses inside the ranges
        rng = np.random.default_rng(0)
        grid = np.stack([rng.uniform(level[0], level[-1], _WORKSPACE_SAMPLES) for level in levels], axis=1)
    names = [j.name for j in actuated]
    return np.mean([chain.fk.tip(dict(zip(names, row, strict=True))) for row in grid], axis=0)


# --- fingertips -------------------------------------------------------------------------------------------------------

def _tip_offset(model: UrdfModel, chain: _Chain, finger: Finger) -> tuple[tuple[float, float, float], str, str]:
    """The fingertip in the tip link's frame, where it came from, and a warning when it is only a guess."""
    link = model.link(chain.tip_link)
    parent = model.parent_joint(chain.tip_link)
    if not link.geometry and parent is not None and not parent.movable and \
            float(np.linalg.norm(parent.origin_matrix()[:3, 3])) >= _TIP_FRAME_MIN:
        return (0.0, 0.0, 0.0), "the tip frame's origin", ""
    direction = chain.tip_frame[:3, :3].T @ _unit(chain.tip - chain.knuckle)  # the finger direction, tip link frame
    point, source = _primitive_end(link.geometry, direction)
    if point is None:
        point, source = _mesh_end(model, link.geometry, direction)
    if point is None:
        warning = (f"{finger} fingertip: link {chain.tip_link!r} has no tip frame, primitive geometry or loadable "
                   f"mesh, so the tip is at its origin (on its joint axis, short of the real fingertip); set `offset` "
                   f"in [fingers.{finger}] of hand.toml to the fingertip in {chain.tip_link}'s frame (metres)")
        return (0.0, 0.0, 0.0), "link origin (no tip frame, primitive geometry or loadable mesh)", warning
    rounded = tuple(0.0 if abs(v) < 1e-9 else round(float(v), 9) for v in point)  # no float dust in hand.toml
    return rounded, source, ""  # type: ignore[return-value]


def _primitive_end(shapes: tuple[LinkGeometry, ...], direction: np.ndarray) -> tuple[np.ndarray | None, str]:
    """The end of the link's primitive geometry (sphere, cylinder, box) along ``direction``."""
    best: np.ndarray | None = None
    source = ""
    for shape in shapes:
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
    return best, source


def _mesh_end(model: UrdfModel, shapes: tuple[LinkGeometry, ...],
              direction: np.ndarray) -> tuple[np.ndarray | None, str]:
    """The point of the link's meshes farthest from the link origin (its joint), on the finger's side.

    A distal phalanx's fingertip is the part of its mesh farthest from the joint it turns about; the mean of
    the vertices within 1.5 mm of that distance is the tip (a flat end face gives its centre).
    """
    vertices: list[np.ndarray] = []
    names: list[str] = []
    for shape in shapes:
        if shape.kind != "mesh" or not shape.filename:
            continue
        path = model.resolve_mesh(shape.filename)
        if path is None:
            continue
        points = _mesh_vertices(path)
        if points is None or not len(points):
            continue
        points = points * np.asarray(shape.size or (1.0, 1.0, 1.0))
        origin = np.asarray(shape.origin)
        vertices.append(points @ origin[:3, :3].T + origin[:3, 3])
        names.append(Path(shape.filename).name)
    if not vertices:
        return None, ""
    points = np.concatenate(vertices)
    ahead = points[points @ direction > 0]
    points = ahead if len(ahead) else points
    distance = np.linalg.norm(points, axis=1)
    tip = points[distance >= distance.max() - 1.5e-3].mean(axis=0)
    return tip, f"farthest point of mesh {', '.join(names)} from the joint"


def _mesh_vertices(path: Path) -> np.ndarray | None:
    import trimesh

    try:
        loaded = trimesh.load(str(path), force="mesh", process=False)
    except Exception:  # an unreadable mesh is only a lost hint: the next fallback takes over
        return None
    vertices = getattr(loaded, "vertices", None)
    if vertices is None:
        return None
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.size and not (np.all(np.isfinite(vertices)) and np.abs(vertices).max() <= MAX_MESH_COORDINATE):
        return None  # NaN or 1e300 vertices are no fingertip either: the next fallback takes over
    return vertices


#: a mesh vertex beyond this (in the mesh's own units, mm included) is a broken file, not a hand
MAX_MESH_COORDINATE = 1e6


# --- finger order conformance ----------------------------------------------------------------------------------

def finger_order_problems(model: UrdfModel, palm: str, fingers: dict[str, str],
                          handedness: Handedness | None = None) -> tuple[list[str], ManifestProposal]:
    """Where a manifest's fingers (finger -> tip link) contradict the hand's link names or its geometry.

    Names win: a chain whose names say a finger must be that finger. A chain whose names say nothing must
    sit where the geometry puts that finger (index next to the thumb's side, then middle, ring, little).
    """
    proposal = propose_manifest(model, palm)
    problems: list[str] = []
    for finger, tip_link in fingers.items():
        path = model.path_between(palm, tip_link) or []
        names = {j.name for j in path if j.movable}
        overlap = [(len(names.intersection(c.joints)), c) for c in proposal.chains]
        count, chain = max(overlap, key=lambda item: item[0])
        if count == 0:
            continue
        if chain.named is not None and chain.named != finger:
            problems.append(f"fingers.{finger} (link {tip_link!r}) is on the chain whose link/joint names say "
                            f"{chain.named}")
        elif chain.named is None and chain.geometric is not None and chain.geometric != finger:
            problems.append(f"fingers.{finger} (link {tip_link!r}) sits where the geometry puts the "
                            f"{chain.geometric} finger (counting from the thumb's side across the palm)")
    if handedness is not None and proposal.handedness != handedness and \
            proposal.handedness_source.startswith("geometry"):
        problems.append(f"handedness = {handedness!r}, but {proposal.handedness_source} ({proposal.handedness} hand)")
    return problems, proposal


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 1e-12 else vector
