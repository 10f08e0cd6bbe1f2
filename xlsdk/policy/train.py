"""``xlsdk policy train``: one XL-VLA policy from LeRobot datasets of several hands.

Each dataset is read with LeRobot (delta timestamps give the state history and the action chunk),
its joints go through the chosen action space (each hand's frozen head for ``latent``; per-hand scaling
and padding for ``raw``), and one network trains on all hands at once. The result is a regular LeRobot
policy directory (``config.json`` + ``model.safetensors``) plus ``xlsdk_policy.json`` recording the
action space, hands and tasks it saw. Weights are safetensors only.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from lerobot.configs.types import FeatureType, PolicyFeature
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.errors import DataFormatError, PolicyError, validation_problems
from xlsdk.files import write_json_atomic
from xlsdk.hand import Hand
from xlsdk.policy.action_space import ActionSpace, space_of
from xlsdk.policy.configuration_xlvla import XlvlaConfig
from xlsdk.progress import step_progress
from xlsdk.training import (clip_gradients, cosine_schedule, generator, global_rng_untouched, init_parameters,
                             resolve_device)

METADATA = "xlsdk_policy.json"


class PolicyMetadata(BaseModel):
    """What xlsdk records next to a policy: how to feed it and which hands it has seen."""

    model_config = ConfigDict(frozen=True)
    action_space: Literal["latent", "raw"]
    hands: list[str]
    tasks: list[str]
    image_key: str
    fps: float = Field(gt=0, allow_inf_nan=False)
    frames: int = Field(ge=1)
    steps: int = Field(ge=0)
    final_loss: float
    seconds: float = Field(ge=0)


@dataclass
class TrainingSet:
    #: (N, 3, S, S), float in [0, 1] or uint8 in [0, 255] (a frame a quarter the size: :func:`image_batch`
    #: converts the rows of each batch); None for a policy without a camera
    images: torch.Tensor | None
    tasks: list[str]
    states: torch.Tensor  # (N, history, A)
    actions: torch.Tensor  # (N, chunk, A)
    pads: torch.Tensor  # (N, chunk) bool
    hands: list[str]
    fps: float
    frames_per_episode: int
    environment: torch.Tensor | None = None  # (N, E): observation.environment_state, when the policy reads it
    image_key: str = "observation.images.scene"
    action_mask: torch.Tensor | None = None  # (N, A) bool: False where a hand has nothing (left out of the loss)

    def __len__(self) -> int:
        return self.states.shape[0]

    def check_finite(self) -> None:
        """Refuse non-finite numbers before they reach the optimiser (they would turn every weight to NaN)."""
        for name, values in (("observation.state", self.states), ("action", self.actions),
                             ("observation.environment_state", self.environment)):
            if values is None:
                continue
            bad = ~torch.isfinite(values.reshape(values.shape[0], -1)).all(dim=-1)
            if bool(bad.any()):
                row = int(bad.nonzero()[0, 0])
                raise DataFormatError(f"training data: {name} of frame {row} (hand {self.hands[row]!r}, task "
                                      f"{self.tasks[row]!r}) holds a non-finite value; {int(bad.sum())} frames do",
                                      hint="fix or drop those episodes before training")


@dataclass
class DemoFrames:
    """Frames read from LeRobot datasets once, still in each hand's joint space (dof differs per hand)."""

    images: list[torch.Tensor] | None  # (3, S, S) each; None when the policy sees no camera
    tasks: list[str]
    hands: list[str]
    states: list[torch.Tensor]  # (history, dof) each
    actions: list[torch.Tensor]  # (chunk, dof) each
    pads: list[torch.Tensor]
    fps: float
    frames_per_episode: int
    environment: torch.Tensor | None = None  # (N, E) observation.environment_state, when the data has it
    image_key: str = "observation.images.scene"


