"""The physics benchmark's tasks: a scene on the MuJoCo table, an instruction, success from object state.

Six tasks; scenes are sampled from a seed (object poses, sizes and colours), and in three of them a
second object of another colour sits on the table, so only the instruction says which one to act on:

| task | objects | success (object state only, never fingertip geometry) |
|---|---|---|
| pinch_lift | two small cubes | the named cube >= 5 cm above its start during the whole last second |
| power_lift | two large balls | the named ball >= 5 cm above its start during the whole last second |
| bottle_upright | a bottle (cylinder) | >= 5 cm up during the last second, its axis within 25 deg of vertical |
| press_button | a button on a spring | its cap pressed >= 4 mm at some moment |
| push_block | a block and a marked spot | the block's centre within 3 cm of the spot at the end, on the table |
| place_in_bin | a small cube and a bin | the cube inside the bin at the end, the hand no longer touching it |

Success is judged by :func:`judge` from :class:`~xlsdk.physics.world.ObjectState` samples taken once per
control step (:class:`Trace`), so a policy episode and an expert episode are graded identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.errors import UnknownTaskError
from xlsdk.physics.scene import Scene, SceneObject

if TYPE_CHECKING:
    from xlsdk.physics.world import World

TASKS = ("pinch_lift", "power_lift", "bottle_upright", "press_button", "push_block", "place_in_bin")
COLOURS: dict[str, tuple[float, float, float, float]] = {
    "red": (0.85, 0.18, 0.15, 1.0), "green": (0.2, 0.7, 0.3, 1.0), "blue": (0.2, 0.35, 0.9, 1.0),
    "yellow": (0.95, 0.8, 0.15, 1.0), "purple": (0.6, 0.25, 0.75, 1.0),
}
INSTRUCTIONS: dict[str, tuple[str, ...]] = {
    "pinch_lift": ("lift the {colour} cube", "pinch the small {colour} block and pick it up",
                   "pick up the {colour} cube between thumb and finger"),
    "power_lift": ("lift the {colour} ball", "grab the big {colour} ball and raise it",
                   "wrap your hand around the {colour} ball and lift it"),
    "bottle_upright": ("lift the {colour} bottle upright", "pick up the {colour} bottle without tipping it",
                       "raise the {colour} bottle keeping it vertical"),
    "press_button": ("press the {colour} button", "push the {colour} button with your index finger",
                     "poke the {colour} button"),
    "push_block": ("push the {colour} block onto the spot", "slide the {colour} block to the marked spot",
                   "move the {colour} block to the target by pushing"),
    "place_in_bin": ("put the {colour} cube in the bin", "drop the {colour} cube into the bin",
                     "place the {colour} block inside the box"),
}
#: the table region objects are placed in (world metres), in front of the home wrist
REGION_X = (0.0, 0.10)
REGION_Y = (-0.07, 0.07)
HELD_M = 0.05
HOLD_S = 1.0
UPRIGHT_COS = float(np.cos(np.radians(25.0)))
PRESSED_M = 0.004
SPOT_M = 0.03
#: the size ranges scenes draw from (metres): the cube's half edge, the ball's radius, the bottle's radius
#: (the expert synthesises one grasp per millimetre of them, see ``expert.grasp_requests``)
PINCH_HALF = (0.012, 0.018)
BALL_RADIUS = (0.028, 0.038)
BOTTLE_RADIUS = (0.022, 0.028)
BIN_CUBE_HALF = (0.012, 0.016)
#: the grasped object's size range per task (its first dimension), which the expert's grasp choice is made over
SIZE_RANGES: dict[str, tuple[float, float]] = {"pinch_lift": PINCH_HALF, "power_lift": BALL_RADIUS,
                                               "bottle_upright": BOTTLE_RADIUS, "place_in_bin": BIN_CUBE_HALF}


def check_task(task: str) -> str:
    if task not in TASKS:
        raise UnknownTaskError(f"unknown physics task {task!r}; tasks are {', '.join(TASKS)}")
    return task


class TaskScene(BaseModel):
    """One instance of a task: the physics scene, the object the instruction names, the instruction."""

    model_config = ConfigDict(frozen=True)
    task: str
    scene: Scene
    target: str
    instruction: str
    colour: str
    goal: str | None = None  # the marker or bin the target must reach


@dataclass
class Trace:
    """Object-state samples of one episode, one per control step (what :func:`judge` grades)."""

    dt: float
    lifted: list[float] = field(default_factory=list)
    upright: list[float] = field(default_factory=list)
    travel: list[float] = field(default_factory=list)
    spot_distance: list[float] = field(default_factory=list)
    inside: list[bool] = field(default_factory=list)
    contacts: list[int] = field(default_factory=list)

    def record(self, world: World, scene: TaskScene) -> None:
        state = world.object_state(scene.target)
        self.lifted.append(state.lifted)
        self.upright.append(state.upright)
        self.travel.append(state.button_travel or 0.0)
        self.contacts.append(state.hand_contacts)
        if scene.task == "push_block" and scene.goal:
            spot = np.asarray(scene.scene.get(scene.goal).pos[:2])
            self.spot_distance.append(float(np.linalg.norm(np.asarray(state.pos[:2]) - spot)))
        if scene.task == "place_in_bin" and scene.goal:
            self.inside.append(world.inside(scene.target, scene.goal))


def judge(scene: TaskScene, trace: Trace) -> bool:
    """Whether the episode succeeded, from the object's state alone."""
    if not trace.lifted:
        return False
    hold = max(1, int(round(HOLD_S / trace.dt)))
    last = slice(-hold, None)
    if scene.task in ("pinch_lift", "power_lift"):
        return len(trace.lifted) >= hold and min(trace.lifted[last]) >= HELD_M
    if scene.task == "bottle_upright":
        return (len(trace.lifted) >= hold and min(trace.lifted[last]) >= HELD_M
                and min(trace.upright[last]) >= UPRIGHT_COS)
    if scene.task == "press_button":
        return max(trace.travel) >= PRESSED_M
    if scene.task == "push_block":
        return bool(trace.spot_distance) and trace.spot_distance[-1] <= SPOT_M and abs(trace.lifted[-1]) < 0.01
    if scene.task == "place_in_bin":
        return bool(trace.inside) and trace.inside[-1] and trace.contacts[-1] == 0
    raise UnknownTaskError(f"task {scene.task!r} has no success rule")


