"""The scripted expert: a closed-loop phase machine, no per-hand code, grasps from the hand's own FK.

At **every control step** the expert reads the current :class:`~xlsdk.bench.physics.observation.Observation`
(wrist, hand joints, the named object's pose relative to the wrist, the goal) and answers the command
for that state. Nothing is planned open loop from the first frame, so the expert

* recovers: an object pushed before the grasp is re-targeted, a wrist pushed off its path is brought
  back, an object that slips out of the hand is grasped again;
* can label any state it is asked about, which is what DART needs (the executed command is perturbed,
  the recorded label is the expert's clean command for the state actually reached).

Per task, the phases only move forward (a state visited on the way down is never the state on the way
up: a learned press once stopped halfway because the old plan went down and came back through the same
states), except the regrasp after a drop, which starts over from a reach:

* lifts (cube, ball, bottle): reach above the object with the hand open, descend until the grasp's
  centre is on the object, close onto the synthesised grasp and squeeze on (the targets continue past
  the grasp, as a position-controlled hand holds by commanding through the object), lift, hold;
* press: fingers pointing down in the pointing pose, the index tip over the cap, down past its top
  until the cap has travelled, and held there;
* push: fingers down, palm facing the push, lowered behind the block, then the wrist follows the
  block's measured position toward the spot and stops when it is there;
* bin: the pinch of ``pinch_lift``, carried over the bin, opened, the hand withdrawn.

Grasps come from xlsdk's one grasp synthesis, :mod:`xlsdk.physics.grasps` (on the hand's FK, cached per size),
and the squeeze and lift are the executor's (:mod:`xlsdk.physics.grasp`): ``xlsdk check --physics`` and
this expert grasp alike.
:func:`rollout` executes any controller at the control rate on a :class:`~xlsdk.physics.world.World` and
records the object-state :class:`~xlsdk.bench.physics.tasks.Trace` the task is judged by; policies run
through the same function, so the expert and the policies are graded identically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from xlsdk.bench.physics.observation import Observation, observe
from xlsdk.bench.physics.tasks import TaskScene, Trace, judge
from xlsdk.hand import Hand
from xlsdk.kinematics import rpy_matrix
from xlsdk.physics import grasps
from xlsdk.physics.grasp import LIFT_M, squeezed
from xlsdk.physics.world import HOME_ROTATION, World, wrist_rotation

FPS = 5.0
#: how far above the grasp pose the hand comes in (along the palm normal) before it descends
ABOVE_M = 0.07
#: every episode (expert or policy) lasts this long at :data:`FPS`: the expert needs about 5 s for the
#: longest task (the bin), the rest is room for a recovery (a regrasp takes about 2.5 s)
EPISODE_S = 8.0
#: the furthest the expert moves the wrist target from the *measured* wrist in one control step (metres,
#: radians): targets relative to where the wrist is make every step a correction, not a replayed path
STEP_M = 0.04
STEP_RAD = 0.35
#: control steps the fingers take to close onto the grasp, then to squeeze past it
CLOSE_STEPS = 3
SQUEEZE_STEPS = 2
#: how close the wrist must be to a phase's target before the next phase starts (metres, radians)
REACHED_M = 0.012
REACHED_RAD = 0.08
#: a phase waiting on the wrist moves on after this many steps even if the servo has not settled (an
#: object in the way stops the wrist short of its target, which must not stall the episode)
PATIENCE = 6
#: fingers that moved less than this in one control step have closed (on the object or at their limit)
SETTLED_RAD = 0.02

Controller = Callable[[int, Observation], np.ndarray]


@dataclass
class Episode:
    """What one executed episode left: per control step, the observation, the command, the images."""

    states: list[np.ndarray] = field(default_factory=list)  # (6 + dof,) wrist pose + hand joints
    objects: list[np.ndarray] = field(default_factory=list)  # (OBJECT_DIM,) see observation.OBJECT_FEATURES
    actions: list[np.ndarray] = field(default_factory=list)  # (6 + dof,) the label: wrist + hand targets
    executed: list[np.ndarray] = field(default_factory=list)  # (6 + dof,) what was sent (the label + DART noise)
    images: dict[str, list[np.ndarray]] = field(default_factory=dict)  # camera -> one frame per step
    trace: Trace | None = None
    success: bool = False


def _down(yaw: float = 0.0) -> np.ndarray:
    """(roll, pitch, yaw) of a palm-down hand turned by ``yaw`` about the vertical."""
    return np.array([0.0, 0.0, yaw])


def _placed(point_palm: np.ndarray, target_world: np.ndarray, rpy: np.ndarray) -> np.ndarray:
    """Wrist pose with orientation ``rpy`` that puts palm-frame ``point_palm`` at ``target_world``."""
    wrist = np.concatenate([np.zeros(3), rpy])
    wrist[:3] = np.asarray(target_world) - wrist_rotation(wrist) @ np.asarray(point_palm)
    return wrist


def _pinch_yaw(direction: np.ndarray, object_yaw: float) -> float:
    """Wrist yaw that lines a palm-down pinch up with a cube face (the smallest turn that does)."""
    world = HOME_ROTATION @ direction
    angle = float(np.arctan2(world[1], world[0]))
    turn = (object_yaw - angle + np.pi / 4) % (np.pi / 2) - np.pi / 4
    return float(turn)


def _toward(measured: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """A wrist target at most one step (:data:`STEP_M`, :data:`STEP_RAD`) from the measured wrist toward ``goal``."""
    delta = np.asarray(goal, dtype=np.float64) - measured
    delta[3:] = (delta[3:] + np.pi) % (2 * np.pi) - np.pi
    move = np.linalg.norm(delta[:3])
    if move > STEP_M:
        delta[:3] *= STEP_M / move
    delta[3:] = np.clip(delta[3:], -STEP_RAD, STEP_RAD)
    return measured + delta


def _reached(measured: np.ndarray, goal: np.ndarray) -> bool:
    delta = np.asarray(goal) - measured
    turn = (delta[3:] + np.pi) % (2 * np.pi) - np.pi
    return bool(np.linalg.norm(delta[:3]) < REACHED_M and np.abs(turn).max() < REACHED_RAD)


class Expert:
    """The closed-loop expert of one episode: ``expert(step, observation)`` -> command (6 + dof).

    Its memory is only which phase it is in (and, once closed, where it closed): everything else is
    read from the observation at every step.
    """

    def __init__(self, hand: Hand, scene: TaskScene) -> None:
        self.hand, self.scene = hand, scene
        self.item = scene.scene.get(scene.target)
        self.q_open = grasps.open_pose(hand)
        request = grasp_request(scene.task, self.item.dims[0])
        self.grasp = grasps.cached(hand, request[0], request[1], **request[2]) if request else None
        self.squeeze = squeezed(hand, self.grasp.q_open, self.grasp.q_grasp) if self.grasp is not None else self.q_open
        # the grasp's own open pose (a pre-shape that clears the object) is what the hand comes in with
        self.q_pre = self.grasp.q_open if self.grasp is not None else self.q_open
        self.phase = "reach"
        self.since = 0  # control steps spent in this phase
        self.closed_at: np.ndarray | None = None  # the wrist pose the grasp closed at
        self.previous: np.ndarray | None = None  # the joints measured at the last step

    def _enter(self, phase: str) -> None:
        self.phase, self.since = phase, 0

    def _settled(self, obs: Observation) -> bool:
        """Whether the fingers moved less than :data:`SETTLED_RAD` since the last control step."""
        return self.previous is not None and float(np.abs(obs.joints - self.previous).max()) < SETTLED_RAD

    def __call__(self, step: int, obs: Observation) -> np.ndarray:
        task = self.scene.task
        if task in ("pinch_lift", "power_lift", "bottle_upright"):
            wrist, q = self._lift(obs, carry=False)
        elif task == "place_in_bin":
            wrist, q = self._lift(obs, carry=True)
        elif task == "press_button":
            wrist, q = self._press(obs)
        else:
            wrist, q = self._push(obs)
        self.since += 1
        self.previous = obs.joints.copy()
        return np.concatenate([wrist, q])

    # --- lifts and the bin -------------------------------------------------------------------------

    def _grasp_pose(self, obs: Observation) -> np.ndarray:
        """Wrist pose that puts the grasp's centre on the object where it is now."""
        grasp = self.grasp
        if self.item.kind == "cube":
            rpy = _down(_pinch_yaw(grasp.direction, obs.target_yaw))
        elif self.item.kind == "ball":
            rpy = _down()
        else:  # a standing cylinder: a side wrap, the palm facing +Y, its X axis along the bottle
            rpy = np.array([np.pi / 2, 0.0, 0.0])
        return _placed(grasp.centre, obs.target_pos, rpy)

    def _lift(self, obs: Observation, *, carry: bool) -> tuple[np.ndarray, np.ndarray]:
        measured = obs.wrist
        if self.phase in ("reach", "descend"):
            at = self._grasp_pose(obs)
            above = at.copy()
            above[:3] -= ABOVE_M * (wrist_rotation(at) @ np.array([0.0, 1.0, 0.0]))
            if self.phase == "reach":
                if _reached(measured, above) or self.since >= 2 * PATIENCE:
                    self._enter("descend")
                else:
                    return _toward(measured, above), self.q_pre
            if _reached(measured, at) or self.since >= PATIENCE:
                self.closed_at = at
                self._enter("close")
            else:
                return _toward(measured, at), self.q_pre
        at = self.closed_at
        if self.phase == "close":
            share = min(1.0, (self.since + 1) / CLOSE_STEPS)
            q = self.q_pre + share * (self.grasp.q_grasp - self.q_pre)
            if share < 1.0:
                return at.copy(), q
            self._enter("squeeze")
            return at.copy(), q
        if self.phase == "squeeze":
            share = min(1.0, (self.since + 1) / SQUEEZE_STEPS)
            q = self.grasp.q_grasp + share * (self.squeeze - self.grasp.q_grasp)
            # lift only once the fingers have stopped moving (closed on the object, or as far as they go):
            # finger servos lag their targets, and a lift that starts early pulls the object out
            if share >= 1.0 and (self._settled(obs) or self.since >= PATIENCE):
                self._enter("lift")
            return at.copy(), q
        lifted = at.copy()
        lifted[2] += LIFT_M
        if self.phase == "lift":
            risen = measured[2] - at[2]
            if risen > 0.04 and obs.lifted < 0.4 * risen - 0.01:  # it slipped out: grasp it again
                self._enter("reach")
                return _toward(measured, measured + np.r_[0, 0, 0.03, 0, 0, 0]), self.q_open
            if _reached(measured, lifted) or self.since >= PATIENCE:
                self._enter("carry" if carry else "hold")
            return _toward(measured, lifted), self.squeeze
        if self.phase == "hold":
            if obs.lifted < 0.5 * LIFT_M - 0.02:  # dropped while held: grasp it again
                self._enter("reach")
                return _toward(measured, measured), self.q_open
            return lifted, self.squeeze
        over = lifted.copy()
        over[:2] += obs.goal_pos[:2] - obs.target_pos[:2]
        if self.phase == "carry":
            if obs.lifted < 0.02:  # dropped on the way: grasp it again
                self._enter("reach")
                return _toward(measured, measured), self.q_open
            if np.linalg.norm(obs.goal_pos[:2] - obs.target_pos[:2]) < 0.01 or self.since >= 3 * PATIENCE:
                self.closed_at = measured.copy()
                self.closed_at[2] -= LIFT_M
                self._enter("release")
            else:
                return _toward(measured, over), self.squeeze
        release = self.closed_at.copy()
        release[2] += LIFT_M
        if self.phase == "release":
            if self.since >= CLOSE_STEPS:
                self._enter("withdraw")
            return release, self.q_open
        raised = release.copy()
        raised[2] += 0.08
        return _toward(measured, raised), self.q_open

    # --- press and push ----------------------------------------------------------------------------

    def _press(self, obs: Observation) -> tuple[np.ndarray, np.ndarray]:
        half, travel = self.item.dims
        rpy = np.array([0.0, np.pi / 2, 0.0])  # fingers straight down
        cap = obs.target_pos
        top = np.array([cap[0], cap[1], cap[2] + 0.01 + 2 * travel - obs.travel])
        above = _placed(self.grasp.centre, top + [0.0, 0.0, 0.04], rpy)
        pressed = _placed(self.grasp.centre, top - [0.0, 0.0, 0.02], rpy)
        if self.phase == "reach":
            if _reached(obs.wrist, above) or self.since >= 2 * PATIENCE:
                self._enter("press")
            else:
                return _toward(obs.wrist, above), self.grasp.q_grasp
        return _toward(obs.wrist, pressed), self.grasp.q_grasp

    def _push(self, obs: Observation) -> tuple[np.ndarray, np.ndarray]:
        hand, q = self.hand, self.q_open
        rpy = np.array([0.0, np.pi / 2, np.pi])  # fingers down, palm facing +X (the push)
        tips = np.asarray(hand.fk(q))
        fingers = [i for i, f in enumerate(hand.fingers) if f != "thumb"]
        front = float(tips[:, 1].max())  # the hand's furthest point along its palm normal
        lowest = float(tips[:, 2].max())
        half = self.item.dims[0]
        rotation = rpy_matrix(rpy) @ HOME_ROTATION
        lateral = rotation @ np.array([tips[fingers, 0].mean(), front, lowest])
        block, spot = obs.target_pos, obs.goal_pos
        behind = np.concatenate([np.array([block[0] - half - 0.02, spot[1], 0.012]) - lateral, rpy])
        if self.phase == "reach":
            above = behind.copy()
            above[2] += 0.08
            if _reached(obs.wrist, above) or self.since >= 2 * PATIENCE:
                self._enter("lower")
            else:
                return _toward(obs.wrist, above), q
        if self.phase == "lower":
            if _reached(obs.wrist, behind) or self.since >= PATIENCE:
                self._enter("push")
            else:
                return _toward(obs.wrist, behind), q
        if self.phase == "push":
            remaining = spot[0] - block[0]
            if remaining <= 0.004:
                self._enter("done")
            else:  # the palm touching the block's back face, moved on by what is left to go
                contact = np.concatenate([np.array([block[0] - half, spot[1], 0.012]) - lateral, rpy])
                contact[0] += min(remaining, STEP_M) + 0.01  # the wrist servo yields a little on the block
                return _toward(obs.wrist, contact), q
        backed = obs.wrist.copy()
        return backed, q


