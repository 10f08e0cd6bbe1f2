"""The import corpus: `xlsdk new-hand --yes` on hands in real vendor styles proposes the right manifest.

Each hand of ``tests/data/hands/`` (see ``build_corpus.py`` there) scaffolds in-process through
``xlsdk.cli.main``; the written ``hand.toml`` must match ``expected.toml``, written from the models' facts:
fingers -> tip links, handedness, actuated joints, the arm/wrist joints skipped, mesh fingertips.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from xlsdk.cli import main
from xlsdk.errors import UrdfError
from xlsdk.robot_description import load_robot_description, mjcf_to_urdf
from xlsdk.urdf import load_urdf, parse_urdf
from xlsdk.manifest_proposal import finger_order_problems, fingers_in_name, name_tokens, propose_manifest

HANDS = Path(__file__).parent / "data" / "hands"
EXPECTED = tomllib.loads((HANDS / "expected.toml").read_text(encoding="utf-8"))


def test_the_corpus_is_large_enough_and_every_file_is_expected() -> None:
    assert len(EXPECTED) >= 15
    described = {entry["file"] for entry in EXPECTED.values()}
    on_disk = {str(p.relative_to(HANDS)) for p in HANDS.rglob("*") if p.suffix in (".urdf", ".xacro", ".xml")}
    assert on_disk == described


@pytest.mark.parametrize("hand", sorted(EXPECTED))
def test_new_hand_proposes_the_expected_manifest(hand: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = EXPECTED[hand]
    out = tmp_path / "plugin"
    code = main(["new-hand", f"corpus_{hand}", "--urdf", str(HANDS / expected["file"]), "--yes", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    manifest = tomllib.loads((out / f"xlsdk_corpus_{hand}" / "hand.toml").read_text(encoding="utf-8"))

    assert manifest["palm_link"] == expected["palm"]
    tips = {finger: table["link"] for finger, table in manifest["fingers"].items()}
    unordered = expected.get("unordered", [])
    if unordered:  # a mirror-symmetric gripper: these fingers may come in either order
        assert {tips[f] for f in unordered} == {expected["fingers"][f] for f in unordered}
        tips = {f: link for f, link in tips.items() if f not in unordered}
        assert tips == {f: link for f, link in expected["fingers"].items() if f not in unordered}
    else:
        assert tips == expected["fingers"]
    if expected["handedness"] != "any":
        assert manifest["handedness"] == expected["handedness"]
    assert sorted(manifest["joints"]) == sorted(expected["joints"])
    model = load_urdf(out / f"xlsdk_corpus_{hand}" / manifest["urdf"])
    order = {name: i for i, name in enumerate(model.joint_names())}
    assert manifest["joints"] == sorted(manifest["joints"], key=order.__getitem__), "command order is URDF order"
    for joint in expected.get("skipped", []):
        assert joint in printed.out, f"new-hand does not list skipped joint {joint}"
        assert joint not in manifest["joints"]
    for finger, offset in expected.get("offsets", {}).items():
        assert manifest["fingers"][finger]["offset"] == pytest.approx(offset, abs=1e-3), finger
    _, source = load_robot_description(HANDS / expected["file"])
    assert len(model.warnings) == len(source.warnings), "the plugin's URDF finds the meshes its source found"
    # what `xlsdk check` (check `fingers`) runs on the installed plugin: the proposal conforms
    tips = {finger: table["link"] for finger, table in manifest["fingers"].items()}
    assert finger_order_problems(model, manifest["palm_link"], tips, manifest["handedness"])[0] == []


def test_mjcf_conversion_keeps_mujocos_kinematics() -> None:
    """The converted URDF's links sit where MuJoCo puts the bodies, at random joint values."""
    import mujoco

    from xlsdk.transforms import joint_motion

    path = HANDS / "mjcf_hand.xml"
    mj = mujoco.MjModel.from_xml_path(str(path))
    data = mujoco.MjData(mj)
    description = mjcf_to_urdf(path)
    model = parse_urdf(description.text, path)
    assert "mimic" in description.text and description.note.startswith("converted from MJCF")
    rng = np.random.default_rng(0)
    for _ in range(3):
        values = {}
        for j in range(mj.njnt):
            low, high = mj.jnt_range[j]
            values[mujoco.mj_id2name(mj, mujoco.mjtObj.mjOBJ_JOINT, j)] = float(rng.uniform(low, high))
        for joint in model.joints:  # the equalities hold the followers
            if joint.mimic is not None:
                values[joint.name] = joint.mimic.multiplier * values[joint.mimic.joint] + joint.mimic.offset
        for j in range(mj.njnt):
            data.qpos[mj.jnt_qposadr[j]] = values[mujoco.mj_id2name(mj, mujoco.mjtObj.mjOBJ_JOINT, j)]
        mujoco.mj_kinematics(mj, data)
        palm = mujoco.mj_name2id(mj, mujoco.mjtObj.mjOBJ_BODY, "palm")
        world_palm = np.eye(4)
        world_palm[:3, :3], world_palm[:3, 3] = data.xmat[palm].reshape(3, 3), data.xpos[palm]
        transforms = {model.root: np.eye(4)}
        for joint in model.joints:  # parents come before children in the converted file
            q = values.get(joint.name, 0.0) if joint.movable else 0.0
            transforms[joint.child] = transforms[joint.parent] @ joint.origin_matrix() @ joint_motion(joint.type, joint.axis, q)
        for body in ("ff_distal", "mf_medial", "th_distal", "rf_proximal"):
            b = mujoco.mj_name2id(mj, mujoco.mjtObj.mjOBJ_BODY, body)
            mine = world_palm @ transforms[body]
            np.testing.assert_allclose(mine[:3, 3], data.xpos[b], atol=1e-9)
            np.testing.assert_allclose(mine[:3, :3], data.xmat[b].reshape(3, 3), atol=1e-9)


