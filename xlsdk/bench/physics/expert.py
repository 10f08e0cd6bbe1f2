"""The scripted expert: one plan per task, no per-hand code, grasps from the hand's own FK.

For every task the expert reads the object's pose from the scene, synthesises the grasp on the hand's
FK (:mod:`xlsdk.bench.physics.grasps`), places the wrist so that the grasp's centre lands on the
object, and writes a plan of keyframes (wrist pose + hand joints, with a duration each):

* lifts (cube, ball, bottle): above the object, down onto it with the hand open, close onto the
  synthesised grasp and squeeze on (the targets continue past the grasp, as a position-controlled hand
  holds by commanding through the object), lift 12 cm, hold;
* press: fingers pointing down in the pointing pose, the index tip over the cap, down 2 cm past its top
  (the wrist servo yields on the spring) and held there;
* push: fingers down, palm facing the push, lowered behind the block and moved across to the spot;
* bin: the pinch of ``pinch_lift``, carried over the bin, opened, the hand withdrawn.

No plan pauses and comes back: a policy sees only the image and a short state history, and a state
the demonstrations pass through twice (going down, then back up) would leave it averaging the two
(measured: a learned press stopped halfway down). The last keyframe is held to the episode's end.

:func:`rollout` executes commands at the control rate on a :class:`~xlsdk.physics.world.World` and
records the object-state :class:`~xlsdk.bench.physics.tasks.Trace` the task is judged by; the
policy runner uses the same function, so the expert and the policies are graded identically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from xlsdk.hand import Hand
from xlsdk.kinematics import rpy_matrix
from xlsdk.physics.world import HOME_ROTATION, World, wrist_rotation
from xlsdk.bench.physics import grasps
from xlsdk.bench.physics.tasks import TaskScene, Trace, judge

FPS = 5.0
SQUEEZE = 0.35
LIFT_M = 0.12
ABOVE_M = 0.07
#: every episode (expert or policy) lasts this long at :data:`FPS`
EPISODE_S = 6.0

Keyframe = tuple[float, np.ndarray, np.ndarray]  # (seconds to get there, wrist pose, hand joints)


@dataclass
class Episode:
    """What one executed episode left: per control step, the observed state, the command, the image."""

    states: list[np.ndarray] = field(default_factory=list)  # (6 + dof,) wrist pose + hand joints
    actions: list[np.ndarray] = field(default_factory=list)  # (6 + dof,) wrist target + hand targets
    images: list[np.ndarray] = field(default_factory=list)
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


def _squeezed(hand: Hand, grasp: grasps.Grasp) -> np.ndarray:
    return np.clip(grasp.q_grasp + SQUEEZE * (grasp.q_grasp - grasp.q_open), hand.spec.lower, hand.spec.upper)


def _pinch_yaw(direction: np.ndarray, object_yaw: float) -> float:
    """Wrist yaw that lines a palm-down pinch up with a cube face (the smallest turn that does)."""
    world = HOME_ROTATION @ direction
    angle = float(np.arctan2(world[1], world[0]))
    turn = (object_yaw - angle + np.pi / 4) % (np.pi / 2) - np.pi / 4
    return float(turn)


def _lift_plan(world: World, hand: Hand, scene: TaskScene) -> tuple[list[Keyframe], grasps.Grasp, np.ndarray]:
    item = scene.scene.get(scene.target)
    centre = np.asarray(item.pos)
    if item.kind == "cube":
        grasp = grasps.cached(hand, "pinch", item.dims[0])
        rpy = _down(_pinch_yaw(grasp.direction, item.yaw))
    elif item.kind == "ball":
        grasp = grasps.cached(hand, "wrap", item.dims[0])
        rpy = _down()
    else:  # a standing cylinder: a side wrap, the palm facing +Y, its X axis along the bottle
        grasp = grasps.cached(hand, "wrap", item.dims[0], cylinder=True)
        rpy = np.array([np.pi / 2, 0.0, 0.0])
    at = _placed(grasp.centre, centre, rpy)
    normal = wrist_rotation(at) @ np.array([0.0, 1.0, 0.0])
    above = at.copy()
    above[:3] -= ABOVE_M * normal
    squeeze = _squeezed(hand, grasp)
    lifted = at.copy()
    lifted[2] += LIFT_M
    plan = [(1.2, above, grasp.q_open), (0.8, at, grasp.q_open), (0.8, at, grasp.q_grasp), (0.4, at, squeeze),
            (1.0, lifted, squeeze)]
    return plan, grasp, lifted


def plan_for(world: World, hand: Hand, scene: TaskScene) -> list[Keyframe]:
    """The expert's keyframes for ``scene`` (the episode starts at the world's home wrist, hand open)."""
    if scene.task in ("pinch_lift", "power_lift", "bottle_upright"):
        return _lift_plan(world, hand, scene)[0]
    item = scene.scene.get(scene.target)
    if scene.task == "press_button":
        grasp = grasps.cached(hand, "point")
        rpy = np.array([0.0, np.pi / 2, 0.0])  # fingers straight down
        half, travel = item.dims
        top = np.array([item.pos[0], item.pos[1], item.pos[2] + 0.01 + 2 * travel])
        above = _placed(grasp.centre, top + [0.0, 0.0, 0.04], rpy)
        pressed = _placed(grasp.centre, top - [0.0, 0.0, 0.02], rpy)
        return [(1.2, above, grasp.q_grasp), (1.2, pressed, grasp.q_grasp)]  # and held pressed
    if scene.task == "push_block":
        q = grasps.open_pose(hand)
        rpy = np.array([0.0, np.pi / 2, np.pi])  # fingers down, palm facing +X (the push)
        tips = np.asarray(hand.fk(q))
        fingers = [i for i, f in enumerate(hand.fingers) if f != "thumb"]
        front = float(tips[:, 1].max())  # the hand's furthest point along its palm normal
        lowest = float(tips[:, 2].max())
        half = item.dims[0]
        spot = np.asarray(scene.scene.get(scene.goal or "spot").pos)
        rotation = rpy_matrix(rpy) @ HOME_ROTATION
        start = np.concatenate([np.zeros(3), rpy])
        lateral = rotation @ np.array([tips[fingers, 0].mean(), front, lowest])
        start[:3] = np.array([item.pos[0] - half - 0.02, item.pos[1], 0.012]) - lateral
        above = start.copy()
        above[2] += 0.08
        end = start.copy()
        end[0] += spot[0] - item.pos[0] + 0.045  # the long hand yields a little on its wrist servo
        return [(1.2, above, q), (0.8, start, q), (2.0, end, q), (0.5, end, q)]
    # place_in_bin
    plan, grasp, lifted = _lift_plan(world, hand, scene.model_copy(update={"task": "pinch_lift"}))
    box = scene.scene.get(scene.goal or "bin")
    over = lifted.copy()
    over[:2] += np.asarray(box.pos[:2]) - np.asarray(item.pos[:2])
    squeeze = plan[-1][2]
    raised = over.copy()
    raised[2] += 0.08
    return [*plan[:-1], (0.6, lifted, squeeze), (1.0, over, squeeze), (0.5, over, grasp.q_open),
            (0.5, raised, grasp.q_open)]


def commands(plan: list[Keyframe], start_wrist: np.ndarray, start_q: np.ndarray, fps: float, steps: int
             ) -> list[np.ndarray]:
    """The plan sampled at the control rate: ``steps`` commands (6 + dof) each; the last keyframe is held."""
    out: list[np.ndarray] = []
    wrist, q = np.asarray(start_wrist, dtype=np.float64), np.asarray(start_q, dtype=np.float64)
    for seconds, wrist_to, q_to in plan:
        count = max(1, int(round(seconds * fps)))
        for s in np.linspace(0.0, 1.0, count + 1)[1:]:
            smooth = 10 * s**3 - 15 * s**4 + 6 * s**5
            out.append(np.concatenate([wrist + (wrist_to - wrist) * smooth, q + (q_to - q) * smooth]))
        wrist, q = np.asarray(wrist_to, dtype=np.float64), np.asarray(q_to, dtype=np.float64)
    while len(out) < steps:
        out.append(out[-1].copy())
    return out[:steps]


def rollout(world: World, scene: TaskScene, policy: Callable[[int, np.ndarray, Callable[[], np.ndarray]], np.ndarray],
            *, fps: float = FPS, seconds: float = EPISODE_S, camera: str | None = "top", image_size: int = 96,
            record_images: bool = True) -> Episode:
    """Run one episode: each control step ``policy(step, state, image)`` returns the command (6 + dof).

    ``image()`` renders the camera on demand (a policy that predicts a chunk every few steps renders
    only then). The episode's object-state trace is judged by the task at the end.
    """
    hand = world.hand
    world.reset(q=grasps.open_pose(hand))
    episode = Episode(trace=Trace(dt=1.0 / fps))
    steps = int(round(seconds * fps))
    for step in range(steps):
        state = np.concatenate([world.wrist_positions(), world.hand_positions()])
        cache: dict[str, np.ndarray] = {}

        def image() -> np.ndarray:
            if "image" not in cache:
                cache["image"] = world.render(camera or "top", image_size)
            return cache["image"]

        command = np.asarray(policy(step, state, image), dtype=np.float64)
        if record_images and camera:
            episode.images.append(image())
        episode.states.append(state.astype(np.float32))
        episode.actions.append(command.astype(np.float32))
        world.set_wrist_target(np.clip(command[:6], world.wrist_lower, world.wrist_upper))
        world.set_hand_target(np.clip(command[6:], hand.spec.lower, hand.spec.upper))
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


def run_expert(hand: Hand, scene: TaskScene, *, fps: float = FPS, camera: str | None = "top",
               image_size: int = 96, world: World | None = None, record_images: bool = True) -> Episode:
    """The expert's episode on ``scene`` (success judged from object state)."""
    owned = world is None
    world = world or bench_world(hand, scene, image_size)
    try:
        world.reset(q=grasps.open_pose(hand))
        plan = plan_for(world, hand, scene)
        script = commands(plan, world.home_wrist(), grasps.open_pose(hand), fps, int(round(EPISODE_S * fps)))
        return rollout(world, scene, lambda step, state, image: script[step], fps=fps, camera=camera,
                       image_size=image_size, record_images=record_images)
    finally:
        if owned:
            world.close()
