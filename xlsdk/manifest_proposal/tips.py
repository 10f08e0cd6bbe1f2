"""Where a finger's tip is in its tip link's frame: the ``offset`` of ``[fingers.NAME]`` in hand.toml.

A tip frame (a geometry-less leaf) is the tip; else the end of the tip link's primitive geometry along
the finger; else the farthest point of its mesh from its joint (when the mesh file resolves); else the
link origin, with a warning saying how to set ``offset``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xlsdk.manifest import Finger
from xlsdk.manifest_proposal.chains import FingerChain
from xlsdk.manifest_proposal.palm_geometry import unit
from xlsdk.urdf import LinkGeometry, UrdfModel


_TIP_FRAME_MIN = 1e-3  # a geometry-less leaf this far from its parent's origin is a tip frame


#: a mesh vertex beyond this (in the mesh's own units, mm included) is a broken file, not a hand
MAX_MESH_COORDINATE = 1e6


def tip_offset(model: UrdfModel, chain: FingerChain, finger: Finger) -> tuple[tuple[float, float, float], str, str]:
    """The fingertip in the tip link's frame, where it came from, and a warning when it is only a guess."""
    link = model.link(chain.tip_link)
    parent = model.parent_joint(chain.tip_link)
    if not link.geometry and parent is not None and not parent.movable and \
            float(np.linalg.norm(parent.origin_matrix()[:3, 3])) >= _TIP_FRAME_MIN:
        return (0.0, 0.0, 0.0), "the tip frame's origin", ""
    direction = chain.tip_frame[:3, :3].T @ unit(chain.tip - chain.knuckle)  # the finger direction, tip link frame
    point, source = _primitive_end(link.geometry, direction)
    if point is None:
        point, source = _mesh_end(model, link.geometry, direction)
    if point is None:
        warning = (f"{finger} fingertip: link {chain.tip_link!r} has no tip frame, primitive geometry or loadable "
                   f"mesh, so the tip is at its origin (on its joint axis, short of the real fingertip); set `offset` "
                   f"in [fingers.{finger}] of hand.toml to the fingertip in {chain.tip_link}'s frame (metres)")
        return (0.0, 0.0, 0.0), "link origin (no tip frame, primitive geometry or loadable mesh)", warning
    rounded = tuple(0.0 if abs(v) < 1e-9 else round(float(v), 9) for v in point)  # no float dust in hand.toml
    return rounded, source, ""  # type: ignore[return-value]


def _primitive_end(shapes: tuple[LinkGeometry, ...], direction: np.ndarray) -> tuple[np.ndarray | None, str]:
    """The end of the link's primitive geometry (sphere, cylinder, box) along ``direction``."""
    best: np.ndarray | None = None
    source = ""
    for shape in shapes:
        origin = np.asarray(shape.origin)
        center, axes = origin[:3, 3], origin[:3, :3]
        if shape.kind == "sphere":
            point = center + shape.size[0] * direction
        elif shape.kind == "cylinder":
            axis = axes[:, 2]
            sign = 1.0 if axis @ direction >= 0 else -1.0
            point = center + sign * 0.5 * shape.size[1] * axis
        elif shape.kind == "box":
            point = center.copy()
            for k in range(3):
                component = axes[:, k] @ direction
                point += np.sign(component) * 0.5 * shape.size[k] * axes[:, k] * (abs(component) > 0.5)
        else:
            continue
        if best is None or point @ direction > best @ direction:
            best = point
            source = f"end of the tip link's {shape.kind} geometry"
    return best, source


def _mesh_end(model: UrdfModel, shapes: tuple[LinkGeometry, ...],
              direction: np.ndarray) -> tuple[np.ndarray | None, str]:
    """The point of the link's meshes farthest from the link origin (its joint), on the finger's side.

    A distal phalanx's fingertip is the part of its mesh farthest from the joint it turns about; the mean of
    the vertices within 1.5 mm of that distance is the tip (a flat end face gives its centre).
    """
    vertices: list[np.ndarray] = []
    names: list[str] = []
    for shape in shapes:
        if shape.kind != "mesh" or not shape.filename:
            continue
        path = model.resolve_mesh(shape.filename)
        if path is None:
            continue
        points = _mesh_vertices(path)
        if points is None or not len(points):
            continue
        points = points * np.asarray(shape.size or (1.0, 1.0, 1.0))
        origin = np.asarray(shape.origin)
        vertices.append(points @ origin[:3, :3].T + origin[:3, 3])
        names.append(Path(shape.filename).name)
    if not vertices:
        return None, ""
    points = np.concatenate(vertices)
    ahead = points[points @ direction > 0]
    points = ahead if len(ahead) else points
    distance = np.linalg.norm(points, axis=1)
    tip = points[distance >= distance.max() - 1.5e-3].mean(axis=0)
    return tip, f"farthest point of mesh {', '.join(names)} from the joint"


def _mesh_vertices(path: Path) -> np.ndarray | None:
    import trimesh

    try:
        loaded = trimesh.load(str(path), force="mesh", process=False)
    except Exception:  # an unreadable mesh is only a lost hint: the next fallback takes over
        return None
    vertices = getattr(loaded, "vertices", None)
    if vertices is None:
        return None
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.size and not (np.all(np.isfinite(vertices)) and np.abs(vertices).max() <= MAX_MESH_COORDINATE):
        return None  # NaN or 1e300 vertices are no fingertip either: the next fallback takes over
    return vertices
