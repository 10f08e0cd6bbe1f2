"""The grasp frame: a policy commands where the hand grasps, not where its wrist goes.

The expert puts each grasp's centre on the object, and the centre sits at a different place in each hand's
palm frame: the middle of paxini's wrap is 135 mm out along its fingers, ability's 75 mm (the chosen grasps,
synthesised from the hands' kinematics). In the wrist frame the same scene therefore asks a different wrist
target of every hand, and a policy that learned the wrist targets of inspire, xhand and paxini drives a
held-out hand's fingers past the object (ability lifted nothing in the quick run).

``--frame grasp`` moves the policy's wrist entries to a point fixed in each hand: :func:`grasp_point`, the
mean of the centres of its reference grasps (cube pinch, ball wrap, bottle side wrap, bin cube pinch: the
first of the expert's options per task, each at its task's middle size). It is the wrist pose with its position shifted by the palm-frame point rotated into the world:
the state's wrist, every action's wrist target (each by its own rotation) and the scene features measured from
the wrist (target, goal, the other object; each where present) are shifted into it for training, and a
policy's command is shifted back before the world takes it. The rotation entries are untouched, so a hand
turns as before; only "where" now means "where the grasp is". The point is computed from the hand's model
alone (grasp synthesis needs no demonstration), so a hand the policy never saw has one too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from xlsdk.bench.physics.observation import OBJECT_FEATURES, Observation
from xlsdk.hand import Hand
from xlsdk.physics.world_spec import wrist_rotation

#: the tasks whose expert grasps the object; their grasp centres define a hand's grasp point
GRASP_TASKS = ("pinch_lift", "power_lift", "bottle_upright", "place_in_bin")
#: the scene features that are positions relative to the wrist (each slice x, y, z)
_RELATIVE = tuple(slice(OBJECT_FEATURES.index(f"{name}.dx"), OBJECT_FEATURES.index(f"{name}.dz") + 1)
                  for name in ("target", "goal", "other"))


def reference_requests(tasks: tuple[str, ...] = GRASP_TASKS) -> list[tuple[str, float, dict]]:
    """The grasps a hand's grasp point is measured from: per task of :data:`GRASP_TASKS` in ``tasks``, the first
    of the expert's options for it (:data:`~xlsdk.bench.physics.expert.OPTIONS`) at the middle of the task's
    sizes.

    The first option, not the one the expert's choice picks: the choice is a few physics episodes per option,
    so a new option, or a scene more or less in the choice, could move the point, and the policy's frame with
    it (in expert version 8 the bottle's new grasp from above moved inspire's and ability's points by 3-5 mm,
    and the latent's held-out hand moved from 0.50 to 0.36 in a quick run with nothing else changed). Options
    are appended, never reordered, so the point stays where it was; it is still a property of the hand's
    kinematics alone."""
    from xlsdk.bench.physics.expert import OPTIONS, grasp_requests

    middles = []
    for task in (t for t in GRASP_TASKS if t in tasks):
        requests = grasp_requests(task, OPTIONS[task][0])
        if requests:
            middles.append(requests[len(requests) // 2])
    return middles


def grasp_point(hand: Hand, tasks: tuple[str, ...] = GRASP_TASKS) -> np.ndarray:
    """``hand``'s grasp point (palm frame, metres): the mean centre of its :func:`reference_requests` for
    ``tasks`` (none of :data:`GRASP_TASKS` in them: the wrist itself).

    Uses the grasps this process already knows (a pool hands them over), else synthesises them."""
    from xlsdk.physics import grasps

    centres = [np.asarray(grasps.cached(hand, kind, size, **options).centre, dtype=np.float64)
               for kind, size, options in reference_requests(tasks)]
    return np.mean(centres, axis=0) if centres else np.zeros(3)


def _offsets(wrists: np.ndarray, point: np.ndarray) -> np.ndarray:
    """(N, 3) world offsets from each wrist pose (N, >=6) to the grasp point, in one batch."""
    return wrist_rotation(wrists) @ point


def shift_observation(obs: Observation, point: np.ndarray) -> Observation:
    """``obs`` in the grasp frame: the wrist position moved to the grasp point, the wrist-relative scene
    features measured from it (a feature that is all zeros means "none in this scene" and stays zeros)."""
    offset = wrist_rotation(obs.wrist) @ point
    state, objects = obs.state.copy(), obs.objects.copy()
    state[:3] += offset
    for part in _RELATIVE:
        if objects[part].any():
            objects[part] -= offset
    return replace(obs, state=state, objects=objects)


def unshift_command(command: np.ndarray, point: np.ndarray) -> np.ndarray:
    """A command whose position is the grasp point's target -> the wrist target the world takes."""
    command = np.array(command, dtype=np.float64)
    command[:3] -= wrist_rotation(command[:6]) @ point
    return command


def in_grasp_frame(controller: Any, point: np.ndarray | None) -> Any:
    """``controller`` (trained in the grasp frame) fed shifted observations, its commands shifted back;
    ``point`` None: the controller itself (a wrist-frame policy)."""
    if point is None:
        return controller
    return lambda step, obs: unshift_command(controller(step, shift_observation(obs, point)), point)


def shift_frames(frames: Any, points: Mapping[str, np.ndarray]) -> Any:
    """Demo frames (still in each hand's joint space) in the grasp frame of their hand (``points``)."""
    states, actions = [], []
    environment = frames.environment.clone() if frames.environment is not None else None
    for index, (hand, state, chunk) in enumerate(zip(frames.hands, frames.states, frames.actions, strict=True)):
        point = points[hand]
        state, chunk = state.clone(), chunk.clone()
        state[:, :3] += torch.from_numpy(_offsets(state.numpy().astype(np.float64), point)).to(state.dtype)
        chunk[:, :3] += torch.from_numpy(_offsets(chunk.numpy().astype(np.float64), point)).to(chunk.dtype)
        if environment is not None:
            now = torch.from_numpy(_offsets(frames.states[index][-1:].numpy().astype(np.float64), point)[0])
            for part in _RELATIVE:
                if part.stop <= environment.shape[1] and environment[index, part].any():
                    environment[index, part] -= now.to(environment.dtype)
        states.append(state)
        actions.append(chunk)
    return replace(frames, states=states, actions=actions, environment=environment)
