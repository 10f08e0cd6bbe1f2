"""The one grasp machine: reach, descend, close, squeeze, lift, hold, closed loop at any control rate.

``xlsdk check --physics``, the demo (through :func:`xlsdk.physics.grasp.execute_grasp`) and the physics
benchmark's expert grasp with this machine, so a change that makes one hold more makes them all hold more,
and a vendor's check result says what the benchmark's expert will manage with the same hand.

At every control step the machine reads a :class:`GraspView` (the measured wrist and joints, where the
object is now, which hand links touch it) and answers the wrist and hand targets for that state:

* **reach**: to a pose :data:`ABOVE_M` back along the palm normal from the grasp pose, the hand in the
  grasp's pre-shape (``q_open``). The grasp pose puts the grasp's ``centre`` on the object's centre *where
  the object is now*, backed off by ``backoff_m`` (the open hand must not start inside the object);
* **descend**: along the palm normal to the grasp pose;
* **close**: :class:`~xlsdk.physics.grasp.ClosingFingers`, each finger stopping where it touches;
* **squeeze**: on past the grasp (:func:`~xlsdk.physics.grasp.squeezed`; slower for an object standing on
  its end, which a quick squeeze tips), then wait until the fingers have stopped moving (finger servos lag
  their targets, and a lift that starts early pulls the object out);
* **lift** by :data:`~xlsdk.physics.grasp.LIFT_M`, then **hold**.

Every wrist target is at most :data:`SPEED_M_S` / :data:`TURN_RAD_S` per second from the *measured* wrist,
so a wrist pushed off its path is brought back rather than replayed. An object that slips out during the
lift or the hold starts the machine over from the reach (``regrasp``; the physics check turns it off:
it judges one grasp). Phases move forward only, apart from that regrasp.

The machine knows nothing of tasks: the benchmark's expert runs it for its lifts and takes over once the
object is held (to carry it to a bin); the check runs it on one object at the grasp spot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlsdk.hand import Hand
from xlsdk.physics.grasp import LIFT_M, ClosingFingers, approach_rpy, placed, squeezed
from xlsdk.physics.scene import SceneObject
from xlsdk.physics.world_spec import HOME_ROTATION, wrist_rotation
from xlsdk.transforms import quaternion_yaw

#: how far back along the palm normal from the grasp pose the hand comes in from (metres)
ABOVE_M = 0.07
#: the fastest the machine moves the wrist target away from the measured wrist (metres, radians per second)
SPEED_M_S = 0.2
TURN_RAD_S = 1.75
#: how long the fingers take to close onto the grasp, then to squeeze past it (seconds)
CLOSE_S = 0.6
SQUEEZE_S = 0.4
#: the squeeze of an object standing on its end (``SceneObject.standing``): the squeeze carries a finger that
#: stopped early on the object from where it stopped to past the grasp, and in 0.4 s (2 control steps at the
#: benchmark's 5 Hz) that jolt tipped paxini's standing bottles and the lift held them so: 9 of 60 evaluation
#: bottles hung 26-34 degrees from upright (the task allows 25), 3 more fell; over 0.8 s, 1 fell. Balls and
#: cubes keep the quick squeeze: over 0.8 s xhand's balls fell in 8 of 60 scenes instead of 4, and paxini's
#: choice took a grasp for its larger balls that dropped 24 instead of 1 (docs/benchmarks/physics.md, expert
#: version 15)
STANDING_SQUEEZE_S = 0.8
#: a phase waiting on the wrist moves on after this long even if the servo has not settled (an object in
#: the way stops the wrist short of its target, which must not stall the grasp)
PATIENCE_S = 1.2
#: how close the wrist must be to a phase's target before the next phase starts (metres, radians)
REACHED_M = 0.012
REACHED_RAD = 0.08
#: fingers slower than this have closed (on the object or at their limits), radians per second
SETTLED_RAD_S = 0.1
#: how far the hand keeps from objects other than the one it grasps when it chooses its turn (metres)
CLEARANCE_M = 0.01
#: objects grasped from above whose grasp is the same at several wrist yaws, so the machine picks the yaw
#: that keeps the hand clear of the other objects (a cube: its four square turns; a ball: any turn)
TURNABLE = ("cube", "ball")
#: where along the close (share of the way from open to grasp) the hand is checked against other objects
SWEEP_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
#: the turns a ball is grasped at: every 45 degrees (the open thumb of a side-thumbed hand such as paxini's
#: came down on the ball beside the one it grasped at the home yaw)
BALL_TURNS = 8


@dataclass(frozen=True)
class GraspView:
    """What the machine reads at one control step."""

    wrist: np.ndarray  # (6,) measured wrist pose (x, y, z, roll, pitch, yaw)
    joints: np.ndarray  # (dof,) measured hand joints
    object_pos: np.ndarray  # (3,) the object's centre, world frame
    object_yaw: float  # the object's turn about the vertical (radians)
    lifted: float  # how far the object is above where it rested (metres)
    touching: tuple[str, ...] = ()  # hand links touching the object

    @classmethod
    def of(cls, world: object, name: str) -> GraspView:
        """The view of object ``name`` in a :class:`~xlsdk.physics.world.World` now."""
        state = world.object_state(name)
        yaw = quaternion_yaw(state.quat)
        touching = tuple(sorted({link for link, _, _ in world.hand_contact_forces(name)}))
        return cls(wrist=world.wrist_positions(), joints=world.hand_positions(), object_pos=np.asarray(state.pos),
                   object_yaw=yaw, lifted=float(state.lifted), touching=touching)


def toward(measured: np.ndarray, goal: np.ndarray, seconds: float) -> np.ndarray:
    """A wrist target at most ``seconds`` of :data:`SPEED_M_S` / :data:`TURN_RAD_S` from the measured wrist."""
    delta = np.asarray(goal, dtype=np.float64) - measured
    delta[3:] = (delta[3:] + np.pi) % (2 * np.pi) - np.pi
    move, most = np.linalg.norm(delta[:3]), SPEED_M_S * seconds
    if move > most:
        delta[:3] *= most / move
    delta[3:] = np.clip(delta[3:], -TURN_RAD_S * seconds, TURN_RAD_S * seconds)
    return measured + delta


def reached(measured: np.ndarray, goal: np.ndarray) -> bool:
    delta = np.asarray(goal) - measured
    turn = (delta[3:] + np.pi) % (2 * np.pi) - np.pi
    return bool(np.linalg.norm(delta[:3]) < REACHED_M and np.abs(turn).max() < REACHED_RAD)


def square_yaw(direction: np.ndarray, object_yaw: float) -> float:
    """Wrist yaw that lines a palm-down grasp's ``direction`` (palm frame) up with a cube face (the smallest turn)."""
    world = HOME_ROTATION @ direction
    angle = float(np.arctan2(world[1], world[0]))
    return float((object_yaw - angle + np.pi / 4) % (np.pi / 2) - np.pi / 4)