def dataset_hand_names(roots: list[Path]) -> list[str]:
    """Each local LeRobot dataset's ``robot_type``: the hand whose joints it holds, one name per dataset.

    The training functions take Hands; a caller that starts from datasets (``xlsdk policy train``) reads
    the names here, loads the hands (``xlsdk.load_hand``) and passes them in. Read from
    ``meta/info.json`` without LeRobot, so a bad path fails before anything heavy is imported.
    """
    from xlsdk.trajectories import is_lerobot_dataset

    names = []
    for root in roots:
        if not is_lerobot_dataset(Path(root)):  # LeRobot would go looking for it on the Hugging Face hub
            raise DataFormatError(f"{root}: not a local LeRobot dataset (no meta/info.json)",
                                  hint="write one with `xlsdk policy make-dataset`")
        try:
            robot_type = json.loads((Path(root) / "meta" / "info.json").read_text(encoding="utf-8")).get("robot_type")
        except (OSError, ValueError) as exc:
            raise DataFormatError(f"{root}: meta/info.json cannot be read ({exc})") from None
        if not isinstance(robot_type, str) or not robot_type:
            raise DataFormatError(f"{root}: meta/info.json names no robot_type (the hand its joints belong to)",
                                  hint="write the dataset with `xlsdk policy make-dataset`")
        names.append(robot_type)
    return names


def _hand_of(hands: Mapping[str, Hand], name: str, where: str) -> Hand:
    """``hands[name]``, or an error saying which hand the caller did not pass."""
    if name not in hands:
        given = ", ".join(sorted(hands)) or "none"
        raise DataFormatError(f"{where}: hand {name!r} is not among the hands given ({given})",
                              hint="load it with xlsdk.load_hand (policy.train.dataset_hand_names lists a "
                                   "dataset's) and pass it in `hands`")
    return hands[name]


