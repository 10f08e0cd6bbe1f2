"""The physics benchmark's demonstrations: sharded generation into LeRobot v3 datasets, merged by LeRobot.

A **shard** is one hand x one task x one range of scenes (:class:`Shard`): the closed-loop expert runs
each scene with DART noise (the executed command perturbed, the clean command recorded for the state
actually reached) and the successful episodes become one LeRobot dataset on disk. A shard depends
only on its own fields (scene ``i`` of a task is drawn from its own seed, the noise of an episode
from its own), so shards can run anywhere, in any order: as one process each on a cluster (a SLURM
array, Ray jobs: ``xlsdk bench physics-shard ...`` is one shard), or in a process pool on every core
of one machine, and their union is the same data. A hand's shards are merged with LeRobot's own
aggregation (:func:`merge_shards`).

Each frame holds, at the control rate:

* ``observation.state``: the measured wrist pose (x, y, z, roll, pitch, yaw of the palm frame), then
  the hand's joints in command order;
* ``observation.environment_state``: the scene as :data:`~xlsdk.bench.physics.observation.SCENE_FEATURES`
  (the named object and its goal relative to the wrist, its yaw, size, height, uprightness, the
  button's travel);
* ``observation.images.wrist`` and ``observation.images.front`` (``vision`` mode only): the wrist
  camera, looking along the fingers, and a fixed camera on the scene;
* ``action``: the expert's clean wrist target then hand joint targets;
* the task string is the instruction; ``robot_type`` the hand's name.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.bench.harness import create_dataset, image_feature, vector_feature
from xlsdk.bench.physics.expert import FPS, Dart, Episode, dart_level, run_expert
from xlsdk.bench.physics.observation import SCENE_FEATURES, SCENE_WIDTHS
from xlsdk.bench.physics.tasks import TASKS, TaskScene, sample_scene
from xlsdk.errors import DataFormatError
from xlsdk.hand import Hand
from xlsdk.physics.world_spec import WRIST_JOINTS
from xlsdk.policy.train import DemoFrames

ObsMode = Literal["state", "vision"]
#: the cameras of ``vision`` mode: the wrist camera (it moves with the hand and shows where the object is
#: relative to the fingers) and a fixed one on the scene (where the hand is relative to everything)
CAMERAS = ("wrist", "front")
IMAGE_KEYS = tuple(f"observation.images.{camera}" for camera in CAMERAS)
#: what a vision policy is fed: both cameras side by side in one image
IMAGE_KEY = "observation.images.cameras"
ENVIRONMENT_KEY = "observation.environment_state"
#: seed streams: training scenes, fresh evaluation scenes, validation scenes (checkpoint choice)
TRAIN_STREAM, EVAL_STREAM, VALIDATION_STREAM = 0, 10_000, 20_000


def scene_of(task: str, index: int, *, stream: int = TRAIN_STREAM, seed: int = 0,
             size_at: float | None = None) -> TaskScene:
    """Scene ``index`` of ``task`` in a seed stream: drawn from its own generator, so any range of
    scenes can be produced without the ones before it (what makes shards independent). ``size_at``: see
    :func:`~xlsdk.bench.physics.tasks.sample_scene`."""
    return sample_scene(task, np.random.default_rng((stream + seed, TASKS.index(task), index)), size_at=size_at)


class Shard(BaseModel):
    """One unit of demonstration work: scenes ``first .. first + count - 1`` of ``task`` on ``hand``."""

    model_config = ConfigDict(frozen=True)
    hand: str
    task: str
    first: int = Field(ge=0)
    count: int = Field(ge=1)
    obs: ObsMode = "state"
    image_size: int = Field(96, ge=16)
    data_seed: int = 0
    dart: bool = True

    @property
    def name(self) -> str:
        return f"{self.hand}__{self.task}__{self.first:05d}-{self.first + self.count - 1:05d}"

    def dart_seed(self, index: int) -> tuple[int, int, int, int]:
        return (self.data_seed, zlib.crc32(self.hand.encode()), TASKS.index(self.task), index)


class ShardResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    shard: Shard
    kept: list[int] = Field(description="scene indices whose expert episode succeeded (written)")
    root: str | None = Field(description="the shard's LeRobot dataset, or None when nothing succeeded")


def features_for(hand: Hand, obs: ObsMode, image_size: int) -> dict:
    names = [f"wrist.{n}" for n in WRIST_JOINTS] + [f"{n}.pos" for n in hand.joint_names]
    features: dict = {"observation.state": vector_feature(names),
                      ENVIRONMENT_KEY: vector_feature(list(SCENE_FEATURES)), "action": vector_feature(names)}
    if obs == "vision":
        for key in IMAGE_KEYS:
            features[key] = image_feature(image_size)
    return features


def generate_shard(shard: Shard, hand: Hand, root: Path) -> ShardResult:
    """Run the expert (with DART) on the shard's scenes; write the successful episodes to ``root``."""
    from xlsdk.errors import PhysicsError

    dataset = create_dataset(f"xlsdk/physics_{shard.name}", root, fps=int(FPS),
                             features=features_for(hand, shard.obs, shard.image_size), robot_type=hand.name)
    cameras = CAMERAS if shard.obs == "vision" else ()
    kept = []
    for index in range(shard.first, shard.first + shard.count):
        scene = scene_of(shard.task, index, seed=shard.data_seed)
        dart = Dart(hand, shard.dart_seed(index), level=dart_level(hand, shard.task)) if shard.dart else None
        try:
            episode = run_expert(hand, scene, cameras=cameras, image_size=shard.image_size, dart=dart)
        except PhysicsError:
            continue  # a diverged simulation is no demonstration
        if episode.success:
            _add_episode(dataset, episode, scene)
            kept.append(index)
    dataset.finalize()
    return ShardResult(shard=shard, kept=kept, root=str(root) if kept else None)