def test_mjcf_free_and_ball_joints_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "floating.xml"
    path.write_text('<mujoco><worldbody><body name="hand"><freejoint name="float"/><geom size="0.01"/>'
                    '<body name="f" pos="0 0 0.1"><joint name="ball" type="ball"/><geom size="0.01"/></body>'
                    '</body></worldbody></mujoco>')
    with pytest.raises(UrdfError) as caught:
        mjcf_to_urdf(path)
    message = str(caught.value)
    assert "joint 'float' is a free joint (a floating base)" in message and "remove the free joint" in message
    assert "joint 'ball' is a ball joint" in message


def test_mjcf_scene_keeps_the_hand_and_drops_the_objects(tmp_path: Path) -> None:
    """A scene file (hand + a free-floating cube + a table) converts the hand's tree only, and says so."""
    hand = (HANDS / "mjcf_hand.xml").read_text()
    scene = hand.replace("<worldbody>", '<worldbody><geom name="table" type="plane" size="1 1 0.1"/>'
                         '<body name="cube" pos="0.3 0 0.05"><freejoint name="cube_free"/>'
                         '<geom type="box" size="0.02 0.02 0.02"/></body>')
    path = tmp_path / "scene.xml"
    path.write_text(scene)
    description, model = load_robot_description(path)
    assert "cube" not in model.link_names() and "palm" in model.link_names()
    assert any("dropped other worldbody bodies: cube" in note for note in description.conversion_notes)
    assert len(propose_manifest(model).joints) == len(EXPECTED["mjcf_hand"]["joints"])


def test_floating_base_urdf_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    text = (HANDS / "numbered16.urdf").read_text()
    text = text.replace('<link name="palm_link">', '<link name="world"/><link name="palm_link">').replace(
        "</robot>", '<joint name="base_float" type="floating"><parent link="world"/><child link="palm_link"/></joint>'
                    "</robot>")
    path = tmp_path / "floating.urdf"
    path.write_text(text)
    code = main(["new-hand", "floating_hand", "--urdf", str(path), "--yes", "--out", str(tmp_path / "out")])
    assert code == 1
    with pytest.raises(UrdfError, match="joint 'base_float' has type floating: a floating base places the hand"):
        load_urdf(path)
    assert not (tmp_path / "out").exists()


