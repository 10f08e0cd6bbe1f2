"""The MuJoCo world, compiled and running: what drivers, environments and tasks read and command.

:class:`World` compiles the spec :func:`~xlsdk.physics.world_spec.build_spec` composes (table, wrist, hand,
objects, cameras; the frames are described there) and wraps it: joint and wrist targets, stepping,
fingertips, object state and contacts, camera images (:mod:`xlsdk.physics.rendering`).
"""

from __future__ import annotations

from functools import cached_property

import mujoco
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.errors import PhysicsError
from xlsdk.hand import Hand
from xlsdk.physics.hand_model import PREFIX
from xlsdk.physics.rendering import Renderer
from xlsdk.physics.scene import Scene
from xlsdk.physics.world_spec import WRIST_JOINTS, PhysicsConfig, build_spec, wrist_rotation
from xlsdk.transforms import rpy_matrix


class ObjectState(BaseModel):
    """What a task reads of an object."""

    model_config = ConfigDict(frozen=True)
    name: str
    kind: str
    pos: tuple[float, float, float]
    quat: tuple[float, float, float, float]
    lifted: float = Field(description="height gained since reset [m]")
    hand_contacts: int = Field(description="contacts between the hand and this object now")
    table_contact: bool
    button_travel: float | None = Field(None, description="how far a button's cap is pressed [m]")
    upright: float = Field(description="cosine between the object's axis and world up")


