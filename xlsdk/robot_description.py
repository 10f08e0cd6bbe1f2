"""A hand's robot description from what vendors ship: URDF, xacro, or MJCF, always ending as URDF text.

The rest of xlsdk (validation, kinematics, the manifest) reads URDF, so the other formats are converted
once, by ``xlsdk new-hand``, and the plugin ships the converted URDF with a note saying where it came
from:

* ``.xacro`` (and ``.urdf.xacro``): expanded by the ``xacro`` package (macros, properties, includes,
  ``$(arg ...)`` defaults) inside :mod:`xlsdk.xacro_sandbox`: ``${...}`` is arithmetic and math only,
  ``$(env)``/``$(find)``/``$(eval)`` and files outside the xacro's folder are refused.
* MJCF (``.xml`` whose root is ``<mujoco>``): compiled by MuJoCo's own parser (defaults, classes,
  ``<include>``, angle units, ``fromto`` geoms all resolved by MuJoCo), then written as URDF: the body tree
  as links, hinge/slide joints with their axes and ranges, primitive geoms (a capsule as a cylinder
  reaching its tip, a mesh as its bounding box), and joint equality couplings that are linear as
  ``<mimic>``. Free and ball joints cannot be expressed and are refused.

Heavy imports (xacro, mujoco) happen inside the functions that need them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.errors import UrdfError
from xlsdk.transforms import axis_angle_matrix, matrix_rpy, quaternion_matrix
from xlsdk.urdf import UrdfModel, parse_urdf

DescriptionKind = Literal["urdf", "xacro", "mjcf"]


class RobotDescription(BaseModel):
    """URDF text for a hand, and where it came from."""

    model_config = ConfigDict(frozen=True)
    source: Path
    kind: DescriptionKind
    text: str
    note: str = ""  # how the URDF was obtained when it is not the vendor's own file
    conversion_notes: tuple[str, ...] = ()


def description_kind(path: Path) -> DescriptionKind:
    """urdf / xacro / mjcf from the file name and, for ``.xml``, its root element."""
    name = path.name.lower()
    if name.endswith(".xacro"):
        return "xacro"
    if name.endswith(".xml") or name.endswith(".mjcf"):
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:4096]
        except OSError:
            return "mjcf"
        return "urdf" if "<robot" in head and "<mujoco" not in head else "mjcf"
    return "urdf"


def read_robot_description(path: Path | str) -> RobotDescription:
    """Read a URDF, or expand a xacro file, or convert an MJCF model; raise :class:`UrdfError` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise UrdfError(path, ["file not found (give the hand's URDF, .xacro or MJCF .xml file)"])
    kind = description_kind(path)
    if kind == "xacro":
        return _expand_xacro(path)
    if kind == "mjcf":
        return mjcf_to_urdf(path)
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise UrdfError(path, [f"cannot be read: {exc.strerror}"]) from None
    return RobotDescription(source=path, kind="urdf", text=text)


def load_robot_description(path: Path | str) -> tuple[RobotDescription, UrdfModel]:
    """The description and its validated model (meshes resolve against the source file's folder)."""
    description = read_robot_description(path)
    if description.kind == "urdf":
        from xlsdk.urdf import load_urdf

        return description, load_urdf(description.source)
    return description, parse_urdf(description.text, description.source)


def _expand_xacro(path: Path) -> RobotDescription:
    from xlsdk.xacro_sandbox import expand_xacro

    text, notes = expand_xacro(path)  # sandboxed: a vendor file runs no code and reads nothing outside its folder
    return RobotDescription(source=path, kind="xacro", text=text, note=f"expanded from {path.name} by xacro",
                            conversion_notes=notes)


# --- MJCF -------------------------------------------------------------------------------------------------------------

def mjcf_to_urdf(path: Path | str) -> RobotDescription:
    """Compile an MJCF hand model with MuJoCo and write its kinematic tree as URDF text."""
    path = Path(path)
    try:
        import mujoco
    except ImportError:
        raise UrdfError(path, ["reading MJCF models needs MuJoCo: pip install mujoco"]) from None
    try:
        model = mujoco.MjModel.from_xml_path(str(path))
    except Exception as exc:  # MuJoCo's compiler errors name the element and line
        raise UrdfError(path, [f"MuJoCo could not compile the model: {str(exc).strip()}"]) from None
    return _MjcfWriter(mujoco, model, path).run()