def test_a_bare_two_jaw_gripper_keeps_both_jaws(tmp_path: Path) -> None:
    """A jaw whose joint drives the other jaw through <mimic> is a finger, not a palm-mounted driver."""
    path = tmp_path / "jaws.urdf"
    path.write_text(
        '<robot name="jaws"><link name="base"/><link name="left"/><link name="right"/>'
        '<joint name="left_slide" type="prismatic"><parent link="base"/><child link="left"/><origin xyz="-0.02 0 0.05"/>'
        '<axis xyz="1 0 0"/><limit lower="0" upper="0.02" effort="1" velocity="1"/></joint>'
        '<joint name="right_slide" type="prismatic"><parent link="base"/><child link="right"/>'
        '<origin xyz="0.02 0 0.05"/><axis xyz="-1 0 0"/><limit lower="0" upper="0.02" effort="1" velocity="1"/>'
        '<mimic joint="left_slide"/></joint></robot>')
    proposal = propose_manifest(load_urdf(path))
    assert {chain.tip_link for chain in proposal.chains} == {"left", "right"}
    assert proposal.joints == ("left_slide",) and proposal.mimic_joints == ("right_slide",)


def test_continuous_finger_joints_get_a_proposed_range(tmp_path: Path) -> None:
    """A vendor's continuous joint gets [limits] in the proposal, so new-hand accepts its own manifest."""
    text = (HANDS / "numbered20.urdf").read_text()
    start = text.index('<joint name="rj_dg_2_4" type="revolute"')
    end = text.index("</joint>", start)
    joint = text[start:end].replace('type="revolute"', 'type="continuous"').replace(
        '<limit lower="-1.57" upper="1.57" effort="1" velocity="3"/>', '<limit effort="1" velocity="3"/>')
    text = text[:start] + joint + text[end:]
    path = tmp_path / "continuous.urdf"
    path.write_text(text)
    assert main(["new-hand", "continuous_hand", "--urdf", str(path), "--yes", "--out", str(tmp_path / "out")]) == 0
    manifest = tomllib.loads((tmp_path / "out" / "xlsdk_continuous_hand" / "hand.toml").read_text())
    assert manifest["limits"]["rj_dg_2_4"] == {"lower": pytest.approx(-np.pi), "upper": pytest.approx(np.pi)}


def test_bad_xacro_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.urdf.xacro"
    path.write_text('<robot name="r" xmlns:xacro="http://www.ros.org/wiki/xacro"><link name="${undefined_value}"/>'
                    "</robot>")
    with pytest.raises(UrdfError, match="broken.urdf.xacro: xacro could not expand the file"):
        load_robot_description(path)


def test_unresolved_distal_meshes_fall_back_to_the_link_origin_with_a_warning(tmp_path: Path) -> None:
    """Without the mesh files the leap-style fingertips are at the link origin, and each finger says so."""
    shutil.copy(HANDS / "leap16" / "urdf" / "leap16.urdf", tmp_path / "leap16.urdf")
    proposal = propose_manifest(load_urdf(tmp_path / "leap16.urdf"))
    assert all(chain.offset == (0.0, 0.0, 0.0) for chain in proposal.chains)
    assert len(proposal.warnings) == 4
    index_warning = next(w for w in proposal.warnings if w.startswith("index fingertip"))
    assert "link 'fingertip'" in index_warning and "set `offset` in [fingers.index] of hand.toml" in index_warning


