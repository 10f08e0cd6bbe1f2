"""The benchmark's tasks: an instruction plus a rendered scene that together decide the grasp.

Six tasks; in each, the object's position and size in the image shift or scale the target, so the
policy has to look as well as read:

| task | object | target (normalised palm-frame geometry, see xlsdk.geometry) |
|---|---|---|
| pinch | small cube | thumb and index tips a cube-width apart, at a point that follows the cube |
| tripod | pen | thumb, index and middle tips together around a point that follows the pen |
| power | large ball | every fingertip on a sphere (radius from the ball's size) around a centre that follows it |
| point | star | index extended toward the star, the other fingers curled in |
| hook | handle | the four fingers curled as a hook at the handle's height, the thumb out of the way |
| open | plate | every finger extended, the thumb away from the index |

Targets live in the normalised geometry (knuckle centre + finger reach), so one target means the
same grasp on every hand; errors are measured there, on the fingers a hand has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw

from xlsdk.errors import PolicyError, UnknownTaskError
from xlsdk.geometry import HandGeometry

TASKS = ("pinch", "tripod", "power", "point", "hook", "open")
COLOURS = {"red": (210, 50, 40), "green": (40, 160, 70), "blue": (40, 80, 200), "yellow": (220, 190, 40),
           "purple": (140, 60, 170)}
INSTRUCTIONS = {
    "pinch": ("pinch the small {colour} cube", "pick up the {colour} cube with a pinch", "pinch grasp the small block"),
    "tripod": ("grasp the {colour} pen with three fingers", "tripod grasp the pen", "hold the {colour} pen like a pencil"),
    "power": ("grasp the large {colour} ball", "power grasp the ball", "wrap the hand around the big {colour} ball"),
    "point": ("point at the {colour} star", "point to the star", "show the {colour} star with the index finger"),
    "hook": ("hook the {colour} handle", "hook the handle with your fingers", "pull the {colour} handle with a hook"),
    "open": ("open the hand", "release and open the hand above the {colour} plate", "spread the fingers open"),
}


@dataclass(frozen=True)
class ImageScene:
    """One instance of a task, drawn as a picture: where the object is (u, v in [0, 1] of the image), its size
    and colour. Not a world: the physics engine's objects on a table are :class:`xlsdk.physics.scene.Scene`."""

    task: str
    u: float
    v: float
    size: float
    colour: str
    instruction: str


#: a task succeeds when the executed fingertips' task error is at most this above the error the hand's own
#: IK expert reaches on the same scene (so a target a hand cannot reach does not count against a policy)
SUCCESS_TOLERANCE = 0.1


def task_success(error: float, expert_error: float, tolerance: float = SUCCESS_TOLERANCE) -> bool:
    """The success rule of ``xlsdk policy run`` and of the cross-hand benchmark (one rule for both)."""
    return bool(error <= expert_error + tolerance)


def check_task(task: str) -> str:
    """``task`` if it is one of :data:`TASKS`; an :class:`~xlsdk.errors.UnknownTaskError` listing them otherwise."""
    if task not in TASKS:
        raise UnknownTaskError(f"unknown task {task!r}; tasks are {', '.join(TASKS)}")
    return task


def sample_scenes(task: str, count: int, rng: np.random.Generator) -> list[ImageScene]:
    check_task(task)
    scenes = []
    for _ in range(count):
        colour = str(rng.choice(list(COLOURS)))
        template = str(rng.choice(INSTRUCTIONS[task]))
        scenes.append(ImageScene(task=task, u=float(rng.uniform(0.2, 0.8)), v=float(rng.uniform(0.25, 0.75)),
                                 size=float(rng.uniform(0.0, 1.0)), colour=colour,
                                 instruction=template.format(colour=colour)))
    return scenes


