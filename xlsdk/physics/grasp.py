"""Grasps in physics: place an object where a hand's grasp closes, execute the grasp, judge it by contact.

:func:`execute_grasp` is the physics check's and the demo's grasp trial. It drives xlsdk's one grasp
machine (:class:`~xlsdk.physics.grasp_machine.GraspMachine`, at :data:`CONTROL_HZ`), which the physics
benchmark's expert runs at its own control rate, with the one set of constants (:data:`LIFT_M`,
:data:`SQUEEZE`, :data:`HOLD_S`, :data:`HELD_M`): ``xlsdk demo`` (the recorded power grasp, retargeted
through the latent), ``xlsdk check --physics`` (grasps synthesised by :mod:`xlsdk.physics.grasps`, encoded
and decoded by the hand's head) and the benchmark's expert grasp alike:

1. the object rests on the table at the grasp spot; the wrist is placed so that the grasp's centre (a
   synthesised grasp's ``centre``, else the centroid of the fingertips of the *grasp* pose) lands on the
   object's centre, palm facing the object (from the side with the thumb up for a standing bottle, from
   above otherwise: :func:`approach_rpy`), backed off along the palm normal until the open hand clears
   the object;
2. the open hand comes in 6 cm along its palm normal, then the fingers close contact-aware
   (:class:`ClosingFingers`: each finger stops where it touches the object) and squeeze on (the targets
   continue 40 % past the grasp, 10 % for a pinch, inside the limits: a position-controlled hand holds by
   commanding through the object, its servos saturating at their rated effort), and the lift waits until
   the fingers have stopped moving;
3. the wrist lifts 10 cm and holds for 1 s (the check judges one grasp: no regrasp). The object is **held** when it ends at least 5 cm above
   where it started and off the table (so the hand carries it), whatever the fingertip geometry said.

:class:`GraspResult` carries what a failure is diagnosed from (placement, approach, contact, strength).
Nothing here is per hand: poses come from the latent or the hand's FK, the wrist pose from its tips.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.hand import Hand
from xlsdk.physics.hand_model import HAND_FRICTION, actuator_gains
from xlsdk.physics.scene import Scene, SceneObject
from xlsdk.physics.world import World
from xlsdk.physics.world_spec import PhysicsConfig

LIFT_M = 0.10
HELD_M = 0.05
HOLD_S = 1.0
SQUEEZE = 0.4
#: a two-finger pinch squeezes less: measured with the benchmark's expert on the cube tasks (8 scenes each),
#: 0.4 squirted the cube out between the rounded tips (inspire 5/8, ability 4/8 lifted) where 0.1 held
#: it (7/8, 6/8); 0.15-0.25 fell between. Wraps keep 0.4 (more fingers, no squirting).
SQUEEZE_BY_KIND = {"pinch": 0.1, "pinch_parallel": 0.1}
APPROACH_M = 0.06
MAX_PENETRATION_M = 0.005
#: the check's control rate (the benchmark's expert runs the same machine at its 5 Hz)
CONTROL_HZ = 25.0
#: the open hand settles this long before the approach; the whole grasp gives up after MAX_S
SETTLE_S = 0.1
MAX_S = 6.0
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
    return placed(grasp_point(hand, q_grasp) if centre is None else centre, target, rpy)


def placed(point_palm: np.ndarray, target_world: np.ndarray, rpy: tuple[float, float, float] | np.ndarray) -> np.ndarray:
    """Wrist pose with orientation ``rpy`` that puts palm-frame ``point_palm`` at ``target_world``."""
    from xlsdk.physics.world_spec import wrist_rotation

    wrist = np.concatenate([np.zeros(3), np.asarray(rpy, dtype=np.float64)])
    wrist[:3] = np.asarray(target_world) - wrist_rotation(wrist) @ np.asarray(point_palm, dtype=np.float64)
    return wrist


#: side grasp of a left hand: palm facing -Y, thumb up (a left hand's palm-frame X points toward its thumb)
LEFT_SIDE_GRASP_RPY = (-np.pi / 2, 0.0, 0.0)


#: grasp kinds made from above whatever the object (:func:`xlsdk.physics.grasps.wrap_from_above`)
FROM_ABOVE_KINDS = ("wrap_above", "wrap_above_loose")


def approach_rpy(item: SceneObject, *, left: bool = False, kind: str = "") -> tuple[float, float, float]:
    """From the side (thumb up) for standing cylinders; from above (palm down) for everything lower, and
    for a grasp ``kind`` synthesised to be made from above (:data:`FROM_ABOVE_KINDS`).

    A side grasp of an object a few centimetres tall would put the little finger's edge of the hand into
    the table, so balls, cubes and lying objects are grasped from above. A left hand's palm frame is the
    mirror image of a right one's (its X points toward the thumb), so it turns the other way to keep the
    thumb up: turned like a right hand, its thumb went into the table and no left corpus hand held a bottle.
    """
    if item.kind == "cylinder" and not item.lying and kind not in FROM_ABOVE_KINDS:
        return LEFT_SIDE_GRASP_RPY if left else SIDE_GRASP_RPY
    return TOP_GRASP_RPY


def execute_grasp(hand: Hand, item: SceneObject, q_open: np.ndarray, q_grasp: np.ndarray, *,
                  config: PhysicsConfig | None = None, capture: Callable[[World, str], None] | None = None,
                  world: World | None = None, rpy: tuple[float, float, float] | None = None,
                  on_step: Callable[[World], None] | None = None, centre: np.ndarray | None = None,
                  kind: str = "") -> GraspResult:
    """Grasp ``item`` (resting at :data:`GRASP_SPOT`) going from ``q_open`` to ``q_grasp``, lift, judge.

    ``rpy`` is the wrist orientation (default :func:`approach_rpy`); ``centre`` the palm-frame point
    placed on the object's centre (a synthesised :class:`~xlsdk.physics.grasps.Grasp`'s ``centre``;
    default the fingertips' centroid of ``q_grasp``); ``on_step(world)`` is called after every control
    step (25 per phase), e.g. to record an episode; ``kind`` the synthesised grasp's kind (how hard it squeezes).

    ``capture(world, phase)`` is called at the phase boundaries (``approach``, ``closed``, ``lifted``,
    ``held``) so callers can render frames without this module knowing about images.
    """
    from xlsdk.physics.grasp_machine import GraspMachine, GraspView

    started = time.perf_counter()
    item = item.resting(*GRASP_SPOT)
    world = world or World(hand, Scene(objects=(item,)), config)
    lower, upper = np.asarray(hand.spec.lower), np.asarray(hand.spec.upper)
    q_open = np.clip(np.asarray(q_open, dtype=np.float64), lower, upper)
    q_grasp = np.clip(np.asarray(q_grasp, dtype=np.float64), lower, upper)
    left = hand.spec.manifest.handedness == "left"
    rpy = approach_rpy(item, left=left, kind=kind) if rpy is None else rpy
    centre = grasp_point(hand, q_grasp) if centre is None else np.asarray(centre, dtype=np.float64)
    placed, wrist, normal = _placement(world, hand, item, q_open, rpy, centre)
    backoff = float(np.linalg.norm(wrist[:3] - placed[:3]))
    machine = GraspMachine(hand, item, q_open, q_grasp, centre, rate_hz=CONTROL_HZ, kind=kind, backoff_m=backoff,
                           rpy=rpy, regrasp=False)
    away = wrist.copy()
    away[:3] -= APPROACH_M * normal
    world.reset(wrist=away, q=q_open)
    dt = 1.0 / CONTROL_HZ
    physics_steps = max(1, round(dt / world.model.opt.timestep))
    start = np.asarray(world.object_state(item.name).pos)
    world.set_wrist_target(away)
    world.set_hand_target(q_open)
    world.step(SETTLE_S)
    steps = round(SETTLE_S / world.model.opt.timestep)
    if capture:
        capture(world, "approach")
    machine.enter("descend")  # the hand starts above the object (APPROACH_M back along the palm normal)
    pushed: float | None = None
    closed: dict[str, object] | None = None
    held_until: float | None = None
    for _ in range(int(round(MAX_S / dt))):
        before = machine.phase
        wrist_target, hand_target = machine(GraspView.of(world, item.name))
        world.set_wrist_target(wrist_target)
        world.set_hand_target(hand_target)
        world.step(dt)
        steps += physics_steps
        if on_step is not None:
            on_step(world)
        if pushed is None and machine.phase != "descend":
            pushed = float(np.linalg.norm(np.asarray(world.object_state(item.name).pos) - start))
        if before == "squeeze" and machine.phase == "lift":
            closed = _grip(world, item, hand)
            if capture:
                capture(world, "closed")
        if before == "lift" and machine.phase == "hold":
            held_until = world.time + HOLD_S
            if capture:
                capture(world, "lifted")
        if held_until is not None and world.time >= held_until - 1e-9:
            break
    closed = closed if closed is not None else _grip(world, item, hand)
    state = world.object_state(item.name)
    if capture:
        capture(world, "held")
    held = state.lifted >= HELD_M and not state.table_contact
    return GraspResult(hand=hand.name, object=item.name, held=bool(held), lifted_m=round(state.lifted, 4),
                       contacts=state.hand_contacts, seconds_simulated=round(world.time, 3),
                       wall_s=round(time.perf_counter() - started, 3), steps=steps, frames=0,
                       backoff_mm=round(backoff * 1000, 1), pushed_mm=round((pushed or 0.0) * 1000, 1), **closed)


def backoff_m(hand: Hand, item: SceneObject, q_open: np.ndarray, rpy: tuple[float, float, float],
              centre: np.ndarray, config: PhysicsConfig | None = None) -> float:
    """How far (metres) the wrist backs off along the palm normal, from the pose that puts the grasp's
    ``centre`` on ``item``'s centre, before the open hand ``q_open`` overlaps the object by under
    :data:`MAX_PENETRATION_M`: the approach :func:`execute_grasp` makes, measured in a probe world of its own
    so a closed-loop caller (the physics benchmark's expert) can apply it to an object wherever it is.
    """
    item = item.model_copy(update={"yaw": 0.0}).resting(*GRASP_SPOT)
    world = World(hand, Scene(objects=(item,)), config)
    try:
        placed, cleared, _ = _placement(world, hand, item, np.asarray(q_open, dtype=np.float64), rpy, centre)
        return float(np.linalg.norm(cleared[:3] - placed[:3]))
    finally:
        world.close()


def _placement(world: World, hand: Hand, item: SceneObject, q_open: np.ndarray, rpy: tuple[float, float, float],
               centre: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the wrist pose with the grasp's ``centre`` on ``item`` resting at the grasp spot, that pose backed off
    until the open hand clears the object, the palm normal): the placement :func:`execute_grasp` and
    :func:`backoff_m` share."""
    from xlsdk.physics.world_spec import wrist_rotation

    target = np.array([*GRASP_SPOT, item.half_height])
    placed = grasp_wrist(world, hand, q_open, target, rpy, centre)
    normal = wrist_rotation(placed) @ np.array([0.0, 1.0, 0.0])
    return placed, _clear_of(world, item.name, placed, q_open, normal), normal


def finger_joints(hand: Hand) -> tuple[dict[str, list[int]], dict[str, str]]:
    """(finger -> indices of the actuated joints that move only that finger, hand link -> its finger).

    A joint on the chain from the palm to one finger's tip link belongs to that finger (a mimic joint
    brings its source along); a joint on several chains (a shared spread) belongs to none. A link is the
    finger's from the first of the finger's own joints on, and so is every link fixed below those (a tip
    pad past the manifest's tip link); links before it (a palm body hung on a fixed joint, a segment only a
    shared joint moves) do not move with that finger. Every reference hand hangs its
    palm body (``hand_base``) off the palm link, so before this rule the palm touching an object counted as
    the first finger listed (the thumb) touching it, and :class:`ClosingFingers` held the thumb open until the
    squeeze swung it shut in one step, which flung ability's 37-38 mm balls off the table; and ability's
    fingertip bodies (``index_tip``, past its tip link ``index_distal``) touched without stopping their finger.
    """
    urdf, palm = hand.spec.urdf, hand.spec.manifest.palm_link
    index = {name: i for i, name in enumerate(hand.joint_names)}
    chains = {finger: urdf.path_between(palm, tip.link) or [] for finger, tip in hand.spec.manifest.fingers.items()}
    source_of = dict(index)  # a joint's actuated source: itself, or the joint a mimic follows
    for name, mimic in hand.spec.mimic.items():
        if mimic.source in index:
            source_of[name] = index[mimic.source]
    owners: dict[int, set[str]] = {}
    for finger, chain in chains.items():
        for joint in chain:
            if joint.name in source_of:
                owners.setdefault(source_of[joint.name], set()).add(finger)
    links: dict[str, str] = {}
    for finger, chain in chains.items():
        moving = False
        for joint in chain:
            moving = moving or owners.get(source_of.get(joint.name, -1)) == {finger}
            if moving:
                links.setdefault(joint.child, finger)
    for link, finger in list(links.items()):  # a pad or tip body fixed past the tip link moves with the finger
        for below in urdf.links_below(link):
            links.setdefault(below, finger)
    joints = {finger: sorted(i for i, names in owners.items() if names == {finger}) for finger in hand.fingers}
    return joints, links


class ClosingFingers:
    """Fingers closing from ``q_open`` toward ``q_grasp`` in ``steps`` control steps, each finger stopping where
    it touches the object.

    Closing every joint in lockstep lets the first finger to arrive (often the thumb) push a light object
    away before the others reach it: a ball rolls out of a hand that would have held it. Each finger
    instead advances until one of its links touches the object and waits there, so the object is
    surrounded before the squeeze (:func:`squeezed`) presses it. Joints shared by several fingers (a
    spread) move on regardless. The grasp machine steps it once per control step, whatever the rate.
    """

    def __init__(self, hand: Hand, q_open: np.ndarray, q_grasp: np.ndarray, steps: int) -> None:
        self.joints, self.finger_of = finger_joints(hand)
        self.fingers = list(hand.fingers)
        self.steps, self.count = max(1, int(steps)), 0
        self.progress = dict.fromkeys(self.fingers, 0.0)
        self.waiting: set[str] = set()
        self.owned = np.zeros(hand.dof, dtype=bool)
        for indices in self.joints.values():
            self.owned[indices] = True
        self.q_open = np.asarray(q_open, dtype=np.float64).copy()
        self.delta = np.asarray(q_grasp, dtype=np.float64) - self.q_open
        self.target = self.q_open.copy()

    def advance(self, touching: Iterable[str]) -> np.ndarray:
        """The next hand target, given the hand links that touch the object now."""
        self.waiting |= {self.finger_of[link] for link in touching if link in self.finger_of}
        self.count = min(self.count + 1, self.steps)
        shared = self.count / self.steps
        for finger in self.fingers:
            if finger not in self.waiting:
                self.progress[finger] = shared
            indices = self.joints[finger]
            self.target[indices] = self.q_open[indices] + self.progress[finger] * self.delta[indices]
        self.target[~self.owned] = self.q_open[~self.owned] + shared * self.delta[~self.owned]
        return self.target.copy()

    @property
    def done(self) -> bool:
        return self.count >= self.steps


def squeezed(hand: Hand, q_open: np.ndarray, q_grasp: np.ndarray, kind: str = "") -> np.ndarray:
    """The squeeze target: :data:`SQUEEZE` (:data:`SQUEEZE_BY_KIND` for a grasp ``kind`` listed there) of the
    way from open to grasp again past the grasp, inside the limits."""
    q_open, q_grasp = np.asarray(q_open, dtype=np.float64), np.asarray(q_grasp, dtype=np.float64)
    share = SQUEEZE_BY_KIND.get(kind, SQUEEZE)
    return np.clip(q_grasp + share * (q_grasp - q_open), hand.spec.lower, hand.spec.upper)


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