def test_names_win_over_geometry_and_the_disagreement_is_reported(tmp_path: Path) -> None:
    """Swap the Index/Middle names of split_palm: the names are followed, and a note says geometry disagrees."""
    text = (HANDS / "split_palm.urdf").read_text()
    swapped = text.replace("Index", "TEMP").replace("Middle", "Index").replace("TEMP", "Middle")
    swapped = swapped.replace("IndexMid", "MiddleMid")
    path = tmp_path / "swapped.urdf"
    path.write_text(swapped)
    proposal = propose_manifest(load_urdf(path))
    assert proposal.fingers["index"].tip_link == "IndexTip" and proposal.fingers["middle"].tip_link == "MiddleTip"
    index_chain = proposal.fingers["index"]
    assert index_chain.named == "index" and index_chain.geometric == "middle"
    assert any("names and geometry disagree" in note and "'IndexTip'" in note and "used the names" in note
               for note in proposal.notes)


def test_finger_order_check_flags_contradicting_manifests() -> None:
    """What `xlsdk check` runs: a manifest swapping index and middle, or naming a left hand right, fails."""
    numbered = load_urdf(HANDS / "numbered16.urdf")
    right = {"thumb": "link_15.0_tip", "index": "link_3.0_tip", "middle": "link_7.0_tip", "ring": "link_11.0_tip"}
    assert finger_order_problems(numbered, "palm_link", right, "right")[0] == []
    swapped = {**right, "index": "link_7.0_tip", "middle": "link_3.0_tip"}
    problems, _ = finger_order_problems(numbered, "palm_link", swapped, "right")
    assert any("fingers.index (link 'link_7.0_tip') sits where the geometry puts the middle finger" in p
               for p in problems)
    problems, _ = finger_order_problems(numbered, "palm_link", right, "left")
    assert any("handedness = 'left'" in p for p in problems)
    shadow = load_urdf(HANDS / "five22.urdf")
    named = {"thumb": "rh_thtip", "index": "rh_mftip", "middle": "rh_fftip"}
    problems, _ = finger_order_problems(shadow, "rh_palm", named, "right")
    assert any("fingers.index (link 'rh_mftip') is on the chain whose link/joint names say middle" in p
               for p in problems)


def test_the_fingers_check_passes_on_the_reference_hands() -> None:
    from xlsdk.conformance import CHECK_NAMES, run_check

    assert "fingers" in CHECK_NAMES
    result = run_check("inspire", "fingers")
    assert result.passed and "finger order matches" in result.message, result.explain()


def test_name_tokens_and_finger_names() -> None:
    assert name_tokens("rh_FFJ3") == ["rh", "ffj"]
    assert name_tokens("IndexProximalLink") == ["index", "proximal", "link"]
    assert fingers_in_name("rh_ffmiddle") == {"index"}  # the first finger's middle phalanx
    assert fingers_in_name("R_pinky_intermediate") == {"little"}
    assert fingers_in_name("thumb_fingertip") == {"thumb"}
    assert fingers_in_name("rh_THJ5") == {"thumb"}
    assert fingers_in_name("forefinger_tip") == {"index"} and fingers_in_name("rh_forearm") == set()
    for numbered in ("link_3.0", "joint_12.0", "finger_0", "f1_link", "rl_dg_2_tip", "bh_finger_33_link"):
        assert fingers_in_name(numbered) == set(), numbered