def _add_episode(dataset: object, episode: Episode, scene: TaskScene) -> None:
    for step, (state, objects, action) in enumerate(zip(episode.states, episode.objects, episode.actions, strict=True)):
        frame = {"observation.state": state, ENVIRONMENT_KEY: objects, "action": action, "task": scene.instruction}
        for camera, key in zip(CAMERAS, IMAGE_KEYS, strict=True):
            if camera in episode.images:
                frame[key] = episode.images[camera][step]
        dataset.add_frame(frame)  # type: ignore[attr-defined]
    dataset.save_episode()  # type: ignore[attr-defined]


def merge_shards(roots: list[Path], out: Path, repo_id: str) -> Path:
    """One LeRobot dataset from shard datasets of one hand, by LeRobot's own aggregation."""
    from lerobot.datasets.aggregate import aggregate_datasets

    if not roots:
        raise DataFormatError(f"{out}: no shard holds an episode to merge")
    aggregate_datasets([f"xlsdk/{Path(r).name}" for r in roots], repo_id, roots=[Path(r) for r in roots],
                       aggr_root=out)
    return out


def read_frames(roots: list[Path], *, history: int, chunk: int, images: bool = False,
                scene: str = "wrist") -> DemoFrames:
    """Every frame of some datasets with its state history, environment state and action chunk.

    Still in each hand's joint space (dof differs per hand), read in bulk from the datasets' tables:
    LeRobot's per-item reader decodes one frame at a time, which costs minutes on tens of thousands of
    frames. History and chunks never cross an episode boundary: the first state repeats backwards and
    the last action forwards, with ``pads`` marking the repeated actions, as LeRobot's delta timestamps
    do (a test holds the two readers to each other). ``images``: the wrist and fixed cameras side by
    side, one uint8 ``(3, S, 2S)`` image per frame. ``scene``: which of the stored scene features the
    environment state keeps (:data:`~xlsdk.bench.physics.observation.SCENE_WIDTHS`; the datasets store all).
    """
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    from xlsdk.trajectories import lerobot_columns

    out = DemoFrames(images=[] if images else None, tasks=[], hands=[], states=[], actions=[], pads=[], fps=FPS,
                     frames_per_episode=0, image_key=IMAGE_KEY)
    environments = []
    for root in roots:
        dataset = LeRobotDataset(repo_id=Path(root).name, root=root)
        hand = dataset.meta.robot_type
        table = lerobot_columns(dataset, ["episode_index", "task_index", "observation.state", "action", ENVIRONMENT_KEY])
        episode = table["episode_index"]
        state = table["observation.state"].astype(np.float32)
        action = table["action"].astype(np.float32)
        environments.append(torch.from_numpy(np.ascontiguousarray(table[ENVIRONMENT_KEY][:, : SCENE_WIDTHS[scene]],
                                                                  dtype=np.float32)))
        task_names = dataset.meta.tasks.index.tolist()
        task_index = table["task_index"]
        bounds = {int(e): (int(np.flatnonzero(episode == e)[0]), int(np.flatnonzero(episode == e)[-1]))
                  for e in np.unique(episode)}
        for row in range(len(episode)):
            first, last = bounds[int(episode[row])]
            ahead = np.arange(row, row + chunk)
            out.states.append(torch.from_numpy(state[np.clip(np.arange(row - history + 1, row + 1), first, last)]))
            out.actions.append(torch.from_numpy(action[np.clip(ahead, first, last)]))
            out.pads.append(torch.from_numpy(ahead > last))
            out.hands.append(hand)
            out.tasks.append(task_names[int(task_index[row])])
        out.frames_per_episode = max(out.frames_per_episode, max(b - a + 1 for a, b in bounds.values()))
        if images:
            for row in range(len(episode)):
                item = dataset.hf_dataset[row]
                out.images.append(torch.cat([_chw(item[key]) for key in IMAGE_KEYS], dim=-1))
    if not out.states:
        raise DataFormatError("the datasets hold no frames")
    out.environment = torch.cat(environments)
    return out


def _chw(image: object) -> torch.Tensor:
    """A stored image (a PIL image, or a tensor already in (3, H, W)) as uint8 (3, H, W).

    Kept as stored: the policy's training converts each batch (:func:`~xlsdk.policy.train.image_batch`),
    so the frames of a whole benchmark fit in a quarter of the memory float32 would take.
    """
    if isinstance(image, torch.Tensor):
        if image.dtype == torch.uint8:
            return image
        return (image.float() * 255.0).round().clamp(0, 255).to(torch.uint8)  # LeRobot's [0, 1] floats
    return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1).contiguous()
