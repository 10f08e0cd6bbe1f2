"""A hand's MuJoCo bodies, built from its spec alone (manifest + URDF): nothing per hand is written by hand.

:func:`add_hand` walks the URDF tree from its root and adds, under a mount body of an ``MjSpec``:

* one body per link, posed by its joint's origin; revolute/continuous joints become hinges and
  prismatic joints slides, with the spec's effective limits (URDF narrowed by the manifest); joints
  that are neither actuated nor mimics (a vendor's wrist above the palm, skipped by the manifest) are
  welded at 0, where :meth:`xlsdk.Hand.fk` has them: left free, the palm flopped on them under load;
* inertia from the URDF ``<inertial>`` (bounded below so tiny frame-only links stay integrable; a tensor
  that breaks the triangle inequality A + B >= C is balanced, mass kept, see :func:`xlsdk.urdf.balance_inertia`);
* collision geometry from the URDF's primitive ``<collision>`` shapes (boxes, cylinders, spheres), else
  its primitive ``<visual>`` shapes, or, for a link that only has meshes (or nothing), capsules fitted
  along the link: from its origin to each child joint and to its fingertip point. Meshes are never
  loaded, so a hand whose mesh files are missing still gets a world;
* mimic couplings as joint equality constraints ``q_mimic = multiplier * q_source + offset``;
* a position actuator per actuated joint (see :func:`actuator_gains`);
* a site per canonical fingertip at the manifest's tip point (``tip_<finger>``) and a site at the xlsdk
  palm frame (``palm``), so MuJoCo reports fingertips in the same frame as :meth:`xlsdk.Hand.fk`.

Everything comes from the records :mod:`xlsdk.urdf` read (its links' visual, collision and inertial):
the URDF is parsed once, by the reader that validates it, and no XML is read here.

Hand geoms do not collide with each other (MuJoCo contact between touching phalanges of a simplified
model mostly jams fingers); they collide with everything else.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from xlsdk.hand import Hand
from xlsdk.transforms import matrix_quaternion, rpy_matrix
from xlsdk.urdf import LinkGeometry, UrdfLink, balance_inertia, resolve_mesh_path

PREFIX = "hand/"
#: contype/conaffinity bits: hand geoms touch the world (bit 1) but not each other
HAND_CONTYPE, HAND_CONAFFINITY = 2, 1
#: a revolute actuator reaches its full effort at this fraction of the joint range of position error
SATURATION_FRACTION = 0.05
#: reflected rotor inertia added to every hand joint (kg m^2 or kg): keeps stiff servos on light phalanges stable
ARMATURE = 1e-3
DEFAULT_EFFORT = {"hinge": 1.0, "slide": 20.0}  # Nm / N when the URDF gives none
MIN_MASS, MIN_INERTIA = 1e-3, 1e-7
HAND_FRICTION = (1.0, 0.01, 0.0005)
HAND_RGBA = (0.32, 0.34, 0.38, 1.0)
TIP_RGBA = (0.9, 0.9, 0.92, 1.0)
MESH_RGBA = (0.62, 0.64, 0.68, 1.0)
#: geom group of collision shapes under a vendor's visual meshes: MuJoCo's renderer skips groups 3-5 by default
HIDDEN_GROUP = 3


@dataclass(frozen=True)
class ActuatorGains:
    """Position-servo parameters of one actuated joint (documented in docs/concepts/physics.md)."""

    joint: str
    kp: float
    force_limit: float
    lower: float
    upper: float


def actuator_gains(hand: Hand) -> list[ActuatorGains]:
    """Gains from limits and effort: ``kp = effort / (SATURATION_FRACTION * range)``, force limited to effort.

    A servo then pushes with its full rated effort once it is 5 % of its range away from its target,
    as a real position-controlled finger squeezing an object does; a URDF with ``effort="0"`` gets a
    hand that cannot move (and cannot hold anything), which is what it says.
    """
    gains: list[ActuatorGains] = []
    for name, low, high in zip(hand.joint_names, hand.spec.lower, hand.spec.upper, strict=True):
        joint = hand.spec.urdf.joint(name)
        kind = "slide" if joint.type == "prismatic" else "hinge"
        effort = DEFAULT_EFFORT[kind] if joint.effort is None else float(joint.effort)
        effort = max(effort, 1e-6)  # MuJoCo needs a non-empty force range; effort 0 is a servo that cannot push
        span = max(high - low, 1e-6)
        gains.append(ActuatorGains(joint=name, kp=effort / (SATURATION_FRACTION * span), force_limit=effort,
                                   lower=low, upper=high))
    return gains


@dataclass(frozen=True)
class _Shape:
    kind: str  # box | cylinder | sphere | capsule
    transform: np.ndarray
    size: tuple[float, ...]
    fromto: tuple[float, ...] | None = None


def _primitives(shapes: tuple[LinkGeometry, ...]) -> list[_Shape]:
    """The boxes, cylinders and spheres among ``shapes`` as MuJoCo sizes (half extents), empty ones left out."""
    found: list[_Shape] = []
    for shape in shapes:
        transform = np.array(shape.origin, dtype=np.float64)
        if shape.kind == "box":
            found.append(_Shape("box", transform, tuple(v / 2 for v in shape.size)))
        elif shape.kind == "cylinder":
            found.append(_Shape("cylinder", transform, (shape.size[0], shape.size[1] / 2)))
        elif shape.kind == "sphere":
            found.append(_Shape("sphere", transform, (shape.size[0],)))
    return [shape for shape in found if all(v > 0 for v in shape.size)]


@dataclass(frozen=True)
class _Mesh:
    path: Path
    scale: tuple[float, float, float]
    transform: np.ndarray


def _meshes(hand: Hand, shapes: tuple[LinkGeometry, ...]) -> tuple[list[_Mesh], int]:
    """The meshes among ``shapes`` that resolve inside the hand's own package, and how many do not.

    A mesh outside the folder of the hand's ``hand.toml`` is not loaded: a vendor file pulls in nothing
    from elsewhere on the machine.
    """
    package = hand.spec.manifest_path.parent.resolve()
    found, missing = [], 0
    for shape in shapes:
        if shape.kind != "mesh":
            continue
        path = resolve_mesh_path(shape.filename or "", hand.spec.urdf.path)
        if path is None or not path.resolve().is_relative_to(package) or _mesh_data(path.resolve()) is None:
            missing += 1
            continue
        scale = (shape.size[0], shape.size[1], shape.size[2])  # the reader gives a mesh's scale as three factors
        found.append(_Mesh(path.resolve(), scale, np.array(shape.origin, dtype=np.float64)))
    return found, missing


@functools.lru_cache(maxsize=256)
def _mesh_data(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(vertices, triangles) of a mesh file as trimesh reads it (STL, OBJ, DAE, PLY ...), None if unreadable.

    Loaded once per process: a benchmark that builds a world per episode reads each file once.
    """
    import trimesh

    try:
        loaded = trimesh.load(str(path), force="mesh", process=False)
    except Exception:  # noqa: BLE001 - a mesh trimesh cannot read is drawn and collided as primitives instead
        return None
    vertices = np.asarray(getattr(loaded, "vertices", np.zeros((0, 3))), dtype=np.float64)
    faces = np.asarray(getattr(loaded, "faces", np.zeros((0, 3))), dtype=np.int64)
    if len(vertices) < 4 or len(faces) < 4 or not np.all(np.isfinite(vertices)):
        return None
    return vertices, faces


