"""The MuJoCo world: a table, an actuated 6-DoF wrist carrying any installed hand, objects, two cameras.

:func:`build_spec` composes it as an ``MjSpec`` (so the MJCF is generated, never written per hand) and
:class:`World` wraps the compiled model with what drivers, environments and tasks need: joint and
wrist targets, stepping, fingertips, object state and camera images.

Frames: world metres, the table top is ``z = 0``, +X away from the front camera. The wrist pose is
``(x, y, z, roll, pitch, yaw)`` of the hand's xlsdk palm frame (see :class:`xlsdk.manifest.PalmFrame`):
``x, y, z`` its origin, and the rotation ``Rz(yaw) Ry(pitch) Rx(roll) @ HOME_ROTATION``, where at
``HOME_ROTATION`` the palm faces the table (palm normal down) with the fingers pointing along +X.
"""

from __future__ import annotations

import math
import os
from functools import cached_property

import mujoco
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.errors import PhysicsError
from xlsdk.hand import Hand
from xlsdk.physics.hand_model import PREFIX, add_hand
from xlsdk.physics.scene import Scene, SceneObject
from xlsdk.transforms import rpy_matrix

#: palm normal (+Y) down, fingers (+Z) along world +X, +X of the palm along world -Y
HOME_ROTATION = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
WRIST_JOINTS = ("x", "y", "z", "roll", "pitch", "yaw")
OBJECT_CONTYPE, OBJECT_CONAFFINITY = 1, 3
TABLE_HALF = (0.45, 0.35, 0.02)


class WorkspaceBounds(BaseModel):
    """Where the wrist may go (the wrist joints' ranges; the driver's safety layer clamps into them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    lower: tuple[float, float, float, float, float, float] = (-0.35, -0.3, 0.03, -math.pi, -1.6, -math.pi)
    upper: tuple[float, float, float, float, float, float] = (0.35, 0.3, 0.6, math.pi, 1.6, math.pi)


class PhysicsConfig(BaseModel):
    """Simulation parameters (documented in docs/concepts/physics.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    timestep: float = Field(0.002, gt=0, le=0.01, description="physics step [s]")
    impratio: float = Field(10.0, ge=1.0, description="friction-to-normal impedance ratio (higher: less slip)")
    noslip_iterations: int = Field(5, ge=0, le=50, description="no-slip post-solver passes: without them soft "
                                   "contacts creep and held objects slide out (0: off)")
    wrist_kp: float = Field(2000.0, gt=0, description="wrist translation servo stiffness [N/m]")
    wrist_rot_kp: float = Field(150.0, gt=0, description="wrist rotation servo stiffness [Nm/rad]")
    workspace: WorkspaceBounds = WorkspaceBounds()
    image_size: int = Field(96, ge=16, le=1024, description="largest offscreen image side the model allows")


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


def _lookat_quat(position: np.ndarray, target: np.ndarray, up: np.ndarray = np.array([0.0, 0.0, 1.0])) -> np.ndarray:
    """Orientation of a camera at ``position`` looking at ``target`` (MuJoCo cameras look along -Z)."""
    backward = position - target
    backward = backward / np.linalg.norm(backward)
    right = np.cross(up, backward)
    if np.linalg.norm(right) < 1e-6:
        right = np.cross(np.array([0.0, 1.0, 0.0]), backward)
    right = right / np.linalg.norm(right)
    camera_up = np.cross(backward, right)
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.column_stack([right, camera_up, backward]).reshape(-1))
    return quat