def _finger_points(hand: Hand, q: np.ndarray) -> np.ndarray:
    """(N, 3) palm-frame points of the hand at ``q`` (:func:`xlsdk.physics.grasps.finger_points`, in numpy)."""
    import torch

    from xlsdk.physics.grasps import DTYPE, finger_points

    with torch.no_grad():
        return finger_points(hand, torch.as_tensor(np.asarray(q), dtype=DTYPE)[None])[0].numpy()


class GraspMachine:
    """Grasp ``item`` from ``q_open`` to ``q_grasp`` with the grasp's ``centre`` on it; ``machine(view)`` ->
    ``(wrist target (6,), hand target (dof,))`` once per control step of ``1 / rate_hz`` seconds.

    ``direction`` is a pinch's line (palm frame), squared to a cube's faces; ``obstacles`` are the other
    solid objects a cube grasp's turn keeps clear of; ``rpy`` fixes the wrist orientation (default: from
    the object's kind, :func:`~xlsdk.physics.grasp.approach_rpy`, a cube turned square to its faces).
    """

    def __init__(self, hand: Hand, item: SceneObject, q_open: np.ndarray, q_grasp: np.ndarray,
                 centre: np.ndarray, *, rate_hz: float, kind: str = "", direction: np.ndarray | None = None,
                 backoff_m: float = 0.0, rpy: tuple[float, float, float] | None = None,
                 obstacles: tuple[SceneObject, ...] = (), regrasp: bool = True) -> None:
        self.hand, self.item = hand, item
        self.q_open = np.clip(np.asarray(q_open, dtype=np.float64), hand.spec.lower, hand.spec.upper)
        self.q_grasp = np.clip(np.asarray(q_grasp, dtype=np.float64), hand.spec.lower, hand.spec.upper)
        self.kind = kind
        self.squeeze = squeezed(hand, self.q_open, self.q_grasp, kind)
        self.squeeze_s = STANDING_SQUEEZE_S if item.standing else SQUEEZE_S
        self.centre, self.direction = np.asarray(centre, dtype=np.float64), direction
        self.dt, self.backoff, self.rpy = 1.0 / rate_hz, backoff_m, rpy
        self.obstacles, self.regrasp = obstacles, regrasp
        self.left = hand.spec.manifest.handedness == "left"
        # the hand along its close, open to grasp: fingers clear of the other object open and closed can sweep
        # through it on the way (paxini's fingers curled down onto the ball beside the one they grasped)
        self.points = (np.concatenate([_finger_points(hand, self.q_open + share * (self.q_grasp - self.q_open))
                                       for share in SWEEP_SHARES])
                       if obstacles and item.kind in TURNABLE else None)
        self.phase = "reach"
        self.elapsed = 0.0  # seconds in this phase
        self.closed_at: np.ndarray | None = None  # the wrist pose the grasp closed at
        self.closing: ClosingFingers | None = None
        self.yaw: float | None = None  # a cube grasp's turn, chosen once per reach
        self.previous: np.ndarray | None = None  # the joints measured at the last step
        self.attempts = 1

    def steps(self, seconds: float) -> int:
        return max(1, int(round(seconds / self.dt)))

    def enter(self, phase: str) -> None:
        """Start ``phase`` (a caller may start at ``descend`` with the hand already above the object)."""
        self.phase, self.elapsed = phase, 0.0
        if phase == "reach":
            self.closing, self.yaw = None, None

    def _settled(self, view: GraspView) -> bool:
        return self.previous is not None and float(np.abs(view.joints - self.previous).max()) < SETTLED_RAD_S * self.dt

    def grasp_pose(self, view: GraspView) -> np.ndarray:
        """Wrist pose that puts the grasp's centre on the object where it is now, backed off by ``backoff_m``."""
        if self.rpy is not None:
            rpy = np.asarray(self.rpy, dtype=np.float64)
        elif self.item.kind in TURNABLE:
            turns = self._turns(view)
            if self.yaw is None:  # which turn: chosen once per reach, clear of obstacles, else the least turned
                self.yaw = min(turns, key=lambda yaw: (round(self._clash(view, yaw), 4), abs(yaw)))
            # then the turn nearest the chosen one, so a cube turning past 45 degrees does not flip the hand
            self.yaw = min(turns, key=lambda yaw: abs((yaw - self.yaw + np.pi) % (2 * np.pi) - np.pi))
            rpy = np.array([0.0, 0.0, self.yaw])
        else:
            rpy = np.asarray(approach_rpy(self.item, left=self.left, kind=self.kind), dtype=np.float64)
        at = placed(self.centre, view.object_pos, rpy)
        at[:3] -= self.backoff * self.normal(at)
        return at

    def _turns(self, view: GraspView) -> list[float]:
        """The wrist yaws that make the same grasp of the object: a pinch's line (else the palm's X axis) square
        to a cube's faces (four turns), any of :data:`BALL_TURNS` for a ball."""
        if self.item.kind == "ball":
            return [k * 2 * np.pi / BALL_TURNS for k in range(-BALL_TURNS // 2 + 1, BALL_TURNS // 2 + 1)]
        base = square_yaw(self.direction if self.direction is not None else np.array([1.0, 0.0, 0.0]),
                          view.object_yaw)
        return [base + k * np.pi / 2 for k in range(4)]

    @staticmethod
    def normal(wrist: np.ndarray) -> np.ndarray:
        """The palm normal (world frame) of a wrist pose."""
        return wrist_rotation(wrist) @ np.array([0.0, 1.0, 0.0])

    def _clash(self, view: GraspView, yaw: float) -> float:
        """How deep (metres, summed) the hand, open to closed, would reach into the obstacles with the grasp
        centred on the object at ``yaw``: a cube's four square turns are the same grasp to the cube but not to a
        bin beside it."""
        if self.points is None:
            return 0.0
        wrist = placed(self.centre, view.object_pos, np.array([0.0, 0.0, yaw]))
        points = wrist[:3] + self.points @ wrist_rotation(wrist).T
        depth = 0.0
        for other in self.obstacles:
            dims = other.dims
            half = np.array([dims[0], dims[1] if other.kind == "bin" else dims[0]]) + CLEARANCE_M
            top = other.pos[2] + (dims[2] if other.kind == "bin" else other.half_height) + CLEARANCE_M
            turn = np.array([[np.cos(other.yaw), np.sin(other.yaw)], [-np.sin(other.yaw), np.cos(other.yaw)]])
            local = (points[:, :2] - np.asarray(other.pos[:2])) @ turn.T
            inside = np.clip(half - np.abs(local), 0.0, None).min(axis=1) * (points[:, 2] < top)
            depth += float(inside.sum())
        return depth

    def __call__(self, view: GraspView) -> tuple[np.ndarray, np.ndarray]:
        wrist, q = self._answer(view)
        self.elapsed += self.dt
        self.previous = np.asarray(view.joints, dtype=np.float64).copy()
        return wrist, q

    def _answer(self, view: GraspView) -> tuple[np.ndarray, np.ndarray]:
        measured, dt = np.asarray(view.wrist, dtype=np.float64), self.dt
        if self.phase in ("reach", "descend"):
            at = self.grasp_pose(view)
            above = at.copy()
            above[:3] -= ABOVE_M * self.normal(at)
            if self.phase == "reach":
                if reached(measured, above) or self.elapsed >= 2 * PATIENCE_S - 1e-9:
                    self.enter("descend")
                else:
                    return toward(measured, above, dt), self.q_open
            if reached(measured, at) or self.elapsed >= PATIENCE_S - 1e-9:
                self.closed_at = at
                self.enter("close")
            else:
                return toward(measured, at, dt), self.q_open
        at = self.closed_at
        if self.phase == "close":
            if self.closing is None:
                self.closing = ClosingFingers(self.hand, self.q_open, self.q_grasp, self.steps(CLOSE_S))
            q = self.closing.advance(view.touching)
            if self.closing.done:
                self.enter("squeeze")
            return at.copy(), q
        if self.phase == "squeeze":
            share = min(1.0, (self.elapsed + dt) / self.squeeze_s)
            q = self.closing.target + share * (self.squeeze - self.closing.target)
            if share >= 1.0 - 1e-9 and (self._settled(view) or self.elapsed >= PATIENCE_S - 1e-9):
                self.enter("lift")
            return at.copy(), q
        lifted = at.copy()
        lifted[2] += LIFT_M
        if self.phase == "lift":
            risen = measured[2] - at[2]
            if self.regrasp and risen > 0.04 and view.lifted < 0.4 * risen - 0.01:  # it slipped out
                return self._again(measured)
            if reached(measured, lifted) or self.elapsed >= PATIENCE_S - 1e-9:
                self.enter("hold")
            return toward(measured, lifted, dt), self.squeeze
        if self.regrasp and view.lifted < 0.5 * LIFT_M - 0.02:  # dropped while held: grasp it again
            return self._again(measured)
        return lifted, self.squeeze

    def _again(self, measured: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The object slipped out: open the hand, rise a little, and start over from the reach."""
        self.enter("reach")
        self.attempts += 1
        return toward(measured, measured + np.r_[0.0, 0.0, 0.03, 0.0, 0.0, 0.0], self.dt), self.q_open