GraspRequest = tuple[str, float, dict]


def grasp_request(task: str, size: float) -> GraspRequest | None:
    """Which grasp the expert synthesises for ``task`` on an object of ``size`` (its first dimension)."""
    if task in ("pinch_lift", "place_in_bin"):
        return ("pinch", size, {})
    if task == "power_lift":  # the loose wrap: on the reference hands it lifts the ball where the tight one rolls it
        return ("wrap", size, {"loose": True})
    if task == "bottle_upright":
        return ("wrap", size, {"cylinder": True})
    if task == "press_button":
        return ("point", 0.0, {})
    return None


def grasp_requests(task: str) -> list[GraspRequest]:
    """Every grasp the expert can need for ``task``: one per millimetre of the task's size range (the
    sizes :func:`~xlsdk.physics.grasps.cached` rounds to), so a pool can synthesise them once."""
    from xlsdk.bench.physics import tasks

    ranges = {"pinch_lift": tasks.PINCH_HALF, "place_in_bin": tasks.BIN_CUBE_HALF, "power_lift": tasks.BALL_RADIUS,
              "bottle_upright": tasks.BOTTLE_RADIUS}
    if task not in ranges:
        request = grasp_request(task, 0.0)
        return [request] if request else []
    low, high = (int(round(v * 1000)) for v in ranges[task])
    return [r for r in (grasp_request(task, mm / 1000) for mm in range(low, high + 1)) if r]


