"""What a controller sees at one control step: proprioception, the objects' state, and (on demand) images.

Two observation modes share this one record (the issue's ``--obs state`` and ``--obs vision``):

* ``state``: the measured wrist pose and hand joints (:attr:`Observation.state`) and a privileged,
  low-dimensional description of the scene (:attr:`Observation.objects`, :data:`OBJECT_FEATURES`): where
  the named object, its goal and the other loose object are *relative to the wrist*, the object's yaw,
  size, height gained, uprightness and the button's travel. It isolates the action-space question (latent vs raw vs slots)
  from vision, and it is what the scripted expert reads too, so the expert can label any state a
  policy reaches.
* ``vision``: the same, plus rendered cameras; the policy is given images instead of ``objects``.

Positions are relative to the wrist because a policy has to act on "how far is the object from my hand",
and the same relative feature makes a scene 5 cm to the left look like one the policy has seen.

Every observation also carries where the object is relative to the thumb tip and the index tip
(:data:`TIP_FEATURES`, after the wrist-relative ones): how far the wrist must go to put *this* hand's
fingers on the object depends on its fingers' length, which a policy that never saw the hand cannot read
from the wrist-relative position alone. The datasets store them always; which width a policy reads is
the benchmark's ``--scene`` choice (:data:`SCENE_WIDTHS`, applied when the frames are read), so the two are
compared on the same demonstrations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from xlsdk.bench.physics.tasks import TaskScene
from xlsdk.physics.world import World
from xlsdk.transforms import quaternion_yaw

OBJECT_FEATURES = ("target.dx", "target.dy", "target.dz", "target.yaw", "target.upright", "target.lifted",
                   "target.size0", "target.size1", "target.size2", "goal.dx", "goal.dy", "goal.dz",
                   "button.travel", "other.dx", "other.dy", "other.dz")
#: the other loose object (pinch and power lift's distractor) relative to the wrist, zeros where the scene has
#: none: the expert turns its grasp to keep the hand's close clear of it, and a policy that cannot see it
#: cannot tell which turn the demonstrations took
#: the target's centre minus the thumb tip and minus the index tip (world axes); a hand without one of
#: them uses the centroid of its fingertips in its place
TIP_FEATURES = ("target.from_thumb.dx", "target.from_thumb.dy", "target.from_thumb.dz",
                "target.from_index.dx", "target.from_index.dy", "target.from_index.dz")
#: what a state policy may read of the scene: the leading entries of :data:`SCENE_FEATURES`
SCENE_WIDTHS = {"wrist": len(OBJECT_FEATURES), "wrist+tips": len(OBJECT_FEATURES) + len(TIP_FEATURES)}
#: everything an observation (and a dataset's ``observation.environment_state``) carries
SCENE_FEATURES = OBJECT_FEATURES + TIP_FEATURES
OBJECT_DIM = len(SCENE_FEATURES)


@dataclass
class Observation:
    """One control step's view: ``state`` = wrist pose (6) + hand joints; ``objects`` = :data:`SCENE_FEATURES`."""

    state: np.ndarray
    objects: np.ndarray
    image: Callable[[str], np.ndarray]
    #: the hand links touching the target now (what the expert's contact-aware closing reads; not a policy input)
    touching: tuple[str, ...] = ()

    @property
    def wrist(self) -> np.ndarray:
        return self.state[:6]

    @property
    def joints(self) -> np.ndarray:
        return self.state[6:]

    @property
    def target_pos(self) -> np.ndarray:
        """The named object's centre in world coordinates (from its offset to the wrist)."""
        return self.wrist[:3] + self.objects[0:3]

    @property
    def goal_pos(self) -> np.ndarray:
        return self.wrist[:3] + self.objects[9:12]

    @property
    def target_yaw(self) -> float:
        return float(self.objects[3])

    @property
    def lifted(self) -> float:
        return float(self.objects[5])

    @property
    def travel(self) -> float:
        return float(self.objects[12])


def object_features(world: World, scene: TaskScene) -> np.ndarray:
    """The :data:`SCENE_FEATURES` vector of ``world`` now (float64)."""
    wrist = world.wrist_positions()
    state = world.object_state(scene.target)
    item = scene.scene.get(scene.target)
    sizes = np.zeros(3)
    sizes[: len(item.dims)] = item.dims[:3]
    goal = np.zeros(3)
    if scene.goal:
        goal = np.asarray(scene.scene.get(scene.goal).pos) - wrist[:3]
    tips = world.fingertips("world")
    centroid = tips.mean(axis=0)
    named = dict(zip(world.hand.fingers, tips, strict=True))
    from_thumb = np.asarray(state.pos) - named.get("thumb", centroid)
    from_index = np.asarray(state.pos) - named.get("index", centroid)
    return np.array([*(np.asarray(state.pos) - wrist[:3]), quaternion_yaw(state.quat), state.upright, state.lifted,
                     *sizes, *goal, state.button_travel or 0.0, *_other(world, scene, wrist[:3]),
                     *from_thumb, *from_index], dtype=np.float64)


def _other(world: World, scene: TaskScene, wrist: np.ndarray) -> np.ndarray:
    """The first loose object that is neither the target nor the goal, relative to the wrist (zeros: none)."""
    for item in scene.scene.objects:
        if item.name not in (scene.target, scene.goal) and item.movable:
            return np.asarray(world.object_state(item.name).pos) - wrist
    return np.zeros(3)


def observe(world: World, scene: TaskScene, image_size: int) -> Observation:
    """The observation of ``world`` now; images are rendered only when asked for (and once per camera)."""
    state = np.concatenate([world.wrist_positions(), world.hand_positions()])
    rendered: dict[str, np.ndarray] = {}

    def image(camera: str) -> np.ndarray:
        if camera not in rendered:
            rendered[camera] = world.render(camera, image_size)
        return rendered[camera]

    touching = tuple(sorted({link for link, _, _ in world.hand_contact_forces(scene.target)}))
    return Observation(state=state, objects=object_features(world, scene), image=image, touching=touching)