def render(scene: ImageScene, size: int = 48) -> np.ndarray:
    """The scene as an RGB uint8 image (size x size x 3): a table, the object, its colour and size."""
    image = Image.new("RGB", (size, size), (225, 222, 215))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, int(0.85 * size), size, size], fill=(170, 150, 120))  # table edge
    colour = COLOURS[scene.colour]
    cx, cy = scene.u * size, scene.v * size
    s = scene.size
    if scene.task == "pinch":
        half = (2 + 3 * s) * size / 48
        draw.rectangle([cx - half, cy - half, cx + half, cy + half], fill=colour)
    elif scene.task == "tripod":
        length, width = (10 + 6 * s) * size / 48, 1.5 * size / 48
        draw.polygon([(cx - length, cy + 3), (cx + length, cy - 3), (cx + length + width, cy - 3 + width),
                      (cx - length + width, cy + 3 + width)], fill=colour)
    elif scene.task == "power":
        radius = (7 + 7 * s) * size / 48
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=colour)
    elif scene.task == "point":
        arm = (4 + 3 * s) * size / 48
        points = [(cx + arm * np.cos(a) * (1 if i % 2 == 0 else 0.4), cy + arm * np.sin(a) * (1 if i % 2 == 0 else 0.4))
                  for i, a in enumerate(np.linspace(-np.pi / 2, 1.5 * np.pi, 10, endpoint=False))]
        draw.polygon(points, fill=colour)
    elif scene.task == "hook":
        radius = (6 + 4 * s) * size / 48
        draw.arc([cx - radius, cy - radius, cx + radius, cy + radius], start=0, end=180, fill=colour, width=3)
    else:  # open: a flat plate to release onto
        width = (12 + 6 * s) * size / 48
        draw.rectangle([cx - width, cy - 2, cx + width, cy + 2], fill=colour)
    return np.asarray(image, dtype=np.uint8)


def task_error(geometry: HandGeometry, scenes: list[ImageScene]) -> torch.Tensor:
    """Per-pose error (B,) of ``geometry`` (one pose per scene) against each scene's target; 0 = perfect.

    Rows are grouped by task and each group is computed in one vectorised pass (IK calls this in its
    inner loop).
    """
    errors = geometry.tips.new_zeros(len(scenes))
    for task in set(scene.task for scene in scenes):
        rows = [i for i, scene in enumerate(scenes) if scene.task == task]
        errors[rows] = _task_error(task, geometry.tips[rows], geometry.fingers, [scenes[i] for i in rows])
    return errors


def _task_error(task: str, p: torch.Tensor, names: tuple[str, ...], scenes: list[ImageScene]) -> torch.Tensor:
    check_task(task)
    if names[:1] != ("thumb",) or "index" not in names:
        raise PolicyError(f"the cross-hand tasks need a thumb and an index finger; this hand has {list(names)}")
    dtype = p.dtype
    dx = torch.tensor([0.2 * (s.u - 0.5) for s in scenes], dtype=dtype)
    dz = torch.tensor([0.3 * (0.5 - s.v) for s in scenes], dtype=dtype)
    size = torch.tensor([s.size for s in scenes], dtype=dtype)
    zeros = torch.zeros_like(dx)
    thumb, index = 0, names.index("index")
    fingers = [i for i, f in enumerate(names) if f != "thumb"]
    others = [i for i, f in enumerate(names) if f not in ("thumb", "index")]

    def point(x: float, y: float, z: float) -> torch.Tensor:
        return torch.stack([x + dx, y + zeros, z + dz], dim=-1)

    if task == "pinch":
        gap = 0.05 + 0.1 * size
        mid = (p[:, thumb] + p[:, index]) / 2
        return ((p[:, thumb] - p[:, index]).norm(dim=-1) - gap).abs() + 0.5 * (mid - point(-0.32, 0.72, 0.1)).norm(dim=-1)
    if task == "tripod":
        third = names.index("middle") if "middle" in names else fingers[-1]
        gap = 0.08 + 0.08 * size
        trio = p[:, [thumb, index, third]]
        pairs = [(trio[:, a] - trio[:, b]).norm(dim=-1) for a, b in ((0, 1), (0, 2), (1, 2))]
        spread = torch.stack([(d - gap).abs() for d in pairs], dim=-1).mean(dim=-1)
        return spread + 0.5 * (trio.mean(dim=1) - point(-0.2, 0.65, 0.05)).norm(dim=-1)
    if task == "power":
        radius = (0.35 + 0.2 * size)[:, None]
        return ((p - point(-0.1, 0.55, 0.25)[:, None]).norm(dim=-1) - radius).abs().mean(dim=-1)
    if task == "point":
        goal = torch.stack([-0.35 + dx, 0.1 + zeros, 1.0 + zeros], dim=-1)
        curled = torch.relu(p[:, others, 2] + 0.2).mean(dim=-1) if others else zeros
        return (p[:, index] - goal).norm(dim=-1) + curled
    if task == "hook":
        height = (0.05 + dz)[:, None]
        hooked = ((p[:, fingers, 1] - 0.4).abs() + (p[:, fingers, 2] - height).abs()).mean(dim=-1)
        return hooked + torch.relu(0.9 - (p[:, thumb] - p[:, index]).norm(dim=-1))
    if task == "open":
        extended = ((p[:, fingers, 2] - 1.0).abs() + 0.5 * p[:, fingers, 1].abs()).mean(dim=-1)
        return extended + torch.relu(0.9 - (p[:, thumb] - p[:, index]).norm(dim=-1))
    raise UnknownTaskError(f"task {task!r} has no error term")
