"""The physics benchmark's demonstrations as LeRobot v3 datasets (one per hand, on local disk).

Each kept episode (the expert succeeded, judged from object state) is one scene at the control rate:

* ``observation.images.wrist``: the wrist camera (it moves with the hand and looks along the fingers at
  what they grasp), rendered by MuJoCo (an image feature);
* ``observation.state``: the measured wrist pose (x, y, z, roll, pitch, yaw of the palm frame) then
  the hand's joints in command order;
* ``action``: the wrist target then the hand's joint targets, as sent;
* the task string is the instruction; ``robot_type`` the hand's name.

The wrist comes first so that one policy action is "wrist command + hand action" for every hand
(:mod:`xlsdk.bench.physics.space`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xlsdk.hand import Hand
from xlsdk.physics.world import WRIST_JOINTS
from xlsdk.bench.physics.expert import FPS, Episode, run_expert
from xlsdk.bench.physics.tasks import TaskScene

#: the camera the policies see: the wrist camera (looking along the fingers). The fixed top camera looks
#: straight down through the hand, which covers the objects from above at the start of every episode.
CAMERA = "wrist"
IMAGE_KEY = f"observation.images.{CAMERA}"
WRIST_DIM = len(WRIST_JOINTS)


@dataclass
class HandDemos:
    hand: str
    root: Path | None
    attempted: dict[str, int] = field(default_factory=dict)  # per task
    kept: dict[str, int] = field(default_factory=dict)
    kept_scenes: list[int] = field(default_factory=list)  # positions in ``scenes`` of the episodes written

    def expert_success(self, task: str) -> float:
        return self.kept.get(task, 0) / max(self.attempted.get(task, 0), 1)


def features_for(hand: Hand, image_size: int) -> dict:
    names = [f"wrist.{n}" for n in WRIST_JOINTS] + [f"{n}.pos" for n in hand.joint_names]
    width = WRIST_DIM + hand.dof
    return {
        IMAGE_KEY: {"dtype": "image", "shape": (image_size, image_size, 3), "names": ["height", "width", "channels"]},
        "observation.state": {"dtype": "float32", "shape": (width,), "names": names},
        "action": {"dtype": "float32", "shape": (width,), "names": names},
    }


def write_hand_dataset(hand: Hand, scenes: list[TaskScene], root: Path | None, *, image_size: int = 96) -> HandDemos:
    """Run the expert on every scene; write the successful episodes (``root=None``: only measure)."""
    dataset = None
    if root is not None:
        from lerobot.datasets.lerobot_dataset import LeRobotDataset

        dataset = LeRobotDataset.create(repo_id=f"xlsdk/physics_{hand.name}", fps=int(FPS), root=root,
                                        features=features_for(hand, image_size), robot_type=hand.name,
                                        use_videos=False)
    demos = HandDemos(hand=hand.name, root=root)
    for position, scene in enumerate(scenes):
        episode = run_expert(hand, scene, camera=CAMERA if dataset is not None else None,
                             image_size=image_size, record_images=dataset is not None)
        demos.attempted[scene.task] = demos.attempted.get(scene.task, 0) + 1
        if not episode.success:
            continue
        demos.kept[scene.task] = demos.kept.get(scene.task, 0) + 1
        demos.kept_scenes.append(position)
        if dataset is not None:
            _add_episode(dataset, episode, scene)
    if dataset is not None:
        dataset.finalize()
        if not any(demos.kept.values()):
            demos.root = None  # nothing to train on from this hand
    return demos


def _add_episode(dataset: object, episode: Episode, scene: TaskScene) -> None:
    for image, state, action in zip(episode.images, episode.states, episode.actions, strict=True):
        dataset.add_frame({IMAGE_KEY: image, "observation.state": state, "action": action,  # type: ignore[attr-defined]
                           "task": scene.instruction})
    dataset.save_episode()  # type: ignore[attr-defined]
