"""The proposal itself: chains, names and geometry combined into the manifest ``xlsdk new-hand`` writes,
with the reasons and disagreements it reports; and the same proposal as a check of a written manifest.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.errors import UrdfError
from xlsdk.manifest import CANONICAL_FINGERS, Finger
from xlsdk.manifest_proposal.chains import (ChainFK, FingerChain, find_palm, finger_chains, joints_moving_below,
                                            mimic_source, sweep_ends, zero_pose_transforms, zero_values)
from xlsdk.manifest_proposal.names import Handedness, finger_from_names, side_from_names
from xlsdk.manifest_proposal.palm_geometry import extended_tip, flexion_direction, palm_axes, pick_thumb, thumb_side
from xlsdk.manifest_proposal.tips import tip_offset
from xlsdk.transforms import matrix_rpy, rpy_matrix
from xlsdk.urdf import UrdfModel


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


def propose_manifest(model: UrdfModel, palm: str | None = None) -> ManifestProposal:
    """Propose palm, actuated joints, canonical fingers, tip offsets, palm frame and handedness for ``model``.

    ``palm`` overrides the proposed palm link (the vendor knows better).
    """
    movable_below = joints_moving_below(model)
    palm = palm or find_palm(model, movable_below)
    values = zero_values(model)
    transforms = zero_pose_transforms(model, palm, values)
    chains = finger_chains(model, palm, movable_below, transforms)
    if len(chains) < 2:
        raise UrdfError(model.path, [f"palm link {palm!r} has {len(chains)} finger chain(s); a hand needs a thumb and "
                                     "at least one finger (chains of movable joints hanging off the palm)"])
    if len(chains) > 5:
        raise UrdfError(model.path, [f"palm link {palm!r} has {len(chains)} finger chains; xlsdk knows five canonical "
                                     "fingers (thumb, index, middle, ring, little)"])
    for chain in chains:
        chain.fk = ChainFK(model, chain.joints, values)
        movable = [j for j in chain.joints[chain.shared:] if j.movable]
        chain.knuckle = transforms[movable[0].child][:3, 3] if movable else transforms[chain.tip_link][:3, 3]
        chain.tip_frame = transforms[chain.tip_link]
        chain.tip = chain.tip_frame[:3, 3]
        chain.curl = flexion_direction(chain)
        chain.open_tip = extended_tip(chain)
        chain.named = finger_from_names(chain.names)
    notes: list[str] = []
    warnings: list[str] = []

    geometric_thumb = chains[pick_thumb(chains)]
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
    frame = palm_axes(others, thumb)

    side, side_source = thumb_side(thumb, others, frame)
    named_side, side_token = side_from_names(model, palm)
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
        offset, source, warning = tip_offset(model, chain, finger)
        if warning:
            warnings.append(warning)
        proposals.append(ChainProposal(finger=finger, tip_link=chain.tip_link, offset=offset, offset_source=source,
                                       joints=tuple(j.name for j in chain.joints), reason=reason, named=chain.named,
                                       geometric=geometric.get(id(chain))))

    on_chains = {j.name for chain in chains for j in chain.joints}
    mimic = [j.name for j in model.joints if j.mimic is not None and j.name in on_chains]
    sources = {mimic_source(model, name) for name in mimic}
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
    limits = {name: sweep_ends(model.joint(name)) if model.joint(name).lower is not None and
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


def _assign_fingers(thumb: FingerChain, across: list[FingerChain], notes: list[str]) -> dict[int, tuple[Finger, str]]:
    """Names first, then the geometric order across the palm for the chains whose names say nothing."""
    assigned: dict[int, tuple[Finger, str]] = {id(thumb): ("thumb", "named thumb" if thumb.named == "thumb" else
                                                           "the chain pointing most against the others")}
    claims: dict[Finger, list[FingerChain]] = {}
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