@dataclass(frozen=True)
class LinkModel:
    """What one link is drawn and collided with, and why (see :func:`model_choice`)."""

    visual: str  # "meshes" | "collision shapes"
    collision: str  # "URDF primitives" | "convex hulls of URDF meshes" | "URDF visual primitives" | "fitted capsules"


@dataclass(frozen=True)
class ModelChoice:
    """How a hand's MuJoCo model was made from its URDF: per link, its visual and its collision source."""

    links: dict[str, LinkModel]
    mesh_files: tuple[str, ...]  # the vendor mesh files drawn (names)
    unresolved: int  # mesh references that do not resolve inside the hand's package (or do not load)

    def explain(self) -> str:
        """One line: what is drawn, what collides, and why (printed by ``check --physics`` and ``view --physics``)."""
        counts: dict[str, int] = {}
        for model in self.links.values():
            counts[model.collision] = counts.get(model.collision, 0) + 1
        drawn = sum(m.visual == "meshes" for m in self.links.values())
        formats = sorted({Path(name).suffix.lower().lstrip(".") for name in self.mesh_files})
        visual = (f"vendor meshes on {drawn} of {len(self.links)} links ({len(self.mesh_files)} files: "
                  f"{', '.join(formats)}), collision shapes drawn elsewhere" if drawn
                  else "collision shapes drawn (no vendor visual mesh resolves)")
        if self.unresolved:
            visual += f"; {self.unresolved} mesh references do not resolve inside the package"
        reasons = {"URDF primitives": "the URDF's <collision> boxes/cylinders/spheres",
                   "convex hulls of URDF meshes": "the URDF's <collision> meshes, as convex hulls",
                   "URDF visual primitives": "no <collision>, so the <visual> primitives",
                   "fitted capsules": "no primitive or loadable collision, so capsules fitted along the link"}
        collision = "; ".join(f"{count} links {reasons[kind]}" for kind, count in sorted(counts.items()))
        return f"visual: {visual}. collision: {collision}"


