"""Functional joint slots: one fixed layout of finger x joint-role slots that every hand fills from its spec.

Why a third action representation: a policy acting in padded raw joints reads "joint 3" as whatever the
third joint of each hand is, so it cannot drive a hand it never saw; the shared latent can, through
fitted heads. Between the two sits the representation DexJoCo-X (arXiv 2610.03278) calls
function-aligned slots and found as strong as native joints: every joint is written, scaled to [-1, 1]
by its limits, into the slot of its function (which finger, which joint along it) in one fixed-width
vector. Our benchmark has to compare the latent against it, and a hand must need no table written for
it, so the layout here is derived from the hand's spec and kinematics alone:

1. **Finger.** A joint belongs to the canonical finger whose tip it moves (:func:`finger_joints`: the
   palm-to-tip path of each tip link, a mimic joint standing for the actuated joint it follows; a
   joint that moves several tips, like a palm spread driving mimics, belongs to the first finger in
   canonical order). The naive retargeting baseline maps joints with the same function.
2. **Role along a finger** (index, middle, ring, little). Each joint is swept across its range from the
   zero pose. A joint that moves its fingertip more across the palm (xlsdk palm-frame X) than in the
   palm's sagittal plane (Y, Z) is *lateral* and takes ``spread``. The others flex the finger; taken
   palm to tip, up to three take ``proximal``, ``middle``, ``distal`` in that order (a one-joint
   finger, MCP driving its PIP through a mimic, fills ``proximal``), and with four or more the last
   three do, the one before them takes ``base`` (a metacarpal joint that cups the palm).
3. **Role along the thumb.** Thumbs are built too differently (a yaw, a pitch, a twist, in any order)
   for a palm-frame test to name their joints, so thumb joints take ``j1`` ... ``j5`` by their order
   from the palm: the first actuated joint along the thumb is always in ``thumb.j1``.
4. **Spill.** Two joints that claim one slot (a second spread joint, a sixth thumb joint, a flexing
   joint before ``base``) still each get their own: the one nearer the palm keeps the role, the other
   goes to its finger's ``extra`` slot, else to the palm's ``spill1``, ``spill2``, which also take the
   joints that move no fingertip at all (palm slots are handed out in command order). A hand that
   still has joints left is refused with :class:`~xlsdk.errors.SlotLayoutError` naming them: the
   layout stays fixed, so every policy trained in it keeps its width.

The layout is 32 slots wide (5 fingers x 6 + 2 palm), the width DexJoCo-X uses; a slot a hand leaves
empty is masked (:attr:`SlotLayout.mask`), so a trainer can leave it out of its loss.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from xlsdk.errors import SlotLayoutError
from xlsdk.manifest import CANONICAL_FINGERS, Finger

if TYPE_CHECKING:
    from xlsdk.hand import Hand

#: roles of the index, middle, ring and little finger, palm to tip, then the spill slot
FINGER_ROLES = ("base", "spread", "proximal", "middle", "distal", "extra")
#: roles of the thumb: its n-th actuated joint from the palm, then the spill slot
THUMB_ROLES = ("j1", "j2", "j3", "j4", "j5", "extra")
#: the hand-wide spill slots (joints no finger slot could take, or that move no fingertip)
PALM_ROLES = ("spill1", "spill2")
#: the flexing roles a finger fills from the palm; a finger with more flexing joints starts at ``base``
_FLEXION_ROLES = ("proximal", "middle", "distal")


class Slot(BaseModel):
    """One entry of the slot vector: a canonical finger (or ``palm``) and a role along it."""

    model_config = ConfigDict(frozen=True)
    finger: str
    role: str

    @property
    def name(self) -> str:
        return f"{self.finger}.{self.role}"


def _all_slots() -> tuple[Slot, ...]:
    slots = [Slot(finger=finger, role=role) for finger in CANONICAL_FINGERS
             for role in (THUMB_ROLES if finger == "thumb" else FINGER_ROLES)]
    return (*slots, *(Slot(finger="palm", role=role) for role in PALM_ROLES))


#: the fixed layout every hand is written into, in vector order
SLOTS: tuple[Slot, ...] = _all_slots()
SLOT_COUNT = len(SLOTS)
_INDEX = {slot.name: index for index, slot in enumerate(SLOTS)}


class JointSlot(BaseModel):
    """Where one actuated joint sits, and why there (what ``xlsdk info`` prints)."""

    model_config = ConfigDict(frozen=True)
    joint: str
    slot: str
    index: int
    reason: str
    #: the joint's role claimed another slot (already taken), or it has no role (moves no fingertip)
    spilled: bool = False


class SlotLayout(BaseModel):
    """One hand's joints in the fixed slot layout: ``joints[i]`` (command order) sits in slot ``index``."""

    model_config = ConfigDict(frozen=True)
    hand: str
    joints: tuple[JointSlot, ...]

    @property
    def indices(self) -> tuple[int, ...]:
        """Slot index of each actuated joint, in command order."""
        return tuple(entry.index for entry in self.joints)

    @property
    def mask(self) -> tuple[bool, ...]:
        """Per slot: does this hand have a joint there? (empty slots carry no signal: leave them out of a loss)"""
        taken = set(self.indices)
        return tuple(index in taken for index in range(SLOT_COUNT))


