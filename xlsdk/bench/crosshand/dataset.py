"""Writing the benchmark's demonstrations as LeRobot datasets (v3, one per hand, on local disk).

Each episode is one scene: ``frames`` steps from the open pose to the hand's IK solution. Features:
``observation.images.scene`` (the rendered scene, an image feature: no video codec needed),
``observation.state`` and ``action`` (the hand's joints in command order; the action is the next
pose) and the task string (the instruction). ``robot_type`` is the hand's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xlsdk.bench.crosshand.demos import demo_trajectory, solve_scenes
from xlsdk.bench.crosshand.tasks import ImageScene, render
from xlsdk.bench.harness import create_dataset, image_feature, vector_feature
from xlsdk.hand import Hand

IMAGE_KEY = "observation.images.scene"
FPS = 10


@dataclass(frozen=True)
class HandDemos:
    hand: str
    root: Path
    scenes: list[ImageScene]
    expert_error: list[float]
    episodes: int
    frames: int


def features_for(hand: Hand, image_size: int) -> dict:
    names = [f"{n}.pos" for n in hand.joint_names]
    return {IMAGE_KEY: image_feature(image_size), "observation.state": vector_feature(names),
            "action": vector_feature(names)}


def write_hand_dataset(hand: Hand, scenes: list[ImageScene], root: Path, *, frames: int, image_size: int,
                       seed: int) -> HandDemos:
    """Solve every scene with the hand's own IK and write one episode per scene."""
    goals, errors = solve_scenes(hand, scenes, seed=seed)
    rng = np.random.default_rng(seed)
    dataset = create_dataset(f"xlsdk/crosshand_{hand.name}", root, fps=FPS, features=features_for(hand, image_size),
                             robot_type=hand.name)
    for scene, goal in zip(scenes, goals.numpy(), strict=True):
        image = render(scene, image_size)
        path = demo_trajectory(hand, goal, frames, rng)
        for step in range(frames):
            action = path[min(step + 1, frames - 1)]
            dataset.add_frame({IMAGE_KEY: image, "observation.state": path[step], "action": action,
                               "task": scene.instruction})
        dataset.save_episode()
    dataset.finalize()
    return HandDemos(hand=hand.name, root=root, scenes=scenes, expert_error=[float(e) for e in errors],
                     episodes=len(scenes), frames=len(scenes) * frames)


def write_task_dataset(hand: Hand, root: Path, *, tasks: list[str] | tuple[str, ...], scenes_per_task: int = 16,
                       frames: int = 12, seed: int = 0, image_size: int = 48) -> HandDemos:
    """A new LeRobot dataset at ``root`` of ``scenes_per_task`` demonstrations per task, solved by ``hand``'s IK.

    The library behind ``xlsdk policy make-dataset``; refuses an existing ``root`` (a dataset is never
    overwritten) and unknown tasks before anything is solved.
    """
    from xlsdk.errors import OutputExistsError, PolicyError
    from xlsdk.bench.crosshand.tasks import check_task, sample_scenes

    chosen = [check_task(task) for task in tasks]
    if not chosen:
        raise PolicyError("no tasks given; name at least one task")
    if scenes_per_task < 1 or frames < 2:
        raise PolicyError(f"need at least 1 scene per task and 2 frames per episode, got {scenes_per_task} and {frames}")
    if Path(root).exists():
        raise OutputExistsError(Path(root), hint="choose a new dataset directory")
    rng = np.random.default_rng(seed)
    scenes = [scene for task in chosen for scene in sample_scenes(task, scenes_per_task, rng)]
    return write_hand_dataset(hand, scenes, Path(root), frames=frames, image_size=image_size, seed=seed)