def test_a_2000_joint_urdf_is_proposed_in_linear_time(tmp_path: Path) -> None:
    """issue 15 item 16: a long arm above a hand and long finger chains (2000 joints) propose correctly."""
    links = ['<link name="l0"/>']
    joints = []
    parent = "l0"

    def revolute(name: str, parent: str, child: str, xyz: str, axis: str, lower: float, upper: float) -> None:
        joints.append(f'<joint name="{name}" type="revolute"><parent link="{parent}"/><child link="{child}"/>'
                      f'<origin xyz="{xyz}"/><axis xyz="{axis}"/><limit lower="{lower}" upper="{upper}" effort="1" '
                      'velocity="1"/></joint>')

    for k in range(1400):  # the arm
        links.append(f'<link name="a{k}"/>')
        revolute(f"arm{k}", parent, f"a{k}", "0 0 0.0001", "0 0 1" if k % 2 else "0 1 0", -0.1, 0.1)
        parent = f"a{k}"
    links.append('<link name="palm"/>')
    joints.append(f'<joint name="mount" type="fixed"><parent link="{parent}"/><child link="palm"/></joint>')
    fingers = {"thumb": ("-0.03 0.02 0.02", "-1 0 0.3"), "index": ("-0.02 0 0.09", "0 0 1"),
               "middle": ("0 0 0.095", "0 0 1"), "ring": ("0.02 0 0.09", "0 0 1")}
    for finger, (base, _) in fingers.items():
        parent = "palm"
        for k in range(150):
            child = f"{finger}_{k}"
            links.append(f'<link name="{child}"/>')
            step = base if k == 0 else ("-0.0003 0 0.0001" if finger == "thumb" else "0 0 0.0004")
            revolute(f"{finger}_j{k}", parent, child, step, "-1 0 0" if finger != "thumb" else "0 0 1", 0.0, 0.02)
            parent = child
        links.append(f'<link name="{finger}_tip"/>')
        joints.append(f'<joint name="{finger}_tip_joint" type="fixed"><parent link="{parent}"/>'
                      f'<child link="{finger}_tip"/><origin xyz="0 0 0.005"/></joint>')
    path = tmp_path / "long.urdf"
    path.write_text('<robot name="long">' + "".join(links + joints) + "</robot>")
    model = load_urdf(path)
    assert sum(j.movable for j in model.joints) == 2000
    proposal = propose_manifest(model)
    assert proposal.palm_link == "palm"
    assert {f: c.tip_link for f, c in proposal.fingers.items()} == {f: f"{f}_tip" for f in fingers}
    assert len(proposal.joints) == 600 and len(proposal.skipped_joints) == 1400


def test_the_tutorials_mjcf_and_xacro_examples_scaffold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """docs/tutorials/add-your-hand.md shows an MJCF and a xacro hand and the commands: they work as printed."""
    import re
    import shlex

    page = (Path(__file__).parents[1] / "docs" / "tutorials" / "add-your-hand.md").read_text(encoding="utf-8")
    sources = re.findall(r"`(my_\w+\.(?:xml|urdf\.xacro))`[^`]*?:\n\n```xml\n(.*?)```", page, re.S)
    assert [name for name, _ in sources] == ["my_mjcf_hand.xml", "my_xacro_hand.urdf.xacro"]
    for name, text in sources:
        (tmp_path / name).write_text(text, encoding="utf-8")
    lines = [line for line in re.findall(r"<!-- illustrative -->\s*\n```bash\n(.*?)```", page, re.S)[-1].splitlines()
             if line.startswith("xlsdk new-hand my_")]
    assert len(lines) == 2
    monkeypatch.chdir(tmp_path)
    for line in lines:
        assert main(shlex.split(line)[1:]) == 0, capsys.readouterr().err
    mjcf = tomllib.loads((tmp_path / "xlsdk-my-mjcf-hand" / "xlsdk_my_mjcf_hand" / "hand.toml").read_text())
    assert {f: t["link"] for f, t in mjcf["fingers"].items()} == {
        "thumb": "thumb_distal", "index": "index_distal", "middle": "middle_distal"}
    assert mjcf["joints"] == ["index_mcp", "middle_mcp", "middle_pip", "thumb_cmc", "thumb_ip"]  # index_pip: mimic
    converted = (tmp_path / "xlsdk-my-mjcf-hand" / "xlsdk_my_mjcf_hand" / "urdf" / "my_mjcf_hand.urdf").read_text()
    assert '<mimic joint="index_mcp" multiplier="0.9"' in converted
    xacro = tomllib.loads((tmp_path / "xlsdk-my-xacro-hand" / "xlsdk_my_xacro_hand" / "hand.toml").read_text())
    assert {f: t["link"] for f, t in xacro["fingers"].items()} == {
        "thumb": "thumb_tip", "index": "index_tip", "middle": "middle_tip"}
    assert xacro["handedness"] == mjcf["handedness"] == "right"


