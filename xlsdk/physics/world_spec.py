"""The MuJoCo world as an ``MjSpec``: a table, an actuated 6-DoF wrist carrying any installed hand, objects,
cameras. The MJCF is generated here from a hand's spec and a scene, never written per hand.

:func:`build_spec` composes it; :class:`PhysicsConfig` holds the simulation parameters;
:class:`~xlsdk.physics.world.World` compiles the spec and runs it, :mod:`xlsdk.physics.rendering` draws it.

Frames: world metres, the table top is ``z = 0``, +X away from the front camera. The wrist pose is
``(x, y, z, roll, pitch, yaw)`` of the hand's xlsdk palm frame (see :class:`xlsdk.manifest.PalmFrame`):
``x, y, z`` its origin, and the rotation ``Rz(yaw) Ry(pitch) Rx(roll) @ HOME_ROTATION``
(:func:`wrist_rotation`), where at ``HOME_ROTATION`` the palm faces the table (palm normal down) with the
fingers pointing along +X.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.hand import Hand
from xlsdk.physics.hand_model import add_hand
from xlsdk.physics.scene import Scene, SceneObject
from xlsdk.transforms import matrix_quaternion, rpy_matrices, rpy_matrix

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


def _lookat_quat(position: np.ndarray, target: np.ndarray,
                 up: np.ndarray = np.array([0.0, 0.0, 1.0])) -> tuple[float, float, float, float]:
    """Orientation of a camera at ``position`` looking at ``target`` (MuJoCo cameras look along -Z)."""
    backward = position - target
    backward = backward / np.linalg.norm(backward)
    right = np.cross(up, backward)
    if np.linalg.norm(right) < 1e-6:
        right = np.cross(np.array([0.0, 1.0, 0.0]), backward)
    right = right / np.linalg.norm(right)
    camera_up = np.cross(backward, right)
    return matrix_quaternion(np.column_stack([right, camera_up, backward]))


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
    mount = parent.add_body(name="wrist/mount", quat=matrix_quaternion(HOME_ROTATION))
    mount.gravcomp = 1.0
    return mount


def _yaw_quat(yaw: float, lying: bool = False) -> list[float]:
    return list(matrix_quaternion(rpy_matrix((0.0, math.pi / 2 if lying else 0.0, yaw))))


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


def wrist_rotation(wrist: np.ndarray) -> np.ndarray:
    """World rotation of the palm frame for wrist pose ``(x, y, z, roll, pitch, yaw)``; for an ``(N, >=6)``
    batch of poses, the ``(N, 3, 3)`` rotations."""
    return rpy_matrices(np.asarray(wrist)[..., 3:6]) @ HOME_ROTATION