def grasp_residual_mm(hand_name: str, task: str) -> float | None:
    """How far (mm, roughly) the grasp synthesis leaves the fingertips from their targets for ``task``'s
    grasp on a mid-sized object: a large value says the hand's kinematics cannot make that grasp."""
    import xlsdk

    hand = xlsdk.load_hand(hand_name)
    kind = {"pinch_lift": ("pinch", 0.015), "place_in_bin": ("pinch", 0.014), "power_lift": ("wrap", 0.033),
            "bottle_upright": ("wrap", 0.025)}.get(task)
    if kind is None:
        return None
    options = {"cylinder": True} if task == "bottle_upright" else {}
    grasp = grasps.cached(hand, kind[0], kind[1], **options)
    return float(np.sqrt(max(grasp.cost, 0.0) / 10.0) * 1000.0)


def rollout(world: World, scene: TaskScene, controller: Controller, *, fps: float = FPS,
            seconds: float = EPISODE_S, cameras: tuple[str, ...] = (), image_size: int = 96,
            perturb: Callable[[np.ndarray], np.ndarray] | None = None) -> Episode:
    """Run one episode: each control step ``controller(step, observation)`` returns the command (6 + dof).

    ``cameras`` are rendered and kept every step (a dataset's images); a controller may render others
    through ``observation.image(camera)`` on the steps it needs them. ``perturb`` (DART) changes the
    command that is *executed*; the episode records the controller's clean command as the action, for
    the state actually reached. The object-state trace is judged by the task at the end.
    """
    hand = world.hand
    world.reset(q=grasps.open_pose(hand))
    episode = Episode(trace=Trace(dt=1.0 / fps), images={camera: [] for camera in cameras})
    steps = int(round(seconds * fps))
    for step in range(steps):
        obs = observe(world, scene, image_size)
        command = np.asarray(controller(step, obs), dtype=np.float64)
        for camera in cameras:
            episode.images[camera].append(obs.image(camera))
        episode.states.append(obs.state.astype(np.float32))
        episode.objects.append(obs.objects.astype(np.float32))
        episode.actions.append(command.astype(np.float32))
        executed = perturb(command) if perturb is not None else command
        episode.executed.append(executed.astype(np.float32))
        world.set_wrist_target(np.clip(executed[:6], world.wrist_lower, world.wrist_upper))
        world.set_hand_target(np.clip(executed[6:], hand.spec.lower, hand.spec.upper))
        world.step(1.0 / fps)
        episode.trace.record(world, scene)
    episode.success = judge(scene, episode.trace)
    return episode