def model_choice(hand: Hand) -> ModelChoice:
    """Per link: vendor visual meshes when they resolve, else the collision shapes are drawn; collision from
    the URDF's primitive ``<collision>`` shapes, else its ``<collision>`` meshes (convex hulls, as MuJoCo
    collides meshes), else primitive ``<visual>`` shapes, else capsules fitted along the link.

    Meshes are loaded only where the URDF asks for them in ``<collision>``, so a hand written with
    primitives keeps its (cheap) primitive contacts; visual meshes cost render time only.
    """
    links: dict[str, LinkModel] = {}
    files: list[str] = []
    unresolved = 0
    for link in hand.spec.urdf.links:
        visuals, missing = _meshes(hand, link.visual)
        collision_meshes, missing_collision = _meshes(hand, link.collision)
        unresolved += missing + missing_collision
        files += [m.path.name for m in visuals if m.path.name not in files]
        if _primitives(link.collision):
            collision = "URDF primitives"
        elif collision_meshes:
            collision = "convex hulls of URDF meshes"
        elif _primitives(link.visual):
            collision = "URDF visual primitives"
        else:
            collision = "fitted capsules"
        links[link.name] = LinkModel("meshes" if visuals else "collision shapes", collision)
    return ModelChoice(links=links, mesh_files=tuple(files), unresolved=unresolved)


def fitted_capsules(hand: Hand, link: str, radius: float) -> list[_Shape]:
    """Capsules along a mesh-only link: origin to each child joint and to the fingertip point on it."""
    ends = [np.asarray(joint.origin_matrix()[:3, 3]) for joint in hand.spec.urdf.child_joints(link)]
    ends += [np.asarray(tip.offset) for tip in hand.spec.manifest.fingers.values() if tip.link == link]
    shapes = []
    for end in ends:
        if np.linalg.norm(end) < 1e-4:
            continue
        shapes.append(_Shape("capsule", np.eye(4), (radius,), fromto=(0.0, 0.0, 0.0, *map(float, end))))
    if not shapes:
        shapes.append(_Shape("sphere", np.eye(4), (radius,)))
    return shapes


def capsule_radius(hand: Hand) -> float:
    """Radius of fitted capsules: 9 % of the hand's mean finger reach, between 4 and 11 mm."""
    tips = np.asarray(hand.fk(hand.zero_pose()))
    reach = float(np.linalg.norm(tips, axis=-1).mean())
    return float(np.clip(0.09 * reach, 0.004, 0.011))


def palm_transform(hand: Hand) -> np.ndarray:
    """The xlsdk palm frame in the URDF root frame at the zero pose (fixed joints in between)."""
    spec = hand.spec
    chain = spec.urdf.path_between(spec.urdf.root, spec.manifest.palm_link) or []
    transform = np.eye(4)
    for joint in chain:
        transform = transform @ joint.origin_matrix()
    frame = np.eye(4)
    frame[:3, :3] = rpy_matrix(spec.manifest.palm_frame.rpy)
    frame[:3, 3] = spec.manifest.palm_frame.xyz
    return transform @ frame