def build_spec(hand: Hand, scene: Scene | None = None, config: PhysicsConfig | None = None) -> mujoco.MjSpec:
    """The whole world as an ``MjSpec`` (call ``.to_xml()`` for the generated MJCF)."""
    scene = scene or Scene()
    config = config or PhysicsConfig()
    spec = mujoco.MjSpec()
    spec.modelname = f"xlsdk_{hand.name}"
    spec.compiler.degree = False  # every angle here is in radians, as in URDF
    spec.option.timestep = config.timestep
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = config.impratio
    spec.option.noslip_iterations = config.noslip_iterations
    spec.visual.quality.shadowsize = 0
    spec.visual.quality.offsamples = 0
    spec.visual.global_.offwidth = config.image_size
    spec.visual.global_.offheight = config.image_size
    spec.visual.headlight.ambient = [0.25, 0.25, 0.25]
    spec.visual.headlight.diffuse = [0.35, 0.35, 0.35]
    spec.visual.map.znear = 0.01
    spec.stat.extent = 1.0
    spec.stat.center = [0.0, 0.0, 0.1]

    spec.add_texture(name="sky", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX, builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
                     rgb1=[0.75, 0.82, 0.9], rgb2=[0.3, 0.36, 0.45], width=64, height=64)
    world = spec.worldbody
    world.add_light(name="sun", pos=[0.0, -0.3, 1.5], dir=[0.0, 0.2, -1.0], castshadow=False,
                    diffuse=[0.45, 0.45, 0.45], type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL)
    world.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[3, 3, 0.1], pos=[0, 0, -0.75],
                   rgba=[0.55, 0.6, 0.66, 1], contype=OBJECT_CONTYPE, conaffinity=OBJECT_CONAFFINITY)
    world.add_geom(name="table", type=mujoco.mjtGeom.mjGEOM_BOX, size=list(TABLE_HALF), pos=[0, 0, -TABLE_HALF[2]],
                   rgba=[0.78, 0.66, 0.5, 1], contype=OBJECT_CONTYPE, conaffinity=OBJECT_CONAFFINITY,
                   friction=[0.8, 0.005, 0.0001])
    front = np.array([0.36, 0.5, 0.3])  # faces the palm of a side grasp at the grasp spot
    world.add_camera(name="front", pos=front, quat=_lookat_quat(front, np.array([0.05, 0.0, 0.06])), fovy=38)
    close = np.array([0.3, 0.3, 0.2])  # close-up of the grasp spot (xlsdk.physics.grasp.GRASP_SPOT)
    world.add_camera(name="grasp", pos=close, quat=_lookat_quat(close, np.array([0.06, 0.0, 0.1])), fovy=42)
    top = np.array([0.0, -0.001, 0.75])
    world.add_camera(name="top", pos=top, quat=_lookat_quat(top, np.zeros(3)), fovy=40)

    mount = _add_wrist(spec, config)
    add_hand(spec, mount, hand)
    # wrist camera: on the palm side of the wrist, looking along the fingers at what they grasp
    eye, target = np.array([0.0, 0.04, -0.03]), np.array([0.0, 0.12, 0.1])
    mount.add_camera(name="wrist", pos=eye, quat=_lookat_quat(eye, target, up=np.array([0.0, -1.0, 0.0])), fovy=75)
    for item in scene.objects:
        _add_object(spec, item)
    return spec


def _add_wrist(spec: mujoco.MjSpec, config: PhysicsConfig) -> mujoco.MjsBody:
    """Three slides then yaw, pitch, roll hinges, each a position servo; returns the mount body."""
    parent = spec.worldbody
    axes = {"x": (0, 0), "y": (1, 0), "z": (2, 0), "yaw": (2, 1), "pitch": (1, 1), "roll": (0, 1)}
    bounds = config.workspace
    for name in ("x", "y", "z", "yaw", "pitch", "roll"):
        index, rotary = axes[name]
        body = parent.add_body(name=f"wrist/{name}_link")
        body.gravcomp = 1.0
        body.explicitinertial = True
        body.mass = 0.2
        body.inertia = [2e-4, 2e-4, 2e-4]
        body.ipos = [0.0, 0.0, 0.0]  # (MjSpec writes an explicit inertial to MJCF only once ipos is set)
        axis = [0.0, 0.0, 0.0]
        axis[index] = 1.0
        bound = WRIST_JOINTS.index(name)
        kind = mujoco.mjtJoint.mjJNT_HINGE if rotary else mujoco.mjtJoint.mjJNT_SLIDE
        body.add_joint(name=f"wrist/{name}", type=kind,
                       axis=axis, range=[bounds.lower[bound], bounds.upper[bound]],
                       limited=mujoco.mjtLimited.mjLIMITED_TRUE, armature=0.02 if rotary else 0.5, damping=0.5)
        actuator = spec.add_actuator(name=f"wrist/{name}", target=f"wrist/{name}", trntype=mujoco.mjtTrn.mjTRN_JOINT)
        actuator.set_to_position(kp=config.wrist_rot_kp if rotary else config.wrist_kp, dampratio=1.0)
        actuator.ctrlrange = [bounds.lower[bound], bounds.upper[bound]]
        actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        actuator.forcerange = [-30.0, 30.0] if rotary else [-300.0, 300.0]
        actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        parent = body
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, HOME_ROTATION.reshape(-1))
    mount = parent.add_body(name="wrist/mount", quat=quat)
    mount.gravcomp = 1.0
    return mount