#: the benchmark's simulation: 4 ms steps and 2 no-slip passes instead of the world's 2 ms and 5. Measured
#: on 4 hands x 6 tasks x 4-8 scenes (144 expert episodes): one outcome of 144 changed (a paxini ball lift
#: that now holds), at 1.8x less CPU per episode. Expert and policies are graded in the same physics.
TIMESTEP_S = 0.004
NOSLIP_ITERATIONS = 2


def bench_world(hand: Hand, scene: TaskScene, image_size: int = 96) -> World:
    """The world every benchmark episode (expert or policy) runs in."""
    from xlsdk.physics.world import PhysicsConfig

    return World(hand, scene.scene, PhysicsConfig(image_size=max(96, image_size), timestep=TIMESTEP_S,
                                                  noslip_iterations=NOSLIP_ITERATIONS))


class Dart:
    """DART noise: the executed command is the expert's plus Gaussian noise, seeded per episode.

    Wrist position noise in metres, rotation in radians, the hand's joints as a share of each joint's
    range. The recorded label stays the clean command, so the data shows how to come back from the
    small errors a learned policy makes.
    """

    def __init__(self, hand: Hand, seed: int, *, wrist_m: float = 0.003, wrist_rad: float = 0.02,
                 joint_share: float = 0.02) -> None:
        self.rng = np.random.default_rng(seed)
        span = np.asarray(hand.spec.upper) - np.asarray(hand.spec.lower)
        self.scale = np.concatenate([[wrist_m] * 3, [wrist_rad] * 3, joint_share * span])

    def __call__(self, command: np.ndarray) -> np.ndarray:
        return command + self.rng.normal(0.0, 1.0, command.shape) * self.scale


def run_expert(hand: Hand, scene: TaskScene, *, fps: float = FPS, cameras: tuple[str, ...] = (),
               image_size: int = 96, world: World | None = None, dart: Dart | None = None) -> Episode:
    """The expert's episode on ``scene`` (success judged from object state); ``dart`` perturbs execution."""
    owned = world is None
    world = world or bench_world(hand, scene, image_size)
    try:
        return rollout(world, scene, Expert(hand, scene), fps=fps, cameras=cameras, image_size=image_size,
                       perturb=dart)
    finally:
        if owned:
            world.close()
