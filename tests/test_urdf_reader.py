"""xlsdk reads URDFs with lxml alone (no yourdfpy/trimesh at startup): it must read what yourdfpy reads.

Every URDF in the repository (reference plugins, the canonical hand, the import corpus) is read by
:func:`xlsdk.urdf.load_urdf` and, independently, by yourdfpy; links, shapes and joints (origins bit for
bit, so kinematic digests and the fitted heads recorded against them are unchanged) must agree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yourdfpy

from xlsdk.urdf import UrdfInertial, load_urdf, parse_urdf

ROOT = Path(__file__).resolve().parents[1]
URDFS = sorted({*ROOT.glob("plugins/*/*/urdf/*.urdf"), *ROOT.glob("xlsdk/canonical/*.urdf"),
                *ROOT.glob("tests/data/hands/**/*.urdf")})


def _matrix(matrix: np.ndarray | None) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in (np.eye(4) if matrix is None else matrix))


def _yourdfpy_joints(model: yourdfpy.URDF) -> list[dict]:
    joints = []
    for joint in model.robot.joints:
        axis = np.asarray(joint.axis if joint.axis is not None else (1.0, 0.0, 0.0), dtype=np.float64)
        if joint.type != "fixed":
            axis = axis / np.linalg.norm(axis)
        limit = joint.limit
        joints.append({
            "name": joint.name, "type": joint.type, "parent": joint.parent, "child": joint.child,
            "origin": _matrix(joint.origin), "axis": tuple(float(v) for v in axis),
            "limits": None if limit is None else (limit.lower, limit.upper, limit.effort, limit.velocity),
            "mimic": None if joint.mimic is None else (joint.mimic.joint, float(joint.mimic.multiplier),
                                                       float(joint.mimic.offset)),
        })
    return joints


def _yourdfpy_shapes(elements: list) -> list[tuple]:
    shapes = []
    for element in elements:
        geometry, origin = element.geometry, _matrix(element.origin)
        if geometry.box is not None:
            shapes.append(("box", origin, tuple(float(v) for v in geometry.box.size), None))
        elif geometry.cylinder is not None:
            shapes.append(("cylinder", origin, (geometry.cylinder.radius, geometry.cylinder.length), None))
        elif geometry.sphere is not None:
            shapes.append(("sphere", origin, (geometry.sphere.radius,), None))
        elif geometry.mesh is not None:
            scale = geometry.mesh.scale
            size = tuple(float(v) for v in np.broadcast_to(np.asarray(1.0 if scale is None else scale), (3,)))
            shapes.append(("mesh", origin, size, geometry.mesh.filename))
    return shapes


def _inertial(inertial: UrdfInertial | None) -> tuple | None:
    if inertial is None:
        return None
    tensor = None
    if inertial.inertia is not None:
        ixx, iyy, izz, ixy, ixz, iyz = inertial.inertia
        tensor = ((ixx, ixy, ixz), (ixy, iyy, iyz), (ixz, iyz, izz))
    return inertial.mass, inertial.origin, tensor


def _yourdfpy_inertial(inertial: yourdfpy.Inertial | None) -> tuple | None:
    if inertial is None:
        return None
    tensor = None if inertial.inertia is None else tuple(tuple(float(v) for v in row) for row in inertial.inertia)
    return inertial.mass, _matrix(inertial.origin), tensor


def test_the_corpus_is_there() -> None:
    assert len(URDFS) >= 10


@pytest.mark.parametrize("path", URDFS, ids=lambda p: str(p.relative_to(ROOT)))
def test_reads_every_repository_urdf_like_yourdfpy(path: Path) -> None:
    ours = load_urdf(path)
    theirs = yourdfpy.URDF.load(str(path), build_scene_graph=False, load_meshes=False)
    assert ours.name == theirs.robot.name
    assert [link.name for link in ours.links] == [link.name for link in theirs.robot.links]
    for link, reference in zip(ours.links, theirs.robot.links, strict=True):
        for ours_shapes, their_shapes in ((link.visual, reference.visuals), (link.collision, reference.collisions)):
            assert [(s.kind, s.origin, s.size, s.filename) for s in ours_shapes] == _yourdfpy_shapes(their_shapes)
        assert _inertial(link.inertial) == _yourdfpy_inertial(reference.inertial), link.name
    read = [{"name": j.name, "type": j.type, "parent": j.parent, "child": j.child, "origin": j.origin, "axis": j.axis,
             "limits": None if j.lower is None and j.upper is None and j.effort is None and j.velocity is None
             else (j.lower, j.upper, j.effort, j.velocity),
             "mimic": None if j.mimic is None else (j.mimic.joint, j.mimic.multiplier, j.mimic.offset)}
            for j in ours.joints]
    expected = _yourdfpy_joints(theirs)
    for joint, reference in zip(read, expected, strict=True):
        if reference["limits"] is not None and joint["limits"] is None:
            joint["limits"] = (None, None, None, None)  # an empty <limit/>
        assert joint == reference
        for row, reference_row in zip(joint["origin"], reference["origin"], strict=True):  # signed zeros too
            assert [np.signbit(v) for v in row] == [np.signbit(v) for v in reference_row]


@pytest.mark.parametrize("shape, problem", [
    ("<box/>", "the shape has no size attribute"),
    ('<cylinder radius="0.01"/>', "the shape has no length attribute"),
    ('<mesh filename="a.stl" scale="1 2"/>', "mesh scale '1 2' needs one or three numbers"),
    ('<cone radius="1"/>', "unknown shape <cone>"),
    ("", "has no <geometry>"),
])
def test_a_malformed_shape_names_its_link_and_line(shape: str, problem: str) -> None:
    from xlsdk.errors import UrdfError

    text = f'<robot name="r"><link name="palm"><visual><geometry>{shape}</geometry></visual></link></robot>'
    with pytest.raises(UrdfError, match=problem) as caught:
        parse_urdf(text, "hand.urdf")
    assert "link 'palm' <visual>" in str(caught.value) and "line 1" in str(caught.value)


def test_a_link_carries_its_visual_collision_and_inertial() -> None:
    """What the physics world builds from: shapes split by role in document order, the inertial in its frame."""
    text = ('<robot name="r"><link name="palm">'
            '<collision><geometry><box size="0.1 0.02 0.08"/></geometry></collision>'
            '<visual><origin xyz="0 0 0.01"/><geometry><mesh filename="palm.stl" scale="0.001"/></geometry></visual>'
            '<collision><origin rpy="0 1.5707963 0"/><geometry><cylinder radius="0.01" length="0.05"/></geometry>'
            '</collision><inertial><origin xyz="0 0 0.04"/><mass value="0.4"/><inertia ixx="1e-4" iyy="2e-4" '
            'izz="3e-4"/></inertial></link><link name="bare"><inertial><origin xyz="0 0 0"/></inertial></link>'
            '<joint name="j" type="fixed"><parent link="palm"/><child link="bare"/></joint></robot>')
    palm, bare = parse_urdf(text, "hand.urdf").links
    assert [s.kind for s in palm.visual] == ["mesh"] and [s.kind for s in palm.collision] == ["box", "cylinder"]
    assert palm.visual[0].size == (0.001, 0.001, 0.001) and palm.visual[0].origin[2][3] == 0.01
    assert palm.collision[1].size == (0.01, 0.05)
    assert palm.geometry == (*palm.visual, *palm.collision)
    assert palm.inertial.mass == 0.4 and palm.inertial.origin[2][3] == 0.04
    assert palm.inertial.inertia == (1e-4, 2e-4, 3e-4, 0.0, 0.0, 0.0), "missing products read as 0"
    assert bare.inertial.mass is None and bare.inertial.inertia is None, "no <mass>: the world's token mass"


@pytest.mark.parametrize("inertial, problem", [
    ('<mass value="heavy"/>', '<mass value="heavy"> is not a finite number'),
    ('<mass value="0.1"/><inertia ixx="nan" iyy="1" izz="1"/>', '<inertia ixx="nan"> is not a finite number'),
    ('<origin xyz="0 0"/><mass value="0.1"/>', '<origin xyz="0 0"> needs three finite numbers'),
])
def test_a_malformed_inertial_names_its_link_and_line(inertial: str, problem: str) -> None:
    """Checked where the URDF is read, not when a physics world is first built from it."""
    from xlsdk.errors import UrdfError

    text = f'<robot name="r"><link name="palm">\n<inertial>{inertial}</inertial></link></robot>'
    with pytest.raises(UrdfError) as caught:
        parse_urdf(text, "hand.urdf")
    assert problem in str(caught.value)
    assert "line 2: link 'palm' <inertial>" in str(caught.value)


def test_reading_a_urdf_imports_no_yourdfpy() -> None:
    import subprocess
    import sys

    code = ("import sys; from xlsdk.urdf import load_urdf; load_urdf(sys.argv[1]); "
            "bad = [m for m in ('yourdfpy', 'trimesh', 'torch') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code, str(URDFS[0])], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