def _spot(rng: np.random.Generator, taken: list[np.ndarray], clearance: float) -> np.ndarray:
    """A table spot in the region at least ``clearance`` from every spot already ``taken``; where 200 draws
    find none (the first object near the region's middle leaves only its corners), the draw furthest from
    the others. Returning the last draw once put two balls 4.4 cm apart with radii of 3 cm: overlapping
    objects fly apart at the first physics step, and no hand could lift either."""
    best, best_gap = None, -np.inf
    for _ in range(200):
        point = np.array([rng.uniform(*REGION_X), rng.uniform(*REGION_Y)])
        gap = min((float(np.linalg.norm(point - other)) for other in taken), default=np.inf)
        if gap >= clearance:
            return point
        if gap > best_gap:
            best, best_gap = point, gap
    return best


def sample_scene(task: str, rng: np.random.Generator, *, size_at: float | None = None) -> TaskScene:
    """A random scene of ``task``: poses, sizes and colours from ``rng``, one of the paraphrases.

    ``size_at`` (0..1) puts the grasped object's size at that fraction of the task's :data:`SIZE_RANGES`
    instead of drawing it (the expert's grasp choice spreads its scenes over the sizes this way); the draw
    is still made, so everything else in the scene is what the same ``rng`` gives without it.
    """
    check_task(task)
    if size_at is not None and (task not in SIZE_RANGES or not 0.0 <= size_at <= 1.0):
        raise ValueError(f"size_at={size_at!r} for {task!r}: it is a fraction 0..1 of the grasped object's size "
                         f"range, and only {', '.join(SIZE_RANGES)} have one")

    def sized() -> float:
        low, high = SIZE_RANGES[task]
        drawn = float(rng.uniform(low, high))
        return drawn if size_at is None else low + size_at * (high - low)

    colour, other = (str(c) for c in rng.choice(list(COLOURS), size=2, replace=False))
    instruction = str(rng.choice(INSTRUCTIONS[task])).format(colour=colour)
    yaw = float(rng.uniform(-0.4, 0.4))
    objects: list[SceneObject] = []
    goal = None
    if task in ("pinch_lift", "power_lift"):
        kind, size = ("cube" if task == "pinch_lift" else "ball"), (sized(),)
        first = _spot(rng, [], 0.0)
        second = _spot(rng, [first], 0.09)
        objects = [SceneObject(name="target", kind=kind, size=size, colour=COLOURS[colour], yaw=yaw).resting(*first),
                   SceneObject(name="distractor", kind=kind, size=size, colour=COLOURS[other]).resting(*second)]
    elif task == "bottle_upright":
        size = (sized(), float(rng.uniform(0.05, 0.065)))
        objects = [SceneObject(name="target", kind="cylinder", size=size, colour=COLOURS[colour], mass=0.08)
                   .resting(*_spot(rng, [], 0.0))]
    elif task == "press_button":
        objects = [SceneObject(name="target", kind="button", size=(float(rng.uniform(0.015, 0.02)), 0.006),
                               colour=COLOURS[colour], stiffness=200.0).resting(*_spot(rng, [], 0.0))]
    elif task == "push_block":
        start = np.array([rng.uniform(-0.04, 0.02), rng.uniform(*REGION_Y)])
        spot = start + np.array([rng.uniform(0.07, 0.10), 0.0])
        objects = [SceneObject(name="target", kind="cube", size=(float(rng.uniform(0.015, 0.02)),),
                               colour=COLOURS[colour], friction=0.6).resting(*start),
                   SceneObject(name="spot", kind="marker", size=(SPOT_M,), colour=(0.95, 0.95, 0.95, 1.0))
                   .resting(*spot)]
        goal = "spot"
    else:  # place_in_bin
        cube = np.array([rng.uniform(-0.02, 0.04), rng.uniform(-0.07, -0.03)])
        bin_spot = np.array([rng.uniform(0.02, 0.08), rng.uniform(0.06, 0.09)])
        objects = [SceneObject(name="target", kind="cube", size=(sized(),),
                               colour=COLOURS[colour]).resting(*cube),
                   SceneObject(name="bin", kind="bin", size=(0.06, 0.06, 0.03), colour=(0.55, 0.5, 0.45, 1.0))
                   .resting(*bin_spot)]
        goal = "bin"
    return TaskScene(task=task, scene=Scene(objects=tuple(objects)), target="target", instruction=instruction,
                     colour=colour, goal=goal)


def sample_scenes(task: str, count: int, rng: np.random.Generator) -> list[TaskScene]:
    return [sample_scene(task, rng) for _ in range(count)]
