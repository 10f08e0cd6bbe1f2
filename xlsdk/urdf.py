"""Reading and validating URDF files.

A URDF goes through three steps here, all on one strict lxml parse (yourdfpy, which "recovers"
malformed XML, raises bare ``KeyError``s and pulls trimesh and scipy in at import, is left to the
viewer; ``tests/test_urdf_reader.py`` checks that both read every URDF of the repository the same):

1. a strict XML parse (not XML -> one message with the line),
2. an element pass that names every malformed ``<link>``/``<joint>`` with its line (missing name, type,
   parent/child, non-numeric attributes, shapes without sizes),
3. the model is read from the elements (origins composed as translation x fixed-axis roll-pitch-yaw;
   each link with its ``<visual>`` and ``<collision>`` shapes and its ``<inertial>``, every malformed one
   named with its line), then a structural pass checks the tree: duplicates, unknown references, roots,
   cycles, limits, axes and mimic targets.

This is the one URDF reader: the physics world builds its bodies from these records and parses no XML.

Each step collects *all* its problems and raises one :class:`~xlsdk.errors.UrdfError` listing them,
so a vendor fixes a broken file in one round. Meshes that do not resolve are warnings only: kinematics
never need them. So are inertia tensors that no rigid body has (see :func:`balance_inertia`): physics
balances them, and the warning says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from lxml import etree
from pydantic import BaseModel, ConfigDict

from xlsdk.errors import UrdfError
from xlsdk.transforms import origin_matrix

if TYPE_CHECKING:
    from collections.abc import Sequence

JointType = Literal["revolute", "continuous", "prismatic", "fixed"]
_SUPPORTED_TYPES = ("revolute", "continuous", "prismatic", "fixed")
_KNOWN_TYPES = (*_SUPPORTED_TYPES, "floating", "planar")
_VECTOR_ATTRIBUTES = {"origin": ("xyz", "rpy"), "axis": ("xyz",)}
_LIMIT_ATTRIBUTES = ("lower", "upper", "effort", "velocity")
_MIMIC_ATTRIBUTES = ("multiplier", "offset")


class Mimic(BaseModel):
    """``q_joint = multiplier * q_target + offset``."""

    model_config = ConfigDict(frozen=True)
    joint: str
    multiplier: float = 1.0
    offset: float = 0.0


class UrdfJoint(BaseModel):
    """One joint as xlsdk uses it: frames as 4x4 nested tuples (metres, radians)."""

    model_config = ConfigDict(frozen=True)
    name: str
    type: JointType
    parent: str
    child: str
    origin: tuple[tuple[float, ...], ...]
    axis: tuple[float, float, float]
    lower: float | None = None
    upper: float | None = None
    effort: float | None = None
    velocity: float | None = None
    mimic: Mimic | None = None

    @property
    def movable(self) -> bool:
        return self.type != "fixed"

    def origin_matrix(self) -> np.ndarray:
        return np.array(self.origin, dtype=np.float64)


class LinkGeometry(BaseModel):
    """A visual or collision shape: kind, pose in the link frame, and size parameters."""

    model_config = ConfigDict(frozen=True)
    kind: Literal["box", "cylinder", "sphere", "mesh"]
    origin: tuple[tuple[float, ...], ...]
    size: tuple[float, ...] = ()
    filename: str | None = None


class UrdfInertial(BaseModel):
    """A link's ``<inertial>``: what the physics world weighs the link with (read here, once, for every user).

    ``mass`` is None when the element has no ``<mass>`` (the world then gives the link a token mass), and
    ``inertia`` (ixx, iyy, izz, ixy, ixz, iyz in kg m^2, in the ``origin`` frame) None when it has no
    ``<inertia>``; missing attributes read as 0, as URDF consumers commonly read them.
    """

    model_config = ConfigDict(frozen=True)
    mass: float | None
    origin: tuple[tuple[float, ...], ...]
    inertia: tuple[float, float, float, float, float, float] | None = None


class UrdfLink(BaseModel):
    """A link as the URDF gives it: its ``<visual>`` and ``<collision>`` shapes (document order) and inertial."""

    model_config = ConfigDict(frozen=True)
    name: str
    visual: tuple[LinkGeometry, ...] = ()
    collision: tuple[LinkGeometry, ...] = ()
    inertial: UrdfInertial | None = None

    @property
    def geometry(self) -> tuple[LinkGeometry, ...]:
        """Every shape of the link, visual ones first (the mesh files a package must ship)."""
        return (*self.visual, *self.collision)


class UrdfModel(BaseModel):
    """A validated URDF: a tree of links joined by joints, with one root."""

    model_config = ConfigDict(frozen=True)
    path: Path
    name: str
    text: str
    root: str
    links: tuple[UrdfLink, ...]
    joints: tuple[UrdfJoint, ...]
    warnings: tuple[str, ...] = ()

    def link_names(self) -> list[str]:
        return [link.name for link in self.links]

    def joint_names(self) -> list[str]:
        return [joint.name for joint in self.joints]

    # Indices built once per model: a 2000-joint URDF must not turn every lookup into a scan.
    @cached_property
    def _joints_by_name(self) -> dict[str, UrdfJoint]:
        return {joint.name: joint for joint in self.joints}

    @cached_property
    def _links_by_name(self) -> dict[str, UrdfLink]:
        return {link.name: link for link in self.links}

    @cached_property
    def _parent_joint_of(self) -> dict[str, UrdfJoint]:
        return {joint.child: joint for joint in self.joints}

    @cached_property
    def _child_joints_of(self) -> dict[str, list[UrdfJoint]]:
        children: dict[str, list[UrdfJoint]] = {}
        for joint in self.joints:
            children.setdefault(joint.parent, []).append(joint)
        return children

    def joint(self, name: str) -> UrdfJoint:
        return self._joints_by_name[name]

    def link(self, name: str) -> UrdfLink:
        return self._links_by_name[name]

    def parent_joint(self, link: str) -> UrdfJoint | None:
        return self._parent_joint_of.get(link)

    def child_joints(self, link: str) -> list[UrdfJoint]:
        return list(self._child_joints_of.get(link, ()))

    def path_between(self, ancestor: str, link: str) -> list[UrdfJoint] | None:
        """Joints from ``ancestor`` down to ``link`` (root-first), or None if ``ancestor`` is not above it."""
        chain: list[UrdfJoint] = []
        current = link
        while current != ancestor:
            joint = self._parent_joint_of.get(current)
            if joint is None:
                return None
            chain.append(joint)
            current = joint.parent
        return chain[::-1]

    def leaves_below(self, link: str) -> list[str]:
        """Links under ``link`` that have no children (finger ends), in depth-first order."""
        leaves: list[str] = []
        stack = [link]
        while stack:  # iterative: a long chain must not hit Python's recursion limit
            current = stack.pop()
            children = self._child_joints_of.get(current, ())
            if not children:
                leaves.append(current)
            stack.extend(joint.child for joint in reversed(children))
        return leaves

    def links_below(self, link: str) -> list[str]:
        """``link`` and every link under it, depth first."""
        found: list[str] = []
        stack = [link]
        while stack:
            current = stack.pop()
            found.append(current)
            stack.extend(joint.child for joint in reversed(self._child_joints_of.get(current, ())))
        return found

    def resolve_mesh(self, filename: str) -> Path | None:
        """The file a mesh reference points to (``package://``, ``file://`` or relative), or None."""
        return resolve_mesh_path(filename, self.path)


def load_urdf(path: Path | str) -> UrdfModel:
    """Read and validate a URDF file; raise :class:`UrdfError` naming every problem found."""
    path = Path(path)
    if not path.is_file():
        raise UrdfError(path, ["file not found (check the `urdf` field of the manifest or the --urdf path)"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UrdfError(path, [f"cannot be read: {exc.strerror}"]) from None
    return parse_urdf(data, path)


def parse_urdf(data: bytes | str, path: Path | str = "<string>") -> UrdfModel:
    """Validate URDF text (``path`` is only used in messages and to resolve mesh files)."""
    path = Path(path)
    raw = data.encode() if isinstance(data, str) else data
    root_element = _parse_xml(raw, path)
    _check_elements(root_element, path)
    links = _read_links(root_element, path)
    joints_raw = [_read_joint(element) for element in root_element.findall("joint")]
    problems = _check_structure(links, joints_raw)
    if problems:
        raise UrdfError(path, problems)
    joints = tuple(_convert_joint(joint) for joint in joints_raw)
    root = _find_roots([link.name for link in links], joints_raw)[0]
    warnings = tuple(_mesh_warnings(links, path) + _inertia_warnings(links))
    text = raw.decode("utf-8", errors="replace")
    return UrdfModel(
        path=path, name=root_element.get("name"), text=text, root=root, links=links, joints=joints, warnings=warnings
    )


def _parse_xml(raw: bytes, path: Path) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    try:
        root = etree.fromstring(raw, parser=parser)
    except etree.XMLSyntaxError as exc:
        line = f" (line {exc.lineno})" if exc.lineno else ""
        raise UrdfError(path, [f"not valid XML: {exc.msg}{line}"]) from None
    if root.tag != "robot":
        raise UrdfError(path, [f"the root element is <{root.tag}>, a URDF needs <robot>"])
    return root


def _check_elements(root: etree._Element, path: Path) -> None:
    problems: list[str] = []
    if not root.get("name"):
        problems.append("<robot> has no name attribute; add name=\"...\"")
    for element in root.findall("link"):
        if not element.get("name"):
            problems.append(f"line {element.sourceline}: <link> without a name attribute")
    for element in root.findall("joint"):
        problems.extend(_joint_element_problems(element))
    if problems:
        raise UrdfError(path, problems)


def _joint_element_problems(element: etree._Element) -> list[str]:
    name = element.get("name")
    where = f"line {element.sourceline}: joint {name!r}" if name else f"line {element.sourceline}: <joint>"
    problems: list[str] = []
    if not name:
        problems.append(f"{where} without a name attribute")
    joint_type = element.get("type")
    if joint_type is None:
        problems.append(f"{where} has no type; use one of {', '.join(_SUPPORTED_TYPES)}")
    elif joint_type not in _KNOWN_TYPES:
        problems.append(f"{where} has unknown type {joint_type!r}; use one of {', '.join(_SUPPORTED_TYPES)}")
    for tag in ("parent", "child"):
        sub = element.find(tag)
        if sub is None or not sub.get("link"):
            problems.append(f"{where} has no <{tag} link=\"...\"/>")
    for tag, attributes in _VECTOR_ATTRIBUTES.items():
        sub = element.find(tag)
        if sub is None:
            continue
        for attribute in attributes:
            value = sub.get(attribute)
            if value is not None and not _is_float_vector(value, 3):
                problems.append(f"{where}: <{tag} {attribute}=\"{value}\"> needs three numbers")
    limit = element.find("limit")
    if limit is not None:
        for attribute in _LIMIT_ATTRIBUTES:
            value = limit.get(attribute)
            if value is not None and not _is_float_vector(value, 1):
                problems.append(f"{where}: <limit {attribute}=\"{value}\"> is not a number")
    mimic = element.find("mimic")
    if mimic is not None:
        if not mimic.get("joint"):
            problems.append(f"{where}: <mimic> has no joint attribute naming the joint it follows")
        for attribute in _MIMIC_ATTRIBUTES:
            value = mimic.get(attribute)
            if value is not None and not _is_float_vector(value, 1):
                problems.append(f"{where}: <mimic {attribute}=\"{value}\"> is not a number")
    return problems


def _is_float_vector(text: str, count: int) -> bool:
    parts = text.split()
    if len(parts) != count:
        return False
    try:
        return all(math.isfinite(float(part)) for part in parts)
    except ValueError:
        return False


def _find_roots(link_names: list[str], joints: Sequence[_JointElement]) -> list[str]:
    children = {joint.child for joint in joints}
    return [name for name in link_names if name not in children]


def _check_structure(links: tuple[UrdfLink, ...], joints: Sequence[_JointElement]) -> list[str]:
    problems: list[str] = []
    link_names = [link.name for link in links]
    if not link_names:
        return ["the URDF has no <link> elements; a hand needs at least a palm link"]
    problems += [f"duplicate link name {n!r}: link names must be unique" for n in _duplicates(link_names)]
    joint_names = [joint.name for joint in joints]
    problems += [f"duplicate joint name {n!r}: joint names must be unique" for n in _duplicates(joint_names)]
    known_links = set(link_names)
    for joint in joints:
        for role in ("parent", "child"):
            target = getattr(joint, role)
            if target not in known_links:
                problems.append(f"joint {joint.name!r}: {role} link {target!r} is not defined as a <link>")
    parents_of: dict[str, list[str]] = {}
    for joint in joints:
        parents_of.setdefault(joint.child, []).append(joint.name)
    for child, names in parents_of.items():
        if len(names) > 1:
            problems.append(
                f"link {child!r} is the child of several joints ({', '.join(names)}); a link has one parent joint"
            )
    problems += _tree_problems(link_names, joints)
    problems += _joint_problems(joints)
    return problems


def _tree_problems(link_names: list[str], joints: Sequence[_JointElement]) -> list[str]:
    roots = _find_roots(link_names, joints)
    problems: list[str] = []
    if not roots:
        problems.append("every link is some joint's child, so the tree has no root: the joints form a cycle")
    elif len(roots) > 1:
        problems.append(
            f"several root links ({', '.join(roots)}); a hand is one tree: attach them with a fixed joint or remove them"
        )
    children: dict[str, list[str]] = {}
    for joint in joints:
        children.setdefault(joint.parent, []).append(joint.child)
    visited: set[str] = set()
    cycles: list[str] = []
    for start in [*roots, *link_names]:  # iterative depth-first walk: long chains must not recurse 2000 deep
        if start in visited:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            link, depth = stack.pop()
            on_path.difference_update(path[depth:])
            del path[depth:]
            if link in on_path:
                loop = path[path.index(link):]
                cycles.append(" -> ".join([*loop, link]))
                continue
            if link in visited:
                continue
            visited.add(link)
            path.append(link)
            on_path.add(link)
            stack.extend((child, depth + 1) for child in reversed(children.get(link, [])))
    problems += [f"cycle in the kinematic tree: {loop}; a URDF must be a tree" for loop in dict.fromkeys(cycles)]
    return problems


def _joint_problems(joints: Sequence[_JointElement]) -> list[str]:
    problems: list[str] = []
    by_name = {joint.name: joint for joint in joints}
    for joint in joints:
        where = f"joint {joint.name!r}"
        if joint.type in ("floating", "planar"):
            problems.append(f"{where} has type {joint.type}: a {joint.type} base places the hand in a world and is "
                            "not part of the hand; remove it and root the URDF at the hand's base link (xlsdk "
                            f"supports {', '.join(_SUPPORTED_TYPES)})")
            continue
        if joint.type in ("revolute", "prismatic"):
            limit = joint.limit
            if limit is None or limit.lower is None or limit.upper is None:
                problems.append(f"{where} ({joint.type}) has no <limit lower=... upper=...>; add the joint range")
            elif limit.lower > limit.upper:
                problems.append(f"{where}: limit lower {limit.lower} is above upper {limit.upper}; swap them")
        if joint.type != "fixed":
            axis = np.asarray(joint.axis, dtype=np.float64)
            if not np.all(np.isfinite(axis)) or np.linalg.norm(axis) < 1e-9:
                problems.append(f"{where} has a zero-length <axis xyz>; give the rotation/translation direction")
        if joint.mimic is not None:
            target = joint.mimic.joint
            if target == joint.name:
                problems.append(f"{where} mimics itself; name the joint it follows")
            elif target not in by_name:
                problems.append(f"{where} mimics unknown joint {target!r}; fix the <mimic joint=...> name")
            elif by_name[target].type == "fixed":
                problems.append(f"{where} mimics fixed joint {target!r}; a mimic must follow a movable joint")
    cycles = _mimic_cycle_problems(by_name)
    problems += cycles or _mimic_reach_problems(by_name)
    return problems


#: the most a mimic joint may move (rad or m) over its source's range: beyond it a coupling is a typo
MAX_MIMIC_REACH = 100.0


def _mimic_reach_problems(by_name: dict[str, _JointElement]) -> list[str]:
    """Mimic couplings (chains composed) that would move a joint by more than :data:`MAX_MIMIC_REACH`.

    ``multiplier="1e200"`` is a valid number, and two of them chained put a fingertip at infinity; a real
    coupling moves a follower about as far as its source (multipliers near 1), so the bound is generous.
    """
    problems: list[str] = []
    for joint in by_name.values():
        if joint.mimic is None:
            continue
        multiplier, offset, chain, current = 1.0, 0.0, [joint.name], joint
        while current.mimic is not None and current.mimic.joint in by_name:
            multiplier, offset = multiplier * current.mimic.multiplier, multiplier * current.mimic.offset + offset
            current = by_name[current.mimic.joint]
            chain.append(current.name)
        low = current.limit.lower if current.limit is not None and current.limit.lower is not None else -math.pi
        high = current.limit.upper if current.limit is not None and current.limit.upper is not None else math.pi
        reach = abs(multiplier) * max(abs(low), abs(high)) + abs(offset)
        if not math.isfinite(reach) or reach > MAX_MIMIC_REACH:
            through = f" (through {' -> '.join(chain)})" if len(chain) > 2 else ""
            problems.append(f"joint {joint.name!r}: its <mimic> moves it by up to {reach:.3g} over the range of "
                            f"{current.name!r}{through} (multiplier {multiplier:.3g}, offset {offset:.3g}); a coupling "
                            f"beyond {MAX_MIMIC_REACH:g} rad or m is a typo: fix the multiplier/offset")
    return problems


def _mimic_cycle_problems(by_name: dict[str, _JointElement]) -> list[str]:
    problems: list[str] = []
    reported: set[str] = set()
    for name in by_name:
        visited: list[str] = []
        current: str | None = name
        while current is not None and current in by_name and by_name[current].mimic is not None:
            if current in visited:
                loop = visited[visited.index(current):]
                key = min(loop)
                if key not in reported:
                    reported.add(key)
                    problems.append(f"mimic cycle: {' -> '.join([*loop, current])}; one of them must be actuated")
                break
            visited.append(current)
            current = by_name[current].mimic.joint
    return problems


def _duplicates(names: list[str]) -> list[str]:
    seen: set[str] = set()
    duplicated: list[str] = []
    for name in names:
        if name in seen and name not in duplicated:
            duplicated.append(name)
        seen.add(name)
    return duplicated


def _matrix_tuple(matrix: np.ndarray | None) -> tuple[tuple[float, ...], ...]:
    matrix = np.eye(4) if matrix is None else np.asarray(matrix, dtype=np.float64)
    return tuple(tuple(float(v) for v in row) for row in matrix)


def _convert_joint(joint: _JointElement) -> UrdfJoint:
    limit = joint.limit
    axis = joint.axis
    if joint.type != "fixed":
        axis = axis / np.linalg.norm(axis)
    return UrdfJoint(
        name=joint.name,
        type=joint.type,  # type: ignore[arg-type]  # floating/planar were refused by _joint_problems
        parent=joint.parent,
        child=joint.child,
        origin=_matrix_tuple(joint.origin),
        axis=(float(axis[0]), float(axis[1]), float(axis[2])),
        lower=None if limit is None else limit.lower,
        upper=None if limit is None else limit.upper,
        effort=None if limit is None else limit.effort,
        velocity=None if limit is None else limit.velocity,
        mimic=joint.mimic,
    )


@dataclass(frozen=True)
class _Limit:
    lower: float | None
    upper: float | None
    effort: float | None
    velocity: float | None


@dataclass(frozen=True)
class _JointElement:
    """A ``<joint>`` as read from the XML (already checked by :func:`_joint_element_problems`)."""

    name: str
    type: str
    parent: str
    child: str
    origin: np.ndarray | None
    axis: np.ndarray
    limit: _Limit | None
    mimic: Mimic | None


def _number(element: etree._Element, attribute: str) -> float | None:
    value = element.get(attribute)
    return None if value is None else float(value)


def _numbers(text: str) -> list[float]:
    return [float(part) for part in text.replace(",", " ").split()]


def _origin(element: etree._Element | None) -> np.ndarray | None:
    """``<origin xyz rpy>`` as a 4x4 matrix (:func:`xlsdk.transforms.origin_matrix`: its entries feed the digest)."""
    if element is None:
        return None
    return origin_matrix(_numbers(element.get("xyz", "0 0 0")), _numbers(element.get("rpy", "0 0 0")))


def _read_joint(element: etree._Element) -> _JointElement:
    axis_element = element.find("axis")
    axis = np.array(_numbers(axis_element.get("xyz", "1 0 0")) if axis_element is not None else [1.0, 0.0, 0.0])
    limit_element = element.find("limit")
    limit = None if limit_element is None else _Limit(*(_number(limit_element, a) for a in _LIMIT_ATTRIBUTES))
    mimic_element = element.find("mimic")
    mimic = None
    if mimic_element is not None:
        multiplier, offset = _number(mimic_element, "multiplier"), _number(mimic_element, "offset")
        mimic = Mimic(joint=mimic_element.get("joint"), multiplier=1.0 if multiplier is None else multiplier,
                      offset=0.0 if offset is None else offset)
    return _JointElement(
        name=element.get("name"), type=element.get("type"), parent=element.find("parent").get("link"),
        child=element.find("child").get("link"), origin=_origin(element.find("origin")), axis=axis, limit=limit,
        mimic=mimic,
    )


def _read_links(root: etree._Element, path: Path) -> tuple[UrdfLink, ...]:
    """Every ``<link>`` with its visual and collision shapes and its inertial; one UrdfError lists every
    malformed shape or inertial (the physics world builds from these records and parses no XML itself)."""
    links: list[UrdfLink] = []
    problems: list[str] = []
    for element in root.findall("link"):
        shapes: dict[str, list[LinkGeometry]] = {"visual": [], "collision": []}
        for tag, found in shapes.items():
            for holder in element.findall(tag):
                where = f"line {holder.sourceline}: link {element.get('name')!r} <{tag}>"
                try:
                    found.append(_read_shape(holder))
                except (KeyError, ValueError, TypeError) as exc:
                    problems.append(f"{where}: {exc}" if not isinstance(exc, KeyError)
                                    else f"{where}: the shape has no {exc.args[0]} attribute")
        inertial = None
        holder = element.find("inertial")
        if holder is not None:
            try:
                inertial = _read_inertial(holder)
            except ValueError as exc:
                problems.append(f"line {holder.sourceline}: link {element.get('name')!r} <inertial>: {exc}")
        links.append(UrdfLink(name=element.get("name"), visual=tuple(shapes["visual"]),
                              collision=tuple(shapes["collision"]), inertial=inertial))
    if problems:
        raise UrdfError(path, problems)
    return tuple(links)


_INERTIA_ATTRIBUTES = ("ixx", "iyy", "izz", "ixy", "ixz", "iyz")


def _finite(element: etree._Element, attribute: str) -> float:
    """``element``'s ``attribute`` as a finite number (absent: 0); ValueError names the element and the value."""
    text = element.get(attribute, "0")
    if not _is_float_vector(text, 1):
        raise ValueError(f"<{element.tag} {attribute}=\"{text}\"> is not a finite number")
    return float(text)


def _read_inertial(holder: etree._Element) -> UrdfInertial:
    origin_element = holder.find("origin")
    for attribute in ("xyz", "rpy"):
        value = None if origin_element is None else origin_element.get(attribute)
        if value is not None and not _is_float_vector(value, 3):
            raise ValueError(f"<origin {attribute}=\"{value}\"> needs three finite numbers")
    mass_element, inertia_element = holder.find("mass"), holder.find("inertia")
    mass = None if mass_element is None else _finite(mass_element, "value")
    inertia = None if inertia_element is None else tuple(_finite(inertia_element, key) for key in _INERTIA_ATTRIBUTES)
    return UrdfInertial(mass=mass, origin=_matrix_tuple(_origin(origin_element)), inertia=inertia)


#: a shape dimension beyond this (metres) is a unit mistake, not a hand
MAX_SHAPE_SIZE = 1000.0


def _shape_numbers(shape: etree._Element, attribute: str, count: int | tuple[int, ...]) -> list[float]:
    """``<shape attribute="...">`` as ``count`` finite numbers in [0, MAX_SHAPE_SIZE]; ValueError names it."""
    text = shape.attrib[attribute]
    counts = (count,) if isinstance(count, int) else count
    try:
        values = _numbers(text)
    except ValueError:
        values = []
    if len(values) not in counts:
        wanted = " or ".join(("one", "two", "three")[c - 1] for c in counts)
        if shape.tag == "mesh":
            raise ValueError(f"mesh scale {text!r} needs {wanted} numbers")
        raise ValueError(f"<{shape.tag} {attribute}=\"{text}\"> needs {wanted} number{'s' if counts[-1] > 1 else ''}")
    for value in values:
        if shape.tag == "mesh":  # a scale: negative mirrors (left hands), only non-finite is wrong
            if not math.isfinite(value):
                raise ValueError(f"<mesh {attribute}=\"{text}\"> holds {value!r}; a scale is finite numbers")
        elif not math.isfinite(value) or value < 0 or value > MAX_SHAPE_SIZE:
            raise ValueError(f"<{shape.tag} {attribute}=\"{text}\"> holds {value!r}; sizes are finite numbers "
                             f"between 0 and {MAX_SHAPE_SIZE:g} m")
    return values


def _read_shape(holder: etree._Element) -> LinkGeometry:
    geometry = holder.find("geometry")
    if geometry is None or len(geometry) == 0:
        raise ValueError("has no <geometry> with a box, cylinder, sphere or mesh inside")
    shape = geometry[0]
    origin_element = holder.find("origin")
    for attribute in ("xyz", "rpy"):
        value = None if origin_element is None else origin_element.get(attribute)
        if value is not None and not _is_float_vector(value, 3):
            raise ValueError(f"<origin {attribute}=\"{value}\"> needs three finite numbers")
    origin = _matrix_tuple(_origin(origin_element))
    if shape.tag == "box":
        return LinkGeometry(kind="box", origin=origin, size=tuple(_shape_numbers(shape, "size", 3)))
    if shape.tag == "cylinder":
        return LinkGeometry(kind="cylinder", origin=origin, size=(*_shape_numbers(shape, "radius", 1),
                                                                  *_shape_numbers(shape, "length", 1)))
    if shape.tag == "sphere":
        return LinkGeometry(kind="sphere", origin=origin, size=tuple(_shape_numbers(shape, "radius", 1)))
    if shape.tag == "mesh":
        scale = _shape_numbers(shape, "scale", (1, 3)) if shape.get("scale", "").strip() else []
        size = tuple(scale * 3) if len(scale) == 1 else tuple(scale) if scale else (1.0, 1.0, 1.0)
        return LinkGeometry(kind="mesh", origin=origin, size=size, filename=shape.get("filename"))
    raise ValueError(f"unknown shape <{shape.tag}>; use box, cylinder, sphere or mesh")


def _mesh_warnings(links: tuple[UrdfLink, ...], path: Path) -> list[str]:
    warnings: list[str] = []
    for link in links:
        for shape in link.geometry:
            if shape.kind != "mesh" or not shape.filename:
                continue
            if not _mesh_resolves(shape.filename, path):
                warnings.append(
                    f"link {link.name!r}: mesh {shape.filename!r} does not resolve (ignored; kinematics need no meshes)"
                )
    return sorted(set(warnings))


def balance_inertia(tensor: np.ndarray, floor: float = 0.0) -> tuple[np.ndarray, float]:
    """``tensor`` (3x3) as a rigid body's inertia, and the amount added to each principal moment (0: unchanged).

    A rigid body's principal moments satisfy A + B >= C for every ordering (the triangle inequality);
    published URDFs often carry tensors that break it (CAD exports with per-axis rounding, tensors copied
    between links, a rod's moments written about the wrong axis), and MuJoCo refuses to compile them. The
    smallest amount that makes the tensor valid is added to all three principal moments (what MuJoCo's
    ``balanceinertia`` compiler option does), after raising any principal moment below ``floor``: the
    principal axes, the mass and the centre of mass stay as the URDF says. A valid tensor comes back as is.
    """
    symmetric = (tensor + tensor.T) / 2
    moments, axes = np.linalg.eigh(symmetric)
    raised = np.maximum(moments, floor)
    smallest, middle, largest = np.sort(raised)
    shortfall = largest - smallest - middle
    if shortfall <= 0 and np.array_equal(raised, moments):
        return tensor, 0.0
    added = max(shortfall, 0.0) + (1e-6 * largest if shortfall > 0 else 0.0)  # margin over MuJoCo's round-off
    return axes @ np.diag(raised + added) @ axes.T, added


def _inertia_warnings(links: tuple[UrdfLink, ...]) -> list[str]:
    """Links whose ``<inertia>`` is no rigid body's: physics balances it (:func:`balance_inertia`), mass kept."""
    warnings: list[str] = []
    for link in links:
        if link.inertial is None or link.inertial.inertia is None:
            continue
        ixx, iyy, izz, ixy, ixz, iyz = link.inertial.inertia
        tensor = np.array([[ixx, ixy, ixz], [ixy, iyy, iyz], [ixz, iyz, izz]])
        moments = np.sort(np.linalg.eigvalsh(tensor))
        if moments[2] - moments[0] - moments[1] > 1e-6 * max(abs(moments[2]), 1e-300) or moments[0] < 0:
            _, added = balance_inertia(tensor)
            warnings.append(f"link {link.name!r}: its <inertia> is no rigid body's (principal moments "
                            f"{moments[0]:.3g}, {moments[1]:.3g}, {moments[2]:.3g} kg m^2 break A + B >= C); the "
                            f"physics world adds {added:.3g} kg m^2 to each principal moment, mass kept")
    return warnings


def _mesh_resolves(filename: str, urdf_path: Path) -> bool:
    return resolve_mesh_path(filename, urdf_path) is not None


def resolve_mesh_path(filename: str, urdf_path: Path) -> Path | None:
    """Where a mesh reference points, or None when it does not resolve.

    ``package://PKG/rest`` resolves against the URDF's folder tree (no ROS needed): an ancestor folder named
    ``PKG`` holding ``rest``, or any ancestor holding ``PKG/rest``. ``file://`` and plain paths resolve as
    files, relative ones against the URDF's folder.
    """
    if filename.startswith("package://"):
        relative = filename[len("package://"):]
        parts = Path(relative).parts
        if not parts:
            return None
        for ancestor in Path(urdf_path).resolve().parents:
            if ancestor.name == parts[0] and (ancestor.parent / relative).is_file():
                return ancestor.parent / relative
            if (ancestor / relative).is_file():
                return ancestor / relative
        return None
    if filename.startswith("file://"):
        filename = filename[len("file://"):]
    if "://" in filename:
        return None
    candidate = Path(filename)
    if not candidate.is_absolute():
        candidate = Path(urdf_path).parent / candidate
    return candidate if candidate.is_file() else None
