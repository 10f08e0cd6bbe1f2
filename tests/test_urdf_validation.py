"""Every broken URDF in tests/data/broken_urdf gets its own clear message, naming the element at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlsdk.errors import UrdfError
from xlsdk.urdf import load_urdf, parse_urdf

CORPUS = Path(__file__).parent / "data" / "broken_urdf"

# file -> fragments that must all appear in the error message (one problem per fragment)
EXPECTED = {
    "not_xml.urdf": ["not valid XML", "line"],
    "wrong_root.urdf": ["root element is <model>", "<robot>"],
    "no_links.urdf": ["no <link> elements"],
    "several_roots.urdf": ["several root links (palm, stray)"],
    "cycle.urdf": ["cycle in the kinematic tree: a -> b -> a", "link 'a' is the child of several joints (j0, j2)"],
    "joint_without_limits.urdf": ["joint 'j' (revolute) has no <limit lower=... upper=...>"],
    "zero_axis.urdf": ["joint 'j' has a zero-length <axis xyz>"],
    "unknown_mimic_target.urdf": ["joint 'm' mimics unknown joint 'ghost'"],
    "duplicate_link.urdf": ["duplicate link name 'a'"],
    "duplicate_joint.urdf": ["duplicate joint name 'j'"],
    "unknown_child_link.urdf": ["joint 'j': child link 'nowhere' is not defined as a <link>"],
    "bad_number.urdf": ["joint 'j'", "<origin xyz=\"0 zero 0\"> needs three numbers"],
    "unknown_joint_type.urdf": ["joint 'j' has unknown type 'hinge'"],
    "joint_missing_parent_and_type.urdf": ["joint 'j' has no type", "joint 'j' has no <parent link="],
    "mimic_cycle.urdf": ["mimic cycle"],
    "inverted_limits.urdf": ["joint 'j': limit lower 1.0 is above upper 0.0"],
    "floating_joint.urdf": ["joint 'j' has type floating"],
    "two_parents.urdf": ["link 'b' is the child of several joints (j, k)", "several root links (palm, a)"],
    "link_without_name.urdf": ["<link> without a name attribute"],
}


def test_corpus_and_expectations_cover_each_other() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.urdf")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_urdf_message(name: str) -> None:
    path = CORPUS / name
    with pytest.raises(UrdfError) as caught:
        load_urdf(path)
    message = str(caught.value)
    assert str(path) in message, "the message names the file"
    for fragment in EXPECTED[name]:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert "Traceback" not in message


def test_each_problem_is_listed_once() -> None:
    with pytest.raises(UrdfError) as caught:
        load_urdf(CORPUS / "two_parents.urdf")
    assert len(caught.value.problems) == 2


def test_missing_file() -> None:
    with pytest.raises(UrdfError, match="file not found"):
        load_urdf(CORPUS / "does_not_exist.urdf")


def test_unresolved_mesh_is_a_warning_not_an_error(tmp_path: Path) -> None:
    urdf = tmp_path / "meshy.urdf"
    urdf.write_text(
        '<robot name="m"><link name="palm"><visual><geometry><mesh filename="package://nowhere/palm.stl"/>'
        '</geometry></visual></link><link name="a"><visual><geometry><mesh filename="meshes/a.stl"/></geometry>'
        '</visual></link><joint name="j" type="revolute"><parent link="palm"/><child link="a"/>'
        '<axis xyz="1 0 0"/><limit lower="0" upper="1" effort="1" velocity="1"/></joint></robot>'
    )
    (tmp_path / "meshes").mkdir()
    (tmp_path / "meshes" / "a.stl").write_text("solid a\nendsolid a\n")
    model = load_urdf(urdf)
    assert model.warnings == ("link 'palm': mesh 'package://nowhere/palm.stl' does not resolve "
                              "(ignored; kinematics need no meshes)",)
    assert model.root == "palm"


def test_valid_urdf_is_parsed_into_typed_joints() -> None:
    model = parse_urdf(
        '<robot name="ok"><link name="palm"/><link name="a"/><link name="b"/>'
        '<joint name="j" type="revolute"><parent link="palm"/><child link="a"/><origin xyz="0 0 0.1" rpy="0 0 0"/>'
        '<axis xyz="0 0 2"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>'
        '<joint name="m" type="revolute"><parent link="a"/><child link="b"/><axis xyz="0 1 0"/>'
        '<limit lower="-2" upper="2" effort="1" velocity="1"/><mimic joint="j" multiplier="1.5" offset="0.1"/></joint>'
        "</robot>"
    )
    assert model.root == "palm"
    assert model.joint("j").axis == (0.0, 0.0, 1.0), "axes are normalised"
    assert model.joint("m").mimic is not None and model.joint("m").mimic.multiplier == 1.5
    assert [j.name for j in model.path_between("palm", "b")] == ["j", "m"]
    assert model.leaves_below("palm") == ["b"]