def _yaw_quat(yaw: float, lying: bool = False) -> list[float]:
    rotation = rpy_matrix((0.0, math.pi / 2 if lying else 0.0, yaw))
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, rotation.reshape(-1))
    return list(quat)


def _add_object(spec: mujoco.MjSpec, item: SceneObject) -> None:
    dims, rgba = item.dims, list(item.colour)
    friction = [item.friction, 0.01, 0.0005]
    common = dict(rgba=rgba, friction=friction, contype=OBJECT_CONTYPE, conaffinity=OBJECT_CONAFFINITY, condim=4)
    if item.kind == "bin":
        body = spec.worldbody.add_body(name=item.name, pos=list(item.pos), quat=_yaw_quat(item.yaw))
        width, depth, height = dims
        wall = 0.004
        body.add_geom(name=f"{item.name}/floor", type=mujoco.mjtGeom.mjGEOM_BOX, size=[width, depth, 0.005], **common)
        for sign in (-1, 1):
            body.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=[wall, depth, height / 2],
                          pos=[sign * (width - wall), 0, height / 2], **common)
            body.add_geom(type=mujoco.mjtGeom.mjGEOM_BOX, size=[width, wall, height / 2],
                          pos=[0, sign * (depth - wall), height / 2], **common)
        return
    if item.kind == "marker":  # visual only: a goal spot on the table, no contact
        body = spec.worldbody.add_body(name=item.name, pos=list(item.pos), quat=_yaw_quat(item.yaw))
        body.add_geom(name=f"{item.name}/disc", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[dims[0], 0.0005, 0],
                      rgba=rgba, contype=0, conaffinity=0)
        return
    if item.kind == "button":
        half, travel = dims
        body = spec.worldbody.add_body(name=item.name, pos=list(item.pos), quat=_yaw_quat(item.yaw))
        body.add_geom(name=f"{item.name}/housing", type=mujoco.mjtGeom.mjGEOM_BOX,
                      size=[half + 0.008, half + 0.008, 0.01],
                      rgba=[0.25, 0.25, 0.28, 1], contype=OBJECT_CONTYPE, conaffinity=OBJECT_CONAFFINITY)
        cap = body.add_body(name=f"{item.name}/cap", pos=[0, 0, 0.01 + travel])
        cap.add_joint(name=f"{item.name}/press", type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[0, 0, -1],
                      range=[0.0, 1.5 * travel], limited=mujoco.mjtLimited.mjLIMITED_TRUE, stiffness=item.stiffness,
                      springref=-0.002, damping=0.5)
        cap.add_geom(name=f"{item.name}/cap", type=mujoco.mjtGeom.mjGEOM_BOX, size=[half, half, travel],
                     mass=max(item.body_mass, 1e-3), **common)
        spec.add_exclude(bodyname1=item.name, bodyname2=f"{item.name}/cap")  # the cap slides into its housing
        return
    body = spec.worldbody.add_body(name=item.name, pos=list(item.pos), quat=_yaw_quat(item.yaw, item.lying))
    body.add_freejoint(name=f"{item.name}/free")
    shape = {"cube": mujoco.mjtGeom.mjGEOM_BOX, "ball": mujoco.mjtGeom.mjGEOM_SPHERE,
             "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER, "pen": mujoco.mjtGeom.mjGEOM_CAPSULE}[item.kind]
    size = [dims[0]] * 3 if item.kind == "cube" else [*dims, 0.0, 0.0][:3]
    body.add_geom(name=f"{item.name}/geom", type=shape, size=size, mass=max(item.body_mass, 1e-4), **common)


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
        self._renderers: dict[tuple[int, int], _Renderer] = {}
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
            renderer = _Renderer(self.model, width, height)
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


def wrist_rotation(wrist: np.ndarray) -> np.ndarray:
    """World rotation of the palm frame for wrist pose ``(x, y, z, roll, pitch, yaw)``."""
    return rpy_matrix((wrist[3], wrist[4], wrist[5])) @ HOME_ROTATION


def _headless_backend() -> None:
    """Use EGL when there is no display and the user chose no back end.

    MuJoCo picks its OpenGL back end from ``MUJOCO_GL`` when it is first imported, which may happen
    before xlsdk.physics (pytorch-kinematics imports it); with no display its default (GLFW) cannot
    work, so the EGL context class is put in place before the first renderer is made.
    """
    if os.environ.get("MUJOCO_GL") not in (None, "", "egl") or os.environ.get("DISPLAY"):
        return
    try:
        from mujoco.rendering.classic import gl_context

        if gl_context.GLContext is None or gl_context.GLContext.__module__ != "mujoco.egl":
            from mujoco.egl import GLContext

            gl_context.GLContext = GLContext
    except (ImportError, AttributeError):  # another MuJoCo layout: its own choice stands
        return


_GL_CONTEXT: list = []  # the process's one offscreen OpenGL context, made on the first render


def _gl_context() -> object:
    """One offscreen OpenGL context shared by every world's renderers in this process.

    With Mesa's software renderer, a new context and the first MuJoCo render context on it cost about
    0.15 s of CPU (shader compilation), 25x a render context on an existing one: a benchmark that builds
    a world per episode spent more CPU making renderers than rendering.
    """
    if not _GL_CONTEXT:
        _headless_backend()
        from mujoco.rendering.classic import gl_context

        try:
            if gl_context.GLContext is None:
                raise RuntimeError("no OpenGL back end")
            _GL_CONTEXT.append(gl_context.GLContext(64, 64))
        except Exception as exc:  # noqa: BLE001 - GL back ends raise many types
            raise PhysicsError(f"MuJoCo cannot open an offscreen OpenGL context ({type(exc).__name__}: {exc})",
                               hint="headless machines need EGL with Mesa: run .ci/ensure-egl, set MUJOCO_GL=egl"
                               ) from None
    return _GL_CONTEXT[0]


class _Renderer:
    """MuJoCo's offscreen rendering of one model at one size, on the shared context (:func:`_gl_context`).

    What ``mujoco.Renderer`` does for an RGB image from a named camera, without a context of its own.
    """

    def __init__(self, model: mujoco.MjModel, width: int, height: int) -> None:
        self.model, self.context = model, _gl_context()
        self.context.make_current()
        self.scene = mujoco.MjvScene(model, maxgeom=10000)
        self.option, self.camera = mujoco.MjvOption(), mujoco.MjvCamera()
        self.camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
        self.rect = mujoco.MjrRect(0, 0, width, height)
        self.mjr: mujoco.MjrContext | None = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_150.value)
        self.pixels = np.empty((height, width, 3), dtype=np.uint8)

    def render(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        camera_id = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, camera)
        if camera_id < 0:
            cameras = [self.model.camera(i).name for i in range(self.model.ncam)]
            raise PhysicsError(f"no camera {camera!r} in this world; cameras are {', '.join(cameras)}")
        self.camera.fixedcamid = camera_id
        self.context.make_current()
        mujoco.mjv_updateScene(self.model, data, self.option, None, self.camera, mujoco.mjtCatBit.mjCAT_ALL.value,
                               self.scene)
        mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN.value, self.mjr)  # this model's framebuffer
        mujoco.mjr_render(self.rect, self.scene, self.mjr)
        mujoco.mjr_readPixels(self.pixels, None, self.rect, self.mjr)
        return np.flipud(self.pixels).copy()

    def close(self) -> None:
        if self.mjr is not None:
            self.context.make_current()
            self.mjr.free()
            self.mjr = None
