"""Grasps in physics: place an object where a hand's grasp closes, execute the grasp, judge it by contact.

xlsdk's one executor, with the one set of constants (:data:`LIFT_M`, :data:`SQUEEZE`, :data:`HOLD_S`,
:data:`HELD_M`): ``xlsdk demo`` (the recorded power grasp, retargeted through the latent), ``xlsdk check
--physics`` (grasps synthesised by :mod:`xlsdk.physics.grasps`, encoded and decoded by the hand's head)
and the physics benchmark's expert run their grasps through it:

1. the object rests on the table at the grasp spot; the wrist is placed so that the grasp's centre (a
   synthesised grasp's ``centre``, else the centroid of the fingertips of the *grasp* pose) lands on the
   object's centre, palm facing the object (from the side with the thumb up for a standing bottle, from
   above otherwise: :func:`approach_rpy`), backed off along the palm normal until the open hand clears
   the object;
2. the open hand comes in 6 cm along its palm normal, then the fingers close contact-aware
   (:func:`close_on`: each finger stops where it touches the object) and squeeze on (the targets continue
   40 % past the grasp, inside the limits: a position-controlled hand holds by commanding through the
   object, its servos saturating at their rated effort);
3. the wrist lifts 10 cm and holds for 1 s. The object is **held** when it ends at least 5 cm above
   where it started and off the table (so the hand carries it), whatever the fingertip geometry said.

:class:`GraspResult` carries what a failure is diagnosed from (placement, approach, contact, strength).
Nothing here is per hand: poses come from the latent or the hand's FK, the wrist pose from its tips.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.hand import Hand
from xlsdk.physics.hand_model import HAND_FRICTION, actuator_gains
from xlsdk.physics.scene import Scene, SceneObject
from xlsdk.physics.world import PhysicsConfig, World

LIFT_M = 0.10
HELD_M = 0.05
HOLD_S = 1.0
SQUEEZE = 0.4
APPROACH_M = 0.06
MAX_PENETRATION_M = 0.005
CLOSE_S = 0.8
GRAVITY = 9.81
#: the table spot objects are grasped at (in front of the home wrist)
GRASP_SPOT = (0.08, 0.0)


class GraspResult(BaseModel):
    """How one grasp went, and what to read when it failed (the diagnosis fields, see docs/concepts/physics.md)."""

    model_config = ConfigDict(frozen=True)
    hand: str
    object: str
    held: bool
    lifted_m: float
    contacts: int
    seconds_simulated: float
    wall_s: float
    steps: int
    frames: int
    #: how far the wrist was backed off along the palm normal so the open hand clears the object (placement)
    backoff_mm: float = 0.0
    #: how far the object moved while the open hand came in, before the fingers closed (approach)
    pushed_mm: float = 0.0
    #: hand links touching the object once closed and squeezed (contact)
    touching: tuple[str, ...] = ()
    #: deepest hand-object overlap once closed (contact; a millimetre or so stands in for pad compliance)
    penetration_mm: float = 0.0
    #: friction the grip can carry, ``sum(mu * normal force)``, once closed, and the object's weight (strength)
    grip_n: float = 0.0
    weight_n: float = 0.0
    #: fraction of the hand's servos at their rated effort once closed (strength: 1.0 = every one saturated)
    saturated: float = 0.0


def grasp_point(hand: Hand, q: np.ndarray) -> np.ndarray:
    """Where a grasp closes (palm frame): the centroid of the fingertips of pose ``q``."""
    return np.asarray(hand.fk(np.asarray(q, dtype=np.float64))).mean(axis=0)


#: side grasp: palm facing +Y (the object), fingers along +X, thumb up
SIDE_GRASP_RPY = (np.pi / 2, 0.0, 0.0)
#: top grasp: palm facing the table, fingers along +X
TOP_GRASP_RPY = (0.0, 0.0, 0.0)


def grasp_wrist(world: World, hand: Hand, q_grasp: np.ndarray, target: np.ndarray,
                rpy: tuple[float, float, float] = SIDE_GRASP_RPY, centre: np.ndarray | None = None) -> np.ndarray:
    """Wrist pose (palm facing the object) that puts the grasp's ``centre`` (palm frame) on ``target`` (world).

    ``centre`` defaults to where the fingertips of ``q_grasp`` close (:func:`grasp_point`).
    """
    from xlsdk.physics.world import wrist_rotation

    point = grasp_point(hand, q_grasp) if centre is None else np.asarray(centre, dtype=np.float64)
    wrist = np.array([0.0, 0.0, 0.0, *rpy])
    wrist[:3] = np.asarray(target) - wrist_rotation(wrist) @ point
    return wrist


#: side grasp of a left hand: palm facing -Y, thumb up (a left hand's palm-frame X points toward its thumb)
LEFT_SIDE_GRASP_RPY = (-np.pi / 2, 0.0, 0.0)


def approach_rpy(item: SceneObject, *, left: bool = False) -> tuple[float, float, float]:
    """From the side (thumb up) for standing cylinders; from above (palm down) for everything lower.

    A side grasp of an object a few centimetres tall would put the little finger's edge of the hand into
    the table, so balls, cubes and lying objects are grasped from above. A left hand's palm frame is the
    mirror image of a right one's (its X points toward the thumb), so it turns the other way to keep the
    thumb up: turned like a right hand, its thumb went into the table and no left corpus hand held a bottle.
    """
    if item.kind == "cylinder" and not item.lying:
        return LEFT_SIDE_GRASP_RPY if left else SIDE_GRASP_RPY
    return TOP_GRASP_RPY


def execute_grasp(hand: Hand, item: SceneObject, q_open: np.ndarray, q_grasp: np.ndarray, *,
                  config: PhysicsConfig | None = None, capture: Callable[[World, str], None] | None = None,
                  world: World | None = None, rpy: tuple[float, float, float] | None = None,
                  on_step: Callable[[World], None] | None = None, centre: np.ndarray | None = None) -> GraspResult:
    """Grasp ``item`` (resting at :data:`GRASP_SPOT`) going from ``q_open`` to ``q_grasp``, lift, judge.

    ``rpy`` is the wrist orientation (default :func:`approach_rpy`); ``centre`` the palm-frame point
    placed on the object's centre (a synthesised :class:`~xlsdk.physics.grasps.Grasp`'s ``centre``;
    default the fingertips' centroid of ``q_grasp``); ``on_step(world)`` is called after every control
    step (25 per phase), e.g. to record an episode.

    ``capture(world, phase)`` is called at the phase boundaries (``approach``, ``closed``, ``lifted``,
    ``held``) so callers can render frames without this module knowing about images.
    """
    from xlsdk.physics.world import wrist_rotation

    started = time.perf_counter()
    item = item.resting(*GRASP_SPOT)
    world = world or World(hand, Scene(objects=(item,)), config)
    lower, upper = np.asarray(hand.spec.lower), np.asarray(hand.spec.upper)
    q_open = np.clip(np.asarray(q_open, dtype=np.float64), lower, upper)
    q_grasp = np.clip(np.asarray(q_grasp, dtype=np.float64), lower, upper)
    q_squeeze = squeezed(hand, q_open, q_grasp)
    target = np.array([*GRASP_SPOT, item.half_height])
    left = hand.spec.manifest.handedness == "left"
    wrist = grasp_wrist(world, hand, q_grasp, target, approach_rpy(item, left=left) if rpy is None else rpy, centre)
    normal = wrist_rotation(wrist) @ np.array([0.0, 1.0, 0.0])
    placed = wrist.copy()
    wrist = _clear_of(world, item.name, wrist, q_open, normal)
    backoff = float(np.linalg.norm(wrist[:3] - placed[:3]))
    away = wrist.copy()
    away[:3] -= APPROACH_M * normal
    world.reset(wrist=away, q=q_open)
    steps = 0

    def move(wrist_from: np.ndarray, wrist_to: np.ndarray, q_from: np.ndarray, q_to: np.ndarray,
             seconds: float, knots: int = 25) -> None:
        nonlocal steps
        for s in np.linspace(0.0, 1.0, knots)[1:]:
            world.set_wrist_target(wrist_from + (wrist_to - wrist_from) * s)
            world.set_hand_target(q_from + (q_to - q_from) * s)
            world.step(seconds / (knots - 1))
            steps += max(1, round(seconds / (knots - 1) / world.model.opt.timestep))
            if on_step is not None:
                on_step(world)

    start = np.asarray(world.object_state(item.name).pos)
    move(away, away, q_open, q_open, 0.1)
    if capture:
        capture(world, "approach")
    move(away, wrist, q_open, q_open, 0.4)
    pushed = float(np.linalg.norm(np.asarray(world.object_state(item.name).pos) - start))
    q_touch = close_on(world, item.name, hand, wrist, q_open, q_grasp, on_step)
    steps += round(CLOSE_S / world.model.opt.timestep)
    move(wrist, wrist, q_touch, q_squeeze, 0.3)
    closed = _grip(world, item, hand)
    if capture:
        capture(world, "closed")
    lifted = wrist.copy()
    lifted[2] += LIFT_M
    move(wrist, lifted, q_squeeze, q_squeeze, 0.6)
    if capture:
        capture(world, "lifted")
    move(lifted, lifted, q_squeeze, q_squeeze, HOLD_S)
    state = world.object_state(item.name)
    if capture:
        capture(world, "held")
    held = state.lifted >= HELD_M and not state.table_contact
    return GraspResult(hand=hand.name, object=item.name, held=bool(held), lifted_m=round(state.lifted, 4),
                       contacts=state.hand_contacts, seconds_simulated=round(world.time, 3),
                       wall_s=round(time.perf_counter() - started, 3), steps=steps, frames=0,
                       backoff_mm=round(backoff * 1000, 1), pushed_mm=round(pushed * 1000, 1), **closed)


def finger_joints(hand: Hand) -> tuple[dict[str, list[int]], dict[str, str]]:
    """(finger -> indices of the actuated joints that move only that finger, hand link -> its finger).

    A joint on the chain from the palm to one finger's tip link belongs to that finger (a mimic joint
    brings its source along); a joint on several chains (a shared spread) belongs to none.
    """
    urdf, palm = hand.spec.urdf, hand.spec.manifest.palm_link
    index = {name: i for i, name in enumerate(hand.joint_names)}
    owners: dict[int, set[str]] = {}
    links: dict[str, str] = {}
    for finger, tip in hand.spec.manifest.fingers.items():
        for joint in urdf.path_between(palm, tip.link) or []:
            links.setdefault(joint.child, finger)
            source = hand.spec.mimic[joint.name].source if joint.name in hand.spec.mimic else joint.name
            if source in index:
                owners.setdefault(index[source], set()).add(finger)
    joints = {finger: sorted(i for i, names in owners.items() if names == {finger}) for finger in hand.fingers}
    return joints, links


def close_on(world: World, name: str, hand: Hand, wrist: np.ndarray, q_open: np.ndarray, q_grasp: np.ndarray,
             on_step: Callable[[World], None] | None = None, knots: int = 25) -> np.ndarray:
    """Close from ``q_open`` toward ``q_grasp`` over :data:`CLOSE_S`, each finger stopping where it touches ``name``.

    Closing every joint in lockstep lets the first finger to arrive (often the thumb) push a light object
    away before the others reach it: a ball rolls out of a hand that would have held it. Each finger
    instead advances until one of its links touches the object and waits there, so the object is
    surrounded before the squeeze (:func:`squeezed`) presses it. Returns the targets the hand ends at.
    """
    joints, finger_of = finger_joints(hand)
    progress = dict.fromkeys(hand.fingers, 0.0)
    waiting: set[str] = set()
    owned = np.zeros(hand.dof, dtype=bool)
    for indices in joints.values():
        owned[indices] = True
    target = np.asarray(q_open, dtype=np.float64).copy()
    delta = np.asarray(q_grasp, dtype=np.float64) - target
    for knot in range(1, knots):
        shared = knot / (knots - 1)
        for finger in hand.fingers:
            if finger not in waiting:
                progress[finger] = shared
            target[joints[finger]] = q_open[joints[finger]] + progress[finger] * delta[joints[finger]]
        target[~owned] = q_open[~owned] + shared * delta[~owned]
        world.set_wrist_target(wrist)
        world.set_hand_target(target)
        world.step(CLOSE_S / (knots - 1))
        if on_step is not None:
            on_step(world)
        waiting |= {finger_of[link] for link, _, _ in world.hand_contact_forces(name) if link in finger_of}
    return target


def squeezed(hand: Hand, q_open: np.ndarray, q_grasp: np.ndarray) -> np.ndarray:
    """The squeeze target: :data:`SQUEEZE` of the way from open to grasp again past the grasp, inside the limits."""
    q_open, q_grasp = np.asarray(q_open, dtype=np.float64), np.asarray(q_grasp, dtype=np.float64)
    return np.clip(q_grasp + SQUEEZE * (q_grasp - q_open), hand.spec.lower, hand.spec.upper)


def _grip(world: World, item: SceneObject, hand: Hand) -> dict[str, object]:
    """The contact and strength fields of :class:`GraspResult`, read from the closed, squeezed hand."""
    contacts = world.hand_contact_forces(item.name)
    friction = item.friction  # MuJoCo takes the larger of the two geoms' coefficients; the hand's is 1.0
    mu = max(friction, HAND_FRICTION[0])
    forces = np.abs(world.hand_forces())
    limits = np.array([g.force_limit for g in actuator_gains(hand)])
    return {"touching": tuple(sorted({link for link, _, _ in contacts})),
            "penetration_mm": round(1000 * max((depth for _, _, depth in contacts), default=0.0), 1),
            "grip_n": round(mu * sum(force for _, force, _ in contacts), 2),
            "weight_n": round(item.body_mass * GRAVITY, 3),
            "saturated": round(float(np.mean(forces >= 0.9 * limits)) if len(limits) else 0.0, 2)}


def _clear_of(world: World, name: str, wrist: np.ndarray, q_open: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """Back the wrist off along the palm normal until the open hand overlaps the object by under 5 mm.

    The grasp point is where the fingertips close; an object of that size centred there may overlap the
    palm of a hand whose fist closes tightly, so the palm stops short of it instead (4 mm steps).
    """
    candidate = wrist.copy()
    for _ in range(25):
        world.reset(wrist=candidate, q=q_open)
        if world.hand_penetration(name) < MAX_PENETRATION_M:
            return candidate
        candidate[:3] -= 0.004 * normal
    return candidate