def _reframe(text: str, seed: int) -> str:
    """The same hand with every link's frame turned by a random rotation (kinematics unchanged).

    Vendors pick arbitrary link frames; the proposal must not depend on them: each joint origin becomes
    R_parent^T T R_child, each axis R_child^T axis, each visual/collision origin R_link^T G.
    """
    from lxml import etree

    from xlsdk.kinematics import rpy_matrix

    def rotation(rng: np.random.Generator) -> np.ndarray:
        q, r = np.linalg.qr(rng.normal(size=(3, 3)))
        q = q * np.sign(np.diag(r))
        return q if np.linalg.det(q) > 0 else -q

    def rpy(matrix: np.ndarray) -> tuple[float, float, float]:
        pitch = float(np.arcsin(-np.clip(matrix[2, 0], -1.0, 1.0)))
        return float(np.arctan2(matrix[2, 1], matrix[2, 2])), pitch, float(np.arctan2(matrix[1, 0], matrix[0, 0]))

    def read(element: etree._Element | None) -> np.ndarray:
        out = np.eye(4)
        if element is not None:
            out[:3, :3] = np.asarray(rpy_matrix(tuple(float(v) for v in element.get("rpy", "0 0 0").split())))
            out[:3, 3] = [float(v) for v in element.get("xyz", "0 0 0").split()]
        return out

    def write(parent: etree._Element, matrix: np.ndarray) -> None:
        element = parent.find("origin")
        if element is None:
            element = etree.SubElement(parent, "origin")
        element.set("xyz", " ".join(repr(float(v)) for v in matrix[:3, 3]))
        element.set("rpy", " ".join(repr(v) for v in rpy(matrix[:3, :3])))

    rng = np.random.default_rng(seed)
    root = etree.fromstring(text.encode())
    turn = {link.get("name"): rotation(rng) for link in root.findall("link")}
    for link in root.findall("link"):
        r = np.eye(4)
        r[:3, :3] = turn[link.get("name")]
        for shape in [*link.findall("visual"), *link.findall("collision")]:
            write(shape, np.linalg.inv(r) @ read(shape.find("origin")))
    for joint in root.findall("joint"):
        parent = np.eye(4)
        parent[:3, :3] = turn[joint.find("parent").get("link")]
        child = np.eye(4)
        child[:3, :3] = turn[joint.find("child").get("link")]
        write(joint, np.linalg.inv(parent) @ read(joint.find("origin")) @ child)
        axis = joint.find("axis")
        if axis is not None:
            vector = child[:3, :3].T @ np.array([float(v) for v in axis.get("xyz").split()])
            axis.set("xyz", " ".join(repr(float(v)) for v in vector))
    return etree.tostring(root, encoding="unicode")


@pytest.mark.parametrize("hand", ["numbered16", "five22_left", "leap16", "inspire_mimic", "numbered20_left",
                                  "svh_palm_mimic"])
def test_proposal_does_not_depend_on_link_frame_conventions(hand: str, tmp_path: Path) -> None:
    shutil.copytree(HANDS, tmp_path / "hands")  # the copy keeps the meshes resolving next to the reframed file
    source = tmp_path / "hands" / EXPECTED[hand]["file"]
    reference = propose_manifest(load_urdf(source))
    path = source.parent / f"reframed_{source.name}"
    path.write_text(_reframe(source.read_text(), seed=len(hand)))
    proposal = propose_manifest(load_urdf(path))
    assert {f: c.tip_link for f, c in proposal.fingers.items()} == {f: c.tip_link for f, c in reference.fingers.items()}
    assert proposal.handedness == reference.handedness == EXPECTED[hand]["handedness"]
    assert proposal.joints == reference.joints
    assert proposal.palm_rpy != reference.palm_rpy, "the palm link's frame did turn"