def finger_joints(hand: Hand) -> dict[Finger, list[str]]:
    """Canonical finger -> the actuated joints that move its tip, palm to tip (each joint under one finger).

    A mimic joint on the path stands for the actuated joint it follows, at the mimic's place along the
    finger; a joint already claimed by an earlier finger (canonical order) is not repeated.
    """
    claimed: set[str] = set()
    owned: dict[Finger, list[str]] = {}
    mimic = hand.spec.mimic
    actuated = set(hand.joint_names)
    for finger, tip in hand.spec.manifest.fingers.items():
        joints: list[str] = []
        for joint in hand.spec.urdf.path_between(hand.spec.manifest.palm_link, tip.link) or []:
            name = mimic[joint.name].source if joint.name in mimic else joint.name
            if name in actuated and name not in claimed:
                claimed.add(name)
                joints.append(name)
        owned[finger] = joints
    return owned


def joint_fingers(hand: Hand) -> dict[str, Finger]:
    """Actuated joint -> the canonical finger whose tip it moves (the first such finger)."""
    return {joint: finger for finger, joints in finger_joints(hand).items() for joint in joints}


def lateral_joints(hand: Hand) -> set[str]:
    """Joints that, swept over their range from the zero pose, move their finger's tip more across the palm
    (palm-frame X) than in the plane the finger curls in (Y, Z): spread/abduction joints.

    A joint that moves its tip not at all from the zero pose (a twist about a straight finger) counts as
    lateral too: it does not flex.
    """
    import numpy as np

    from xlsdk.tip_kinematics import TipKinematics  # numpy: `xlsdk info` shows the slots without torch

    owner = joint_fingers(hand)
    lower, upper = np.asarray(hand.spec.lower, dtype=np.float64), np.asarray(hand.spec.upper, dtype=np.float64)
    sweeps = np.repeat(hand.zero_pose()[None].astype(np.float64), 2 * hand.dof, axis=0)
    for joint in range(hand.dof):
        sweeps[2 * joint, joint] = lower[joint]
        sweeps[2 * joint + 1, joint] = upper[joint]
    tips, _ = TipKinematics(hand).evaluate(sweeps, jacobian=False)
    tips = tips.reshape(hand.dof, 2, len(hand.fingers), 3)
    chord = tips[:, 1] - tips[:, 0]  # (dof, F, 3): where each joint's sweep moves each tip
    lateral: set[str] = set()
    for index, name in enumerate(hand.joint_names):
        finger = owner.get(name)
        if finger is None:
            continue
        move = chord[index, hand.fingers.index(finger)]
        if abs(float(move[0])) >= float(np.linalg.norm(move[1:])):
            lateral.add(name)
    return lateral


def slot_layout(hand: Hand) -> SlotLayout:
    """Place every actuated joint of ``hand`` in its own slot of :data:`SLOTS` (rules: module docstring)."""
    owned = finger_joints(hand)
    lateral = lateral_joints(hand)
    wanted: dict[str, tuple[str, str]] = {}  # joint -> (slot it claims, why)
    for finger, joints in owned.items():
        if finger == "thumb":
            for position, joint in enumerate(joints):
                role = THUMB_ROLES[position] if position < len(THUMB_ROLES) - 1 else "extra"
                wanted[joint] = (f"thumb.{role}", f"thumb joint {position + 1} from the palm")
            continue
        flexing = [joint for joint in joints if joint not in lateral]
        roles = list(_FLEXION_ROLES[: len(flexing)]) if len(flexing) <= 3 else \
            ["extra"] * (len(flexing) - 4) + ["base", *_FLEXION_ROLES]
        for joint, role in zip(flexing, roles, strict=True):
            wanted[joint] = (f"{finger}.{role}", f"flexes the {finger} finger")
        for joint in joints:
            if joint in lateral:
                wanted[joint] = (f"{finger}.spread", f"moves the {finger} tip across the palm")
    taken: dict[str, str] = {}
    placed: dict[str, JointSlot] = {}
    order = [joint for joints in owned.values() for joint in joints]  # palm to tip, finger by finger
    left = [joint for joint in hand.joint_names if joint not in wanted]
    for joint in order:
        slot, why = wanted[joint]
        finger = slot.split(".")[0]
        for candidate in (slot, f"{finger}.extra"):
            if candidate not in taken:
                taken[candidate] = joint
                reason = why if candidate == slot else f"{why}; {slot} is taken by {taken[slot]!r}"
                placed[joint] = JointSlot(joint=joint, slot=candidate, index=_INDEX[candidate], reason=reason,
                                          spilled=candidate != slot)
                break
        else:
            left.append(joint)
    refused: list[str] = []
    for joint in sorted(left, key=hand.joint_names.index):
        free = next((f"palm.{role}" for role in PALM_ROLES if f"palm.{role}" not in taken), None)
        if free is None:
            refused.append(joint)
            continue
        taken[free] = joint
        why = (f"{wanted[joint][0]} and its finger's extra slot are taken" if joint in wanted
               else "moves no fingertip")
        placed[joint] = JointSlot(joint=joint, slot=free, index=_INDEX[free], reason=why, spilled=True)
    if refused:
        raise SlotLayoutError(
            f"hand {hand.name!r}: no free slot for joint(s) {', '.join(map(repr, refused))} "
            f"(each finger holds {len(FINGER_ROLES)} joints, the palm {len(PALM_ROLES)} more)",
            hint="declare the joints that only follow another as <mimic> in the URDF, or train this hand in the "
                 "latent or raw action space")
    return SlotLayout(hand=hand.name, joints=tuple(placed[joint] for joint in hand.joint_names))
