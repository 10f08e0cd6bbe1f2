"""What is installed, as data: the hands with their plugin, head state and drivers, and one hand in full.

``xlsdk hands --json`` and ``xlsdk info HAND --json`` print these models (documented contracts, see
docs/reference/cli-json.md); the Python API returns the same objects, so a script never has to run the
command line to learn what the command line knows::

    import xlsdk.catalog
    listing = xlsdk.catalog.hands_listing()
    [row.name for row in listing.hands if row.head == "fitted"]

Listing reads manifests, URDFs and head files only: it builds no kinematic chain and imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from xlsdk.errors import SlotLayoutError
from xlsdk.hand import JointLimit  # the hand's own limit record (no torch: Hand imports it lazily)
from xlsdk.joint_slots import JointSlot, slot_layout

if TYPE_CHECKING:
    from xlsdk.hand import Hand


class HandRow(BaseModel):
    """One working hand in ``xlsdk hands``."""

    model_config = ConfigDict(frozen=True)
    name: str
    title: str
    plugin: str
    distribution: str | None
    version: str | None
    dof: int
    fingers: list[str]
    head: str  # a HeadState: fitted | none | fingerprint mismatch | stale | corrupt | no core latent
    head_detail: str
    head_fingerprints: list[str] = []  # every core latent the hand carries a head for (full hex, sorted)
    drivers: list[str]
    core: bool


class BrokenRow(BaseModel):
    """A hand (``name`` set) or a whole plugin (``name`` None) that does not work, and why."""

    model_config = ConfigDict(frozen=True)
    name: str | None
    plugin: str
    distribution: str | None
    manifest: str | None
    error: str


class HandListing(BaseModel):
    model_config = ConfigDict(frozen=True)
    hands: list[HandRow]
    broken: list[BrokenRow]


def hands_listing(*, include_core: bool = False) -> HandListing:
    """Every installed hand with its plugin, DOF, fingers, head state and drivers; broken ones with reasons.

    ``include_core`` adds the core's canonical hand. A hand whose head is broken is listed with that state
    and its reason; it never hides the other hands.
    """
    from xlsdk.drivers import hand_drivers
    from xlsdk.latent.head_loading import head_status
    from xlsdk.plugins import get_plugin_host

    host = get_plugin_host()
    rows: list[HandRow] = []
    broken: list[BrokenRow] = []
    for record in host.hand_records(include_core=include_core):
        if record.error is not None:
            broken.append(BrokenRow(name=record.name, plugin=record.plugin, distribution=record.distribution,
                                    manifest=record.manifest_path, error=record.error))
            continue
        hand = host.load_hand(record.name)
        status = head_status(hand)
        rows.append(HandRow(
            name=hand.name, title=hand.title, plugin=record.plugin, distribution=record.distribution,
            version=record.version, dof=hand.dof, fingers=list(hand.fingers), head=status.state,
            head_detail=status.detail, head_fingerprints=list(status.fingerprints), drivers=[name for name, entry in hand_drivers(hand).items() if entry],
            core=record.core,
        ))
    for plugin in host.plugin_records():
        if plugin.error is not None:
            broken.append(BrokenRow(name=None, plugin=plugin.name, distribution=plugin.distribution, manifest=None,
                                    error=plugin.error))
    return HandListing(hands=rows, broken=broken)


class MimicRow(BaseModel):
    model_config = ConfigDict(frozen=True)
    joint: str
    source: str
    multiplier: float
    offset: float


class TipRow(BaseModel):
    model_config = ConfigDict(frozen=True)
    link: str
    offset: list[float]


class PosePoints(BaseModel):
    """A joint vector and the fingertips it puts where (metres, xlsdk palm frame)."""

    model_config = ConfigDict(frozen=True)
    q: list[float]
    tips: dict[str, list[float]]


class HeadRow(BaseModel):
    model_config = ConfigDict(frozen=True)
    state: str
    detail: str
    path: str
    fingerprints: list[str] = []  # every core latent the hand carries a head for


class HandInfo(BaseModel):
    """Everything ``xlsdk info HAND`` shows: identity, files, joints with limits and slots, fingertips, head."""

    model_config = ConfigDict(frozen=True)
    name: str
    title: str
    vendor: str
    version: str
    plugin: str | None
    manifest: str
    urdf: str
    palm_link: str
    palm_frame: dict[str, list[float]]
    dof: int
    joints: list[JointLimit]
    mimic: list[MimicRow]
    fingers: dict[str, TipRow]
    drivers: list[str]
    coupling: str
    #: the latent's normalisation (knuckle centre, reach); None when not asked for (``hand_info(scale=False)``)
    scale: dict[str, list[float] | float] | None
    fingertips: dict[str, PosePoints]
    head: HeadRow
    #: which joint sits in which functional slot (finger.role) of the slots action space, and why
    slots: list[JointSlot]
    #: why the hand has no slot layout (more joints on a finger than the layout holds); "" when it has one
    slots_problem: str = ""


def hand_info(hand: Hand | str, *, scale: bool = True) -> HandInfo:
    """A hand's manifest, joints with limits, fingertips at the zero and mid-range poses, drivers and head.

    Fingertips and slots come from the numpy evaluator (:mod:`xlsdk.tip_kinematics`), so the answer needs
    no torch. ``scale`` is the latent's own normalisation (:attr:`Hand.scale <xlsdk.hand.Hand.scale>`,
    computed on the torch chain the latent was trained with); ``scale=False`` leaves it out (None), as
    ``xlsdk info`` does for its tables, which do not show it.
    """
    import numpy as np

    from xlsdk.drivers import hand_drivers
    from xlsdk.latent.head_loading import head_status
    from xlsdk.plugins import get_plugin_host
    from xlsdk.tip_kinematics import TipKinematics

    if isinstance(hand, str):
        hand = get_plugin_host().load_hand(hand)
    manifest = hand.spec.manifest
    status = head_status(hand)
    poses = {"zero": hand.zero_pose(), "mid": hand.mid_pose()}
    tips, _ = TipKinematics(hand).evaluate(np.stack(list(poses.values())).astype(np.float64), jacobian=False)
    fingertips = {
        pose_name: PosePoints(
            q=[float(v) for v in q],
            tips={finger: [float(v) for v in tip] for finger, tip in zip(hand.fingers, pose_tips, strict=True)},
        )
        for (pose_name, q), pose_tips in zip(poses.items(), tips, strict=True)
    }
    try:
        slots, slots_problem = list(slot_layout(hand).joints), ""
    except SlotLayoutError as exc:  # the hand works; only the slots action space cannot hold it
        slots, slots_problem = [], str(exc)
    return HandInfo(
        name=hand.name,
        title=hand.title,
        vendor=manifest.vendor,
        version=manifest.version,
        plugin=hand.plugin,
        manifest=str(hand.spec.manifest_path),
        urdf=str(hand.urdf_path.resolve()),
        palm_link=manifest.palm_link,
        palm_frame={"xyz": list(manifest.palm_frame.xyz), "rpy": list(manifest.palm_frame.rpy)},
        dof=hand.dof,
        joints=hand.limits,
        mimic=[MimicRow(joint=name, source=term.source, multiplier=term.multiplier, offset=term.offset)
               for name, term in hand.spec.mimic.items()],
        fingers={finger: TipRow(link=tip.link, offset=list(tip.offset)) for finger, tip in manifest.fingers.items()},
        drivers=[name for name, entry in hand_drivers(hand).items() if entry],
        coupling=manifest.coupling.notes,
        scale={"knuckle_center": list(hand.scale.knuckle_center), "reach": hand.scale.reach} if scale else None,
        fingertips=fingertips,
        head=HeadRow(state=status.state, detail=status.detail, path=str(hand.head_path),
                     fingerprints=list(status.fingerprints)),
        slots=slots,
        slots_problem=slots_problem,
    )