def add_hand(spec: mujoco.MjSpec, mount: mujoco.MjsBody, hand: Hand) -> None:
    """Add ``hand`` under ``mount`` so that its xlsdk palm frame coincides with the mount frame."""
    urdf = hand.spec.urdf
    radius = capsule_radius(hand)
    choices = model_choice(hand)
    root_in_mount = np.linalg.inv(palm_transform(hand))
    tips = {tip.link: [] for tip in hand.spec.manifest.fingers.values()}
    for finger, tip in hand.spec.manifest.fingers.items():
        tips[tip.link].append((finger, tip.offset))
    limits = {name: (low, high) for name, low, high in zip(hand.joint_names, hand.spec.lower, hand.spec.upper,
                                                            strict=True)}

    def add_link(parent: mujoco.MjsBody, link: str, transform: np.ndarray) -> mujoco.MjsBody:
        body = parent.add_body(name=PREFIX + link, pos=transform[:3, 3], quat=matrix_quaternion(transform[:3, :3]))
        body.gravcomp = 1.0  # the arm and the servos carry the hand's own weight
        record: UrdfLink = urdf.link(link)
        inertial = record.inertial
        if inertial is not None and inertial.mass is not None:
            transform = np.array(inertial.origin, dtype=np.float64)
            body.explicitinertial = True
            body.mass = max(inertial.mass, MIN_MASS)
            body.ipos = transform[:3, 3]
            full = np.array(inertial.inertia or (0.0,) * 6)
            full[:3] = np.maximum(full[:3], MIN_INERTIA)
            rotation = transform[:3, :3]
            tensor = np.array([[full[0], full[3], full[4]], [full[3], full[1], full[5]], [full[4], full[5], full[2]]])
            # a tensor that is no rigid body's (A + B < C, common in published URDFs, or a principal moment
            # <= 0 from large products) is balanced, mass kept; the URDF check warned (xlsdk.urdf.balance_inertia).
            # The floor only keeps moments positive: a valid tensor passes unchanged.
            tensor, _ = balance_inertia(tensor, floor=MIN_INERTIA / 100)
            # URDF inertia is in the inertial frame; MuJoCo's fullinertia in the body's
            tensor = rotation @ tensor @ rotation.T
            body.fullinertia = [tensor[0, 0], tensor[1, 1], tensor[2, 2], tensor[0, 1], tensor[0, 2], tensor[1, 2]]
        else:
            body.explicitinertial = True
            body.mass = MIN_MASS * 10
            body.inertia = [MIN_INERTIA * 10] * 3
            body.ipos = [0.0, 0.0, 0.0]
        choice = choices.links.get(link, LinkModel("collision shapes", "fitted capsules"))
        hidden = choice.visual == "meshes"  # the vendor's meshes are drawn instead of the collision shapes
        if choice.collision == "convex hulls of URDF meshes":
            for mesh in _meshes(hand, record.collision)[0]:
                _add_mesh(spec, body, mesh, collide=True, hidden=hidden)
        else:
            shapes = {"URDF primitives": lambda: _primitives(record.collision),
                      "URDF visual primitives": lambda: _primitives(record.visual),
                      "fitted capsules": lambda: fitted_capsules(hand, link, radius)}[choice.collision]()
            for shape in shapes:
                _add_shape(body, shape, hidden=hidden)
        if hidden:
            for mesh in _meshes(hand, record.visual)[0]:
                _add_mesh(spec, body, mesh, collide=False, hidden=False)
        for finger, offset in tips.get(link, []):
            body.add_site(name=f"tip_{finger}", pos=offset, size=[0.003, 0, 0], rgba=[1, 0.2, 0.2, 1], group=3)
        if link == hand.spec.manifest.palm_link:
            frame = np.eye(4)
            frame[:3, :3] = rpy_matrix(hand.spec.manifest.palm_frame.rpy)
            frame[:3, 3] = hand.spec.manifest.palm_frame.xyz
            body.add_site(name="palm", pos=frame[:3, 3], quat=matrix_quaternion(frame[:3, :3]), size=[0.004, 0, 0], group=3)
        for joint in urdf.child_joints(link):
            moving = add_link(body, joint.child, joint.origin_matrix())
            if joint.type == "fixed" or (joint.name not in limits and joint.name not in hand.spec.mimic):
                continue  # fixed, or not part of the hand (a vendor's wrist): welded where the kinematics has it (0)
            kind = mujoco.mjtJoint.mjJNT_SLIDE if joint.type == "prismatic" else mujoco.mjtJoint.mjJNT_HINGE
            low, high = limits.get(joint.name, (joint.lower, joint.upper))
            mj_joint = moving.add_joint(name=PREFIX + joint.name, type=kind, axis=joint.axis, armature=ARMATURE,
                                        damping=0.01)
            if low is not None and high is not None and joint.mimic is None:
                mj_joint.range = [low, high]
                mj_joint.limited = mujoco.mjtLimited.mjLIMITED_TRUE
            elif joint.mimic is not None and joint.lower is not None and joint.upper is not None:
                mj_joint.range = [joint.lower, joint.upper]
                mj_joint.limited = mujoco.mjtLimited.mjLIMITED_TRUE
            else:
                mj_joint.limited = mujoco.mjtLimited.mjLIMITED_FALSE
        return body

    add_link(mount, urdf.root, root_in_mount)

    for name, term in hand.spec.mimic.items():
        joint = urdf.joint(name)
        if joint.type == "fixed":
            continue
        equality = spec.add_equality(name=f"{PREFIX}mimic/{name}", type=mujoco.mjtEq.mjEQ_JOINT,
                                     name1=PREFIX + name, name2=PREFIX + term.source)
        equality.data[:5] = [term.offset, term.multiplier, 0.0, 0.0, 0.0]
        equality.solref = [0.005, 1.0]

    for gains in actuator_gains(hand):
        actuator = spec.add_actuator(name=PREFIX + gains.joint, target=PREFIX + gains.joint,
                                     trntype=mujoco.mjtTrn.mjTRN_JOINT)
        actuator.set_to_position(kp=gains.kp, dampratio=1.0)
        actuator.ctrlrange = [gains.lower, gains.upper]
        actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        actuator.forcerange = [-gains.force_limit, gains.force_limit]
        actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE


def _add_mesh(spec: mujoco.MjSpec, body: mujoco.MjsBody, mesh: _Mesh, *, collide: bool, hidden: bool) -> None:
    """A vendor mesh on ``body``: drawn (visual, no contact) or collided as its convex hull (MuJoCo's mesh contact)."""
    vertices, faces = _mesh_data(mesh.path)
    name = f"{PREFIX}mesh{len(spec.meshes)}/{mesh.path.stem}"
    asset = spec.add_mesh(name=name, uservert=(vertices * np.asarray(mesh.scale)).reshape(-1).tolist(),
                          userface=faces.reshape(-1).tolist())
    asset.inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL  # no volume needed: the body's inertia is the URDF's
    geom = body.add_geom(type=mujoco.mjtGeom.mjGEOM_MESH, meshname=name, mass=0.0, rgba=list(MESH_RGBA),
                         pos=mesh.transform[:3, 3], quat=matrix_quaternion(mesh.transform[:3, :3]),
                         group=HIDDEN_GROUP if hidden else 0)
    if collide:
        geom.contype, geom.conaffinity, geom.condim = HAND_CONTYPE, HAND_CONAFFINITY, 4
        geom.friction = list(HAND_FRICTION)
    else:
        geom.contype, geom.conaffinity = 0, 0


def _add_shape(body: mujoco.MjsBody, shape: _Shape, *, hidden: bool = False) -> None:
    types = {"box": mujoco.mjtGeom.mjGEOM_BOX, "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER,
             "sphere": mujoco.mjtGeom.mjGEOM_SPHERE, "capsule": mujoco.mjtGeom.mjGEOM_CAPSULE}
    size = [*shape.size, 0.0, 0.0, 0.0][:3]
    rgba = TIP_RGBA if shape.kind == "sphere" else HAND_RGBA
    geom = body.add_geom(type=types[shape.kind], size=size, contype=HAND_CONTYPE, conaffinity=HAND_CONAFFINITY,
                         friction=list(HAND_FRICTION), condim=4, rgba=list(rgba), mass=0.0,
                         group=HIDDEN_GROUP if hidden else 0)
    if shape.fromto is not None:
        geom.fromto = list(shape.fromto)
    else:
        geom.pos = shape.transform[:3, 3]
        geom.quat = matrix_quaternion(shape.transform[:3, :3])