def read_demo_frames(roots: list[Path], config: XlvlaConfig, hands: Mapping[str, Hand]) -> DemoFrames:
    """Every frame of every dataset with its state history and action chunk (LeRobot delta timestamps).

    ``hands`` maps each dataset's ``robot_type`` to its Hand (:func:`dataset_hand_names`): the library
    takes Hands; turning names into them is the caller's.
    """
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    from xlsdk.trajectories import is_lerobot_dataset

    frames = DemoFrames([], [], [], [], [], [], 0.0, 0)
    for root in roots:
        if not is_lerobot_dataset(Path(root)):  # LeRobot would go looking for it on the Hugging Face hub
            raise DataFormatError(f"{root}: not a local LeRobot dataset (no meta/info.json)",
                                  hint="write one with `xlsdk policy make-dataset`")
        probe = LeRobotDataset(repo_id=root.name, root=root)
        fps = float(probe.fps)
        hand_name = probe.meta.robot_type
        hand = _hand_of(hands, hand_name, f"{root}: robot_type")
        if tuple(probe.meta.features["action"]["shape"]) != (config.wrist_dim + hand.dof,):
            raise DataFormatError(f"{root}: action has shape {tuple(probe.meta.features['action']['shape'])}, "
                                  f"hand {hand_name!r} has {hand.dof} joints"
                                  + (f" after a {config.wrist_dim}-d wrist command" if config.wrist_dim else ""))
        image_keys = [key for key in probe.meta.features if key.startswith("observation.images.")]
        if not image_keys:
            raise DataFormatError(f"{root}: no camera feature (observation.images.*)")
        deltas = {"observation.state": [i / fps for i in config.observation_delta_indices],
                  "action": [i / fps for i in config.action_delta_indices]}
        dataset = LeRobotDataset(repo_id=root.name, root=root, delta_timestamps=deltas)
        refuse_non_finite_frames(root, probe.hf_dataset)
        frames.fps = fps
        frames.frames_per_episode = int(probe.meta.total_frames // max(probe.meta.total_episodes, 1))
        for index in range(len(dataset)):
            item = dataset[index]
            frames.images.append(item[image_keys[0]].float())
            frames.tasks.append(item["task"])
            frames.hands.append(hand_name)
            frames.states.append(item["observation.state"].float())
            frames.actions.append(item["action"].float())
            frames.pads.append(item["action_is_pad"].bool())
    if not frames.images:
        raise DataFormatError("the datasets hold no frames")
    return frames


FINITE_FEATURES = ("observation.state", "action", "observation.environment_state")


def refuse_non_finite_frames(root: Path, table: Any) -> None:
    """Name the first episode/frame/feature of a dataset holding NaN or inf, before any training.

    Checked on the stored rows rather than on the chunks read through delta timestamps: a bad frame
    shows up in the chunks of the frames before it, and the user needs the frame that holds it.
    """
    features = [name for name in FINITE_FEATURES if name in table.column_names]
    rows = table.select_columns([*features, "episode_index", "frame_index"]).with_format("torch")[:]
    for name in features:
        values = rows[name].reshape(len(rows["episode_index"]), -1).float()
        bad = ~torch.isfinite(values).all(dim=-1)
        if bool(bad.any()):
            first = int(bad.nonzero()[0, 0])
            column = int((~torch.isfinite(values[first])).nonzero()[0, 0])
            raise DataFormatError(f"{root}: {name}[{column}] of episode {int(rows['episode_index'][first])}, "
                                  f"frame {int(rows['frame_index'][first])} is {float(values[first, column])} "
                                  f"({int(bad.sum())} frames hold a non-finite {name})",
                                  hint="fix or drop those episodes before training")


def to_training_set(frames: DemoFrames, space: ActionSpace, *, hands: Mapping[str, Hand],
                    keep: list[bool] | None = None) -> TrainingSet:
    """The frames (those ``keep`` marks) in ``space``: each hand's joints encoded in one batch per hand.

    ``hands`` maps every hand name in ``frames.hands`` to its Hand (the caller loaded them).
    """
    rows = [i for i in range(len(frames.states)) if keep is None or keep[i]]
    if not rows:
        raise DataFormatError("no training frames left (everything excluded)")
    states: dict[int, torch.Tensor] = {}
    actions: dict[int, torch.Tensor] = {}
    for hand_name in sorted({frames.hands[i] for i in rows}):
        hand = _hand_of(hands, hand_name, "training frames")
        mine = [i for i in rows if frames.hands[i] == hand_name]
        encoded_states = space.encode(hand, torch.stack([frames.states[i] for i in mine]))
        encoded_actions = space.encode(hand, torch.stack([frames.actions[i] for i in mine]))
        for position, i in enumerate(mine):
            states[i], actions[i] = encoded_states[position], encoded_actions[position]
    masks = None
    masker = getattr(space, "mask", None)  # a space whose entries a hand may leave empty (joint slots)
    if masker is not None:
        by_hand = {name: masker(hands[name]) for name in {frames.hands[i] for i in rows}}
        if all(mask is not None for mask in by_hand.values()):
            masks = torch.stack([by_hand[frames.hands[i]] for i in rows])
    return TrainingSet(images=torch.stack([frames.images[i] for i in rows]) if frames.images is not None else None,
                       tasks=[frames.tasks[i] for i in rows],
                       states=torch.stack([states[i] for i in rows]), actions=torch.stack([actions[i] for i in rows]),
                       pads=torch.stack([frames.pads[i] for i in rows]), hands=[frames.hands[i] for i in rows],
                       fps=frames.fps, frames_per_episode=frames.frames_per_episode,
                       environment=frames.environment[rows] if frames.environment is not None else None,
                       image_key=frames.image_key, action_mask=masks)


def image_batch(images: torch.Tensor) -> torch.Tensor:
    """A batch of training images as the policy takes them: float in [0, 1].

    Demonstration sets keep their frames as stored (uint8), because tens of thousands of two-camera
    frames held as float32 cost four times the memory (13.6 GB for the physics benchmark's vision
    data); only the rows of one batch are converted.
    """
    return images.float() / 255.0 if images.dtype == torch.uint8 else images


def widest_hand(hands: Iterable[Hand]) -> int:
    """The largest DOF among ``hands``: the width a raw-joint policy pads every hand to."""
    return max(hand.dof for hand in hands)


def make_config(space_name: str, *, image_size: int = 48, **overrides: Any) -> XlvlaConfig:
    """A policy config with its input/output features (a raw one needs ``raw_dim``)."""
    config = XlvlaConfig(action_space=space_name, image_size=image_size, **overrides)
    config.input_features = {
        "observation.images.scene": PolicyFeature(type=FeatureType.VISUAL, shape=(3, image_size, image_size)),
        "observation.state": PolicyFeature(type=FeatureType.STATE, shape=(config.action_dim,)),
    }
    config.output_features = {"action": PolicyFeature(type=FeatureType.ACTION, shape=(config.action_dim,))}
    return config


def train_policy(data: TrainingSet, config: XlvlaConfig, *, steps: int, batch_size: int = 64, seed: int = 0,
                 progress: bool = True, device: str = "auto", snapshot_steps: tuple[int, ...] = (),
                 on_snapshot: Any = None) -> tuple[Any, list[float], float]:
    """Train an XlvlaPolicy on ``data``; returns (the policy on the CPU, per-step losses, seconds).

    The model's normalisation statistics come from ``data`` before the first step. After each step
    number in ``snapshot_steps`` (1-based), ``on_snapshot(step, state_dict)`` receives a CPU copy of the
    weights, so a caller can choose the checkpoint by rollouts rather than by the loss. Non-finite
    data is refused before training, and a non-finite loss stops it with an error.

    The loop runs through accelerate, LeRobot's own training engine, so the same code trains on the CPU,
    on one GPU (``device="auto"`` picks it when present) and, started with ``accelerate launch -m xlsdk
    policy train ...``, on several GPUs: each process draws its own batches (seed + process index) and
    gradients are averaged. ``batch_size`` is per process.
    """
    from accelerate import Accelerator

    from xlsdk.policy.modeling_xlvla import XlvlaPolicy

    accelerator = Accelerator(cpu=_wants_cpu(device))
    data.check_finite()
    with global_rng_untouched():
        policy = XlvlaPolicy(config)
    init_parameters([policy], generator(seed))  # the same weights in every process, the global RNG untouched
    policy.model.set_statistics(data.states, data.actions, data.environment)
    policy.train()
    # foreach: the same arithmetic as the per-tensor loop (bit for bit, measured), in fewer calls: 3 % of a step
    optimizer = torch.optim.AdamW(policy.parameters(), lr=config.optimizer_lr, weight_decay=config.optimizer_weight_decay,
                                  foreach=True)
    policy, optimizer = accelerator.prepare(policy, optimizer)
    # stepped here once per optimisation step (not handed to accelerate, which would step it once per process)
    schedule = cosine_schedule(optimizer, steps)
    batches = generator(seed + accelerator.process_index)
    losses: list[float] = []
    started = time.perf_counter()
    with step_progress(f"policy train ({config.action_space})", steps,
                       enabled=progress and accelerator.is_main_process) as bar:
        for step in range(steps):
            rows = torch.randint(0, len(data), (batch_size,), generator=batches)
            batch = {"task": [data.tasks[i] for i in rows.tolist()], "observation.state": data.states[rows],
                     "action": data.actions[rows], "action_is_pad": data.pads[rows]}
            if data.images is not None:
                batch[data.image_key] = image_batch(data.images[rows])
            if data.environment is not None:
                batch["observation.environment_state"] = data.environment[rows]
            if data.action_mask is not None:
                batch["action_mask"] = data.action_mask[rows]
            batch = {key: value.to(accelerator.device) if isinstance(value, torch.Tensor) else value
                     for key, value in batch.items()}
            loss, _ = policy(batch)
            optimizer.zero_grad(set_to_none=True)
            accelerator.backward(loss)
            clip_gradients(policy.parameters(), accelerator=accelerator)
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
            if not torch.isfinite(loss.detach()):
                raise PolicyError(f"training diverged: the loss is {losses[-1]} at step {step + 1}",
                                  hint="lower the learning rate, or check the data for outliers")
            if step + 1 in snapshot_steps and on_snapshot is not None:
                on_snapshot(step + 1, {k: v.detach().to("cpu").clone()
                                       for k, v in accelerator.unwrap_model(policy).state_dict().items()})
            if step % 25 == 0 or step == steps - 1:
                bar.update(step + 1, loss=losses[-1])
    policy = accelerator.unwrap_model(policy).to("cpu")
    policy.eval()
    return policy, losses, time.perf_counter() - started


def _wants_cpu(device: str) -> bool:
    """``auto`` | ``cpu`` | ``cuda`` -> whether accelerate must stay on the CPU; a missing GPU is an error."""
    if device not in ("auto", "cpu", "cuda"):
        raise PolicyError(f"training device must be auto, cpu or cuda, got {device!r}")
    resolve_device(device)  # an explicit cuda without one raises, with the fix
    return device == "cpu"

def save_policy(policy: Any, out: Path, metadata: PolicyMetadata) -> Path:
    """``config.json`` + ``model.safetensors`` (LeRobot's layout) and ``xlsdk_policy.json``."""
    out.mkdir(parents=True, exist_ok=True)
    policy.save_pretrained(out)
    write_json_atomic(out / METADATA, metadata.model_dump())
    return out


def check_policy_files(path: Path) -> None:
    """Refuse a policy directory LeRobot would fail on with a traceback, before it is asked to load it.

    ``config.json`` must be a JSON object and ``model.safetensors`` a safetensors file (only its header is
    read). Pickled weights (``pytorch_model.bin``, or a pickle under the safetensors name) are refused,
    never unpickled: unpickling a file from someone else runs their code.
    """
    from safetensors import SafetensorError, safe_open

    config = path / "config.json"
    try:
        parsed = json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFormatError(f"{config}: missing", hint="a policy directory from `xlsdk policy train` has one") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataFormatError(f"{config}: not valid JSON ({exc})",
                              hint="the file is damaged or truncated: restore it from the training run") from None
    if not isinstance(parsed, dict):
        raise DataFormatError(f"{config}: not a JSON object", hint="restore it from the training run")
    weights = path / "model.safetensors"
    if not weights.is_file():
        pickled = [name for name in ("pytorch_model.bin", "model.bin", "model.pt", "model.pth") if (path / name).exists()]
        raise DataFormatError(f"{weights}: missing" + (f" ({pickled[0]} is a pickle, which xlsdk never loads)"
                                                       if pickled else ""),
                              hint="policies are loaded from safetensors only: retrain with `xlsdk policy train`")
    try:
        with safe_open(str(weights), framework="pt"):
            pass
    except (OSError, SafetensorError) as exc:
        raise DataFormatError(f"{weights}: not a safetensors file ({exc})",
                              hint="a pickle under this name is refused, never unpickled: retrain with "
                                   "`xlsdk policy train` or restore the file") from None


def load_policy(path: Path) -> tuple[Any, PolicyMetadata]:
    from xlsdk.policy.modeling_xlvla import XlvlaPolicy

    path = Path(path)
    if not (path / METADATA).is_file():
        raise DataFormatError(f"{path}: not an xlsdk policy directory ({METADATA} missing)",
                              hint="train one with `xlsdk policy train`")
    try:
        metadata = PolicyMetadata.model_validate_json((path / METADATA).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        problem = "; ".join(validation_problems(exc, limit=3))
        raise DataFormatError(f"{path / METADATA}: not a valid xlsdk policy record ({problem})",
                              hint="retrain the policy, or restore the file from the training run") from None
    check_policy_files(path)
    with contextlib.redirect_stdout(sys.stderr):  # LeRobot prints progress; stdout is for --json output
        policy = XlvlaPolicy.from_pretrained(str(path))
    policy.eval()
    return policy, metadata


def train_from_datasets(roots: list[Path], out: Path, *, hands: Mapping[str, Hand], space_name: str = "latent",
                        steps: int = 1500, batch_size: int = 64, seed: int = 0, progress: bool = True,
                        device: str = "auto") -> tuple[PolicyMetadata, list[float]]:
    """The library behind ``xlsdk policy train``; under ``accelerate launch`` only the main process saves.

    ``hands`` maps each dataset's ``robot_type`` to its Hand (:func:`dataset_hand_names` reads them).
    """
    from accelerate import PartialState

    _wants_cpu(device)  # a bad device fails before the datasets are read
    frames = read_demo_frames(roots, XlvlaConfig(action_space=space_name), hands)
    seen = [_hand_of(hands, name, "training frames") for name in sorted(set(frames.hands))]
    config = make_config(space_name, raw_dim=widest_hand(seen) if space_name == "raw" else None)
    data = to_training_set(frames, space_of(config), hands=hands)
    policy, losses, seconds = train_policy(data, config, steps=steps, batch_size=batch_size, seed=seed,
                                           progress=progress, device=device)
    metadata = PolicyMetadata(action_space=space_name, hands=sorted(set(data.hands)), tasks=sorted(set(data.tasks)),
                              image_key="observation.images.scene", fps=data.fps, frames=data.frames_per_episode,
                              steps=steps, final_loss=float(sum(losses[-20:]) / min(20, len(losses))),
                              seconds=round(seconds, 2))
    if PartialState().is_main_process:
        save_policy(policy, out, metadata)
    return metadata, losses