class World:
    """A compiled world with its state. Not thread-safe: one driver or environment owns it.

    ``step(seconds)`` advances physics with the current targets; ``reset`` puts the wrist, the hand
    and every object back (optionally at a given wrist pose and hand pose).
    """

    def __init__(self, hand: Hand, scene: Scene | None = None, config: PhysicsConfig | None = None) -> None:
        self.hand = hand
        self.scene = scene or Scene()
        self.config = config or PhysicsConfig()
        self.spec = build_spec(hand, self.scene, self.config)
        try:
            self.model = self.spec.compile()
        except ValueError as exc:  # MuJoCo's compiler errors name the element
            raise PhysicsError(f"hand {hand.name!r}: MuJoCo could not compile its world: {exc}",
                               hint="check the URDF's inertials and joint limits (`xlsdk check HAND`)") from None
        self.data = mujoco.MjData(self.model)
        model = self.model
        self._hand_joint_ids = [model.joint(PREFIX + name).id for name in hand.joint_names]
        self._hand_qpos = np.array([model.jnt_qposadr[i] for i in self._hand_joint_ids])
        self._hand_qvel = np.array([model.jnt_dofadr[i] for i in self._hand_joint_ids])
        self._hand_ctrl = np.array([model.actuator(PREFIX + name).id for name in hand.joint_names])
        self._wrist_qpos = np.array([model.jnt_qposadr[model.joint(f"wrist/{n}").id] for n in WRIST_JOINTS])
        self._wrist_ctrl = np.array([model.actuator(f"wrist/{n}").id for n in WRIST_JOINTS])
        self._mimic = [(model.jnt_qposadr[model.joint(PREFIX + name).id],
                        model.jnt_qposadr[model.joint(PREFIX + term.source).id], term.multiplier, term.offset)
                       for name, term in hand.spec.mimic.items() if hand.spec.urdf.joint(name).type != "fixed"]
        self._tip_sites = [model.site(f"tip_{finger}").id for finger in hand.fingers]
        self._palm_site = model.site("palm").id
        hand_bodies = [i for i in range(model.nbody) if model.body(i).name.startswith(PREFIX)]
        self._hand_body_set = frozenset(hand_bodies)
        self._renderers: dict[tuple[int, int], Renderer] = {}
        self._start_pos: dict[str, np.ndarray] = {}
        self.reset()

    # --- state ------------------------------------------------------------------------------------

    @property
    def time(self) -> float:
        return float(self.data.time)

    @property
    def wrist_lower(self) -> np.ndarray:
        return np.array(self.config.workspace.lower)

    @property
    def wrist_upper(self) -> np.ndarray:
        return np.array(self.config.workspace.upper)

    def reset(self, wrist: np.ndarray | None = None, q: np.ndarray | None = None) -> None:
        """Everything back to the scene: wrist at ``wrist`` (default :meth:`home_wrist`), hand at ``q``."""
        mujoco.mj_resetData(self.model, self.data)
        wrist = self.home_wrist() if wrist is None else np.asarray(wrist, dtype=np.float64)
        q = self.hand.zero_pose() if q is None else np.asarray(q, dtype=np.float64)
        self.set_hand_qpos(q)
        self.data.qpos[self._wrist_qpos] = np.clip(wrist, self.wrist_lower, self.wrist_upper)
        self.data.ctrl[self._hand_ctrl] = q
        self.data.ctrl[self._wrist_ctrl] = self.data.qpos[self._wrist_qpos]
        mujoco.mj_forward(self.model, self.data)
        self.reset_object_origins()

    def reset_object_origins(self) -> None:
        """Measure ``ObjectState.lifted`` from where the objects are now (after moving them by hand)."""
        self._start_pos = {item.name: self._body_pos(item.name) for item in self.scene.objects}

    def home_wrist(self) -> np.ndarray:
        """Palm 25 cm above the table centre, facing down, fingers along +X, a little behind the centre."""
        return np.array([-0.08, 0.0, 0.25, 0.0, 0.0, 0.0])

    def set_hand_qpos(self, q: np.ndarray) -> None:
        """Teleport the hand's joints (mimic joints follow their couplings); call :meth:`forward` after."""
        self.data.qpos[self._hand_qpos] = q
        for mimic, source, multiplier, offset in self._mimic:
            self.data.qpos[mimic] = multiplier * self.data.qpos[source] + offset
        self.data.qvel[self._hand_qvel] = 0.0

    def forward(self) -> None:
        mujoco.mj_forward(self.model, self.data)

    def set_hand_target(self, q: np.ndarray) -> None:
        """Position targets of the actuated joints (command order); MuJoCo clamps to ``ctrlrange``."""
        self.data.ctrl[self._hand_ctrl] = np.asarray(q, dtype=np.float64)

    def set_wrist_target(self, pose: np.ndarray) -> None:
        """Target ``(x, y, z, roll, pitch, yaw)`` of the palm frame (see the module docstring)."""
        self.data.ctrl[self._wrist_ctrl] = np.asarray(pose, dtype=np.float64)

    def hand_target(self) -> np.ndarray:
        return self.data.ctrl[self._hand_ctrl].copy()

    def wrist_target(self) -> np.ndarray:
        return self.data.ctrl[self._wrist_ctrl].copy()

    def step(self, seconds: float | None = None, *, steps: int | None = None) -> None:
        """Advance by ``seconds`` (rounded to whole physics steps) or by ``steps`` steps."""
        count = steps if steps is not None else max(1, round((seconds or 0.0) / self.model.opt.timestep))
        mujoco.mj_step(self.model, self.data, nstep=count)
        if not np.all(np.isfinite(self.data.qpos)):
            raise PhysicsError(f"hand {self.hand.name!r}: the simulation diverged (non-finite state)",
                               hint="lower the actuator effort or the timestep (PhysicsConfig.timestep)")

    def hand_positions(self) -> np.ndarray:
        return self.data.qpos[self._hand_qpos].copy()

    def hand_velocities(self) -> np.ndarray:
        return self.data.qvel[self._hand_qvel].copy()

    def hand_forces(self) -> np.ndarray:
        return self.data.actuator_force[self._hand_ctrl].copy()

    def wrist_positions(self) -> np.ndarray:
        return self.data.qpos[self._wrist_qpos].copy()

    def palm_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """World position and rotation matrix of the xlsdk palm frame."""
        return self.data.site_xpos[self._palm_site].copy(), self.data.site_xmat[self._palm_site].reshape(3, 3).copy()

    def fingertips(self, frame: str = "palm") -> np.ndarray:
        """Fingertip sites ``(F, 3)`` in canonical order, in the palm frame (as ``Hand.fk``) or the world."""
        tips = self.data.site_xpos[self._tip_sites].copy()
        if frame == "world":
            return tips
        origin, rotation = self.palm_pose()
        return (tips - origin) @ rotation

    def palm_to_world(self, points: np.ndarray, wrist: np.ndarray) -> np.ndarray:
        """Where palm-frame ``points`` (N, 3) land in the world when the wrist is at ``wrist``."""
        rotation = wrist_rotation(wrist)
        return np.asarray(points) @ rotation.T + np.asarray(wrist[:3])

    def object_names(self) -> list[str]:
        return [item.name for item in self.scene.objects]

    def _body_pos(self, name: str) -> np.ndarray:
        return self.data.xpos[self.model.body(name).id].copy()

    def object_state(self, name: str) -> ObjectState:
        item = self.scene.get(name)
        body = self.model.body(name).id
        pos = self.data.xpos[body].copy()
        quat = self.data.xquat[body].copy()
        travel = None
        if item.kind == "button":
            joint = self.model.joint(f"{name}/press")
            travel = float(self.data.qpos[self.model.jnt_qposadr[joint.id]])
            body = self.model.body(f"{name}/cap").id
        axis = self.data.xmat[body].reshape(3, 3)[:, 2]
        hand_contacts, table = 0, False
        table_geom = self.model.geom("table").id
        for contact in self.data.contact[: self.data.ncon]:
            bodies = {int(self.model.geom_bodyid[contact.geom1]), int(self.model.geom_bodyid[contact.geom2])}
            if body not in bodies:
                continue
            other = (bodies - {body}) or {body}
            if other & self._hand_body_set:
                hand_contacts += 1
            if table_geom in (contact.geom1, contact.geom2):
                table = True
        return ObjectState(name=name, kind=item.kind, pos=tuple(map(float, pos)), quat=tuple(map(float, quat)),
                           lifted=float(pos[2] - self._start_pos[name][2]), hand_contacts=hand_contacts,
                           table_contact=table, button_travel=travel, upright=float(abs(axis[2])))

    def hand_penetration(self, name: str) -> float:
        """Deepest overlap between the hand and object ``name`` now (metres, 0 when apart)."""
        body = self.model.body(name).id
        deepest = 0.0
        for contact in self.data.contact[: self.data.ncon]:
            bodies = {int(self.model.geom_bodyid[contact.geom1]), int(self.model.geom_bodyid[contact.geom2])}
            if body in bodies and bodies & self._hand_body_set:
                deepest = max(deepest, -float(contact.dist))
        return deepest

    def hand_contact_forces(self, name: str) -> list[tuple[str, float, float]]:
        """``(hand link, normal force N, penetration m)`` of every contact between the hand and object ``name``.

        What a failed grasp is diagnosed from: which links carry the object and how hard they press
        (a grip whose friction ``sum(mu * normal)`` is below the object's weight cannot lift it).
        """
        body = self.model.body(name).id
        wrench = np.zeros(6)
        found: list[tuple[str, float, float]] = []
        for index, contact in enumerate(self.data.contact[: self.data.ncon]):
            bodies = (int(self.model.geom_bodyid[contact.geom1]), int(self.model.geom_bodyid[contact.geom2]))
            if body not in bodies:
                continue
            other = bodies[1] if bodies[0] == body else bodies[0]
            if other not in self._hand_body_set:
                continue
            mujoco.mj_contactForce(self.model, self.data, index, wrench)
            found.append((self.model.body(other).name.removeprefix(PREFIX), float(abs(wrench[0])),
                          max(0.0, -float(contact.dist))))
        return found

    def inside(self, name: str, container: str) -> bool:
        """Whether object ``name``'s centre is inside bin ``container`` (within its walls, below its rim)."""
        box = self.scene.get(container)
        width, depth, height = box.dims
        local = (self._body_pos(name) - np.asarray(box.pos)) @ rpy_matrix((0.0, 0.0, box.yaw))
        return bool(abs(local[0]) < width and abs(local[1]) < depth and -0.01 < local[2] < height)

    # --- images -------------------------------------------------------------------------------------

    def render(self, camera: str = "front", size: int | tuple[int, int] | None = None) -> np.ndarray:
        """An RGB image ``(H, W, 3)`` uint8 from ``camera`` (``front``, ``grasp``, ``top`` or ``wrist``)."""
        width, height = (size, size) if isinstance(size, int) else (size or (self.config.image_size,) * 2)
        if width > self.config.image_size or height > self.config.image_size:
            raise PhysicsError(f"image {width}x{height} is larger than this world allows "
                               f"(PhysicsConfig.image_size={self.config.image_size}); raise it")
        renderer = self._renderers.get((width, height))
        if renderer is None:
            renderer = Renderer(self.model, width, height)
            self._renderers[(width, height)] = renderer
        return renderer.render(self.data, camera)

    @cached_property
    def cameras(self) -> list[str]:
        return [self.model.camera(i).name for i in range(self.model.ncam)]

    def close(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()

    def to_xml(self) -> str:
        """The generated MJCF of this world."""
        return self.spec.to_xml()