def _name(mujoco, model, kind, index: int, fallback: str) -> str:  # type: ignore[no-untyped-def]
    name = mujoco.mj_id2name(model, kind, index)
    return name if name else f"{fallback}{index}"


def _urdf_rpy(rotation: np.ndarray) -> tuple[float, float, float]:
    """MuJoCo's compiled rotations are orthonormal to round-off: only a pitch that close to 90 degrees is gimbal lock."""
    return matrix_rpy(rotation, gimbal_tolerance=1e-12)


def _fmt(values) -> str:  # type: ignore[no-untyped-def]
    return " ".join(f"{0.0 if abs(float(v)) < 1e-15 else float(v):.9g}" for v in values)


def _xml_name(name: str) -> str:
    return name.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


class _MjcfWriter:
    """One conversion: MuJoCo's compiled model -> URDF links and joints."""

    def __init__(self, mujoco, model, path: Path) -> None:  # type: ignore[no-untyped-def]
        self.mj = mujoco
        self.model = model
        self.path = path
        self.links: list[str] = []
        self.joints: list[str] = []
        self.notes: list[str] = []
        self.mimic: dict[int, tuple[int, float, float]] = {}  # joint -> (source joint, multiplier, offset)
        self.locked: dict[int, float] = {}  # joint -> the value an equality holds it at
        # names taken by bodies (and unnamed bodies' fallbacks): a made-up link name must not repeat one
        self.taken = {self._body(b) for b in range(model.nbody)}

    def run(self) -> RobotDescription:
        m, mj = self.model, self.mj
        roots = [b for b in range(1, m.nbody) if int(m.body_parentid[b]) == 0]
        if not roots:
            raise UrdfError(self.path, ["the MJCF worldbody holds no bodies; a hand model needs its body tree"])
        joints_below = {b: 0 for b in range(m.nbody)}
        for b in range(m.nbody - 1, 0, -1):  # children come after their parents in MuJoCo's body order
            joints_below[b] += int(m.body_jntnum[b])
            joints_below[int(m.body_parentid[b])] += joints_below[b]
        root = max(roots, key=lambda b: joints_below[b])
        dropped = [self._body(b) for b in roots if b != root]
        if dropped:  # a scene's table, objects (free joints and all) are not the hand
            self.notes.append(f"kept the body tree of {self._body(root)!r} (most joints); dropped other worldbody "
                              f"bodies: {', '.join(dropped)}")
        in_tree = {root}
        for b in range(root + 1, m.nbody):
            if int(m.body_parentid[b]) in in_tree:
                in_tree.add(b)
        problems = []
        for j in range(m.njnt):
            if int(m.jnt_bodyid[j]) not in in_tree:
                continue
            kind = int(m.jnt_type[j])
            name = self._joint_name(j)
            if kind == int(mj.mjtJoint.mjJNT_FREE):
                problems.append(f"joint {name!r} is a free joint (a floating base): a hand model for xlsdk is the "
                                "hand's own tree; remove the free joint (or <freejoint/>) from the MJCF")
            elif kind == int(mj.mjtJoint.mjJNT_BALL):
                problems.append(f"joint {name!r} is a ball joint, which URDF cannot express; model it as hinges")
        if problems:
            raise UrdfError(self.path, problems)
        self._couplings()
        if int(m.body_jntnum[root]) > 0:  # joints against the world need a world link above them
            self.links.append('<link name="world"/>')
            self._body_tree(root, "world", np.zeros(3))
        else:
            self._body_tree(root, None, np.zeros(3))
        robot = _xml_name(self.path.stem)
        body = "\n  ".join(self.links + self.joints)
        header = f"<!-- converted from {_xml_name(self.path.name)} by xlsdk (MuJoCo parser) -->"
        text = f'<?xml version="1.0"?>\n{header}\n<robot name="{robot}">\n  {body}\n</robot>\n'
        note = f"converted from MJCF {self.path.name} by xlsdk through MuJoCo's parser"
        return RobotDescription(source=self.path, kind="mjcf", text=text, note=note, conversion_notes=tuple(self.notes))

    def _fresh(self, candidate: str) -> str:
        """``candidate``, or with a numbered suffix when a body (or an earlier made-up link) has that name."""
        name, number = candidate, 2
        while name in self.taken:
            name, number = f"{candidate}_{number}", number + 1
        self.taken.add(name)
        return name

    def _body(self, b: int) -> str:
        return _name(self.mj, self.model, self.mj.mjtObj.mjOBJ_BODY, b, "body")

    def _joint_name(self, j: int) -> str:
        return _name(self.mj, self.model, self.mj.mjtObj.mjOBJ_JOINT, j, "joint")

    def _couplings(self) -> None:
        m, mj = self.model, self.mj
        for e in range(m.neq):
            if int(m.eq_type[e]) != int(mj.mjtEq.mjEQ_JOINT):
                continue
            follower, source = int(m.eq_obj1id[e]), int(m.eq_obj2id[e])
            c = [float(v) for v in m.eq_data[e][:5]]
            if source < 0:
                self.locked[follower] = c[0]
                self.notes.append(f"joint {self._joint_name(follower)!r} is held at {c[0]:.6g} by an equality: "
                                  "written as a fixed joint")
            elif max(abs(v) for v in c[2:]) < 1e-12:
                self.mimic[follower] = (source, c[1], c[0])
            else:
                self.notes.append(f"the coupling of {self._joint_name(follower)!r} to {self._joint_name(source)!r} "
                                  "is not linear; left uncoupled (both actuated)")
        if m.ntendon:
            self.notes.append(f"{m.ntendon} tendon(s) not converted (URDF has no tendons); couplings through tendons "
                              "are not mimic joints")

    def _body_tree(self, b: int, parent: str | None, parent_shift: np.ndarray) -> None:
        """Write body ``b`` under URDF link ``parent``, whose frame is ``parent_shift`` into its body."""
        m, mj = self.model, self.mj
        name = self._body(b)
        rotation = quaternion_matrix(np.asarray(m.body_quat[b], dtype=float))
        position = np.asarray(m.body_pos[b], dtype=float) - parent_shift
        count, first = int(m.body_jntnum[b]), int(m.body_jntadr[b])
        if parent is None:  # the root body: its own frame is the URDF root
            rotation, position = np.eye(3), np.zeros(3)
        previous, shift = parent, np.zeros(3)
        for k in range(count):
            j = first + k
            anchor = np.asarray(m.jnt_pos[j], dtype=float)
            child = name if k == count - 1 else self._fresh(f"{name}__{self._joint_name(j)}")
            offset = position + rotation @ anchor if k == 0 else anchor - shift
            self.links.append(self._link(child, b, anchor) if child == name else f'<link name="{_xml_name(child)}"/>')
            self._joint(j, previous, child, offset, rotation if k == 0 else np.eye(3))  # type: ignore[arg-type]
            previous, shift = child, anchor
        if count == 0:
            self.links.append(self._link(name, b, np.zeros(3)))
            if parent is not None:
                self.joints.append(f'<joint name="{_xml_name(name)}_fixed" type="fixed">'
                                   f'<parent link="{_xml_name(parent)}"/>'
                                   f'<child link="{_xml_name(name)}"/><origin xyz="{_fmt(position)}" '
                                   f'rpy="{_fmt(_urdf_rpy(rotation))}"/></joint>')
        for child_body in range(b + 1, m.nbody):
            if int(m.body_parentid[child_body]) == b:
                self._body_tree(child_body, name, shift)

    def _joint(self, j: int, parent: str, child: str, xyz: np.ndarray, rotation: np.ndarray) -> None:
        m, mj = self.model, self.mj
        name = self._joint_name(j)
        origin = f'<origin xyz="{_fmt(xyz)}" rpy="{_fmt(_urdf_rpy(rotation))}"/>'
        axis = np.asarray(m.jnt_axis[j], dtype=float)
        links = f'<parent link="{_xml_name(parent)}"/><child link="{_xml_name(child)}"/>'
        if j in self.locked:
            value = self.locked[j]
            hinge = int(m.jnt_type[j]) == int(mj.mjtJoint.mjJNT_HINGE)
            held = axis_angle_matrix(axis / np.linalg.norm(axis), value) if hinge else np.eye(3)
            slide = axis * value if int(m.jnt_type[j]) == int(mj.mjtJoint.mjJNT_SLIDE) else np.zeros(3)
            origin = f'<origin xyz="{_fmt(xyz + rotation @ slide)}" rpy="{_fmt(_urdf_rpy(rotation @ held))}"/>'
            self.joints.append(f'<joint name="{_xml_name(name)}" type="fixed">{links}{origin}</joint>')
            return
        kind = "prismatic" if int(m.jnt_type[j]) == int(mj.mjtJoint.mjJNT_SLIDE) else "revolute"
        if bool(m.jnt_limited[j]):
            low, high = (float(v) for v in m.jnt_range[j])
        else:
            low, high = (-math.pi, math.pi) if kind == "revolute" else (-0.1, 0.1)
            self.notes.append(f"joint {name!r} has no range in the MJCF; gave it [{low:.4g}, {high:.4g}]")
        text = (f'<joint name="{_xml_name(name)}" type="{kind}">{links}{origin}<axis xyz="{_fmt(axis)}"/>'
                f'<limit lower="{low:.9g}" upper="{high:.9g}" effort="1" velocity="3"/>')
        if j in self.mimic:
            source, multiplier, offset = self.mimic[j]
            text += (f'<mimic joint="{_xml_name(self._joint_name(source))}" multiplier="{multiplier:.9g}" '
                     f'offset="{offset:.9g}"/>')
        self.joints.append(text + "</joint>")

    def _link(self, name: str, b: int, shift: np.ndarray) -> str:
        """The link of body ``b`` with its primitive geoms, in a frame ``shift`` into the body."""
        m, mj = self.model, self.mj
        parts = []
        for g in range(m.ngeom):
            if int(m.geom_bodyid[g]) != b:
                continue
            kind = int(m.geom_type[g])
            size = np.asarray(m.geom_size[g], dtype=float)
            position = np.asarray(m.geom_pos[g], dtype=float) - shift
            rotation = quaternion_matrix(np.asarray(m.geom_quat[g], dtype=float))
            if kind == int(mj.mjtGeom.mjGEOM_SPHERE):
                shape = f'<sphere radius="{size[0]:.9g}"/>'
            elif kind == int(mj.mjtGeom.mjGEOM_CAPSULE):  # a cylinder as long as the capsule, tip to tip
                shape = f'<cylinder radius="{size[0]:.9g}" length="{2 * (size[1] + size[0]):.9g}"/>'
            elif kind == int(mj.mjtGeom.mjGEOM_CYLINDER):
                shape = f'<cylinder radius="{size[0]:.9g}" length="{2 * size[1]:.9g}"/>'
            elif kind in (int(mj.mjtGeom.mjGEOM_BOX), int(mj.mjtGeom.mjGEOM_ELLIPSOID)):
                shape = f'<box size="{_fmt(2 * size)}"/>'
            elif kind == int(mj.mjtGeom.mjGEOM_MESH) and int(m.geom_dataid[g]) >= 0:
                mesh = int(m.geom_dataid[g])
                start, count = int(m.mesh_vertadr[mesh]), int(m.mesh_vertnum[mesh])
                vertices = np.asarray(m.mesh_vert[start:start + count], dtype=float)
                low, high = vertices.min(axis=0), vertices.max(axis=0)
                position = position + rotation @ ((low + high) / 2)
                shape = f'<box size="{_fmt(high - low)}"/>'
            else:
                continue
            parts.append(f'<collision><origin xyz="{_fmt(position)}" rpy="{_fmt(_urdf_rpy(rotation))}"/>'
                         f"<geometry>{shape}</geometry></collision>")
        body = "".join(parts)
        return f'<link name="{_xml_name(name)}">{body}</link>' if body else f'<link name="{_xml_name(name)}"/>'
