"""The side of a hand comes from its chirality, whatever axes the vendor gave the palm link (issue 27).

Every right and left import-corpus hand (five-, four- and three-finger) is written again under each of the
24 proper rotations of its palm link's frame (the hand itself unchanged: the palm's children and its own
geometry re-expressed in the turned axes), and with its palm link renamed after the thumb or the wrist;
each version must be proposed with its side and its fingers. The expectations are ``expected.toml``'s,
written from how each hand was built.
"""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from xlsdk.transforms import rpy_matrix
from xlsdk.urdf import load_urdf, parse_urdf
from xlsdk.manifest_proposal import propose_manifest

HANDS = Path(__file__).parent / "data" / "hands"
EXPECTED = tomllib.loads((HANDS / "expected.toml").read_text(encoding="utf-8"))
SIDED = sorted(name for name, entry in EXPECTED.items()
               if entry["handedness"] != "any" and entry["file"].endswith(".urdf") and "leap16" not in entry["file"])


def proper_rotations() -> list[np.ndarray]:
    """The 24 rotations that map axes onto axes (signed permutation matrices with determinant +1)."""
    out = []
    for permutation in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            matrix = np.zeros((3, 3))
            for column, (row, sign) in enumerate(zip(permutation, signs, strict=True)):
                matrix[row, column] = sign
            if np.linalg.det(matrix) > 0:
                out.append(matrix)
    return out


def _rpy(matrix: np.ndarray) -> tuple[float, float, float]:
    pitch = float(np.arcsin(-np.clip(matrix[2, 0], -1.0, 1.0)))
    if abs(abs(matrix[2, 0]) - 1.0) < 1e-9:
        return 0.0, pitch, float(np.arctan2(-matrix[0, 1], matrix[1, 1]))
    return float(np.arctan2(matrix[2, 1], matrix[2, 2])), pitch, float(np.arctan2(matrix[1, 0], matrix[0, 0]))


def _read(element: etree._Element | None) -> np.ndarray:
    out = np.eye(4)
    if element is not None:
        out[:3, :3] = np.asarray(rpy_matrix(tuple(float(v) for v in element.get("rpy", "0 0 0").split())))
        out[:3, 3] = [float(v) for v in element.get("xyz", "0 0 0").split()]
    return out


def _write(parent: etree._Element, matrix: np.ndarray) -> None:
    element = parent.find("origin")
    if element is None:
        element = etree.Element("origin")
        parent.insert(0, element)
    element.set("xyz", " ".join(repr(float(v)) for v in matrix[:3, 3]))
    element.set("rpy", " ".join(repr(v) for v in _rpy(matrix[:3, :3])))


def turn_palm(text: str, palm: str, rotation: np.ndarray, rename: str | None = None) -> str:
    """The same hand with the palm link's axes turned by ``rotation`` (new axes in the old frame) and,
    optionally, the palm link renamed: what another vendor's convention for the same hand looks like."""
    root = etree.fromstring(text.encode())
    turn = np.eye(4)
    turn[:3, :3] = rotation
    for link in root.findall("link"):
        if link.get("name") == palm:
            for shape in [*link.findall("visual"), *link.findall("collision")]:
                _write(shape, turn.T @ _read(shape.find("origin")))
            if rename:
                link.set("name", rename)
    for joint in root.findall("joint"):
        parent, child = joint.find("parent"), joint.find("child")
        if parent.get("link") == palm:
            _write(joint, turn.T @ _read(joint.find("origin")))
            if rename:
                parent.set("link", rename)
        if child.get("link") == palm:
            _write(joint, _read(joint.find("origin")) @ turn)
            axis = joint.find("axis")
            if axis is not None:
                vector = rotation.T @ np.array([float(v) for v in axis.get("xyz").split()])
                axis.set("xyz", " ".join(repr(float(v)) for v in vector))
            if rename:
                child.set("link", rename)
    return etree.tostring(root, encoding="unicode")


def test_the_corpus_has_right_and_left_hands_of_five_four_and_three_fingers() -> None:
    kinds = {(EXPECTED[name]["handedness"], len(EXPECTED[name]["fingers"])) for name in SIDED}
    assert {(side, fingers) for side in ("right", "left") for fingers in (5, 4, 3)} <= kinds
    palms = {EXPECTED[name]["palm"] for name in SIDED}
    assert {"thumb_base", "thumb_mount"} & palms, "hands whose palm link is named after the thumb"


@pytest.mark.parametrize("hand", SIDED)
def test_every_palm_convention_gets_the_hands_side_and_fingers(hand: str) -> None:
    expected = EXPECTED[hand]
    source = HANDS / expected["file"]
    text = source.read_text(encoding="utf-8")
    wrong = []
    for k, rotation in enumerate(proper_rotations()):
        proposal = propose_manifest(parse_urdf(turn_palm(text, expected["palm"], rotation), source))
        tips = {finger: chain.tip_link for finger, chain in proposal.fingers.items()}
        if proposal.handedness != expected["handedness"] or tips != expected["fingers"]:
            wrong.append(f"rotation {k}: {proposal.handedness} ({proposal.handedness_source}), {tips}")
        assert proposal.handedness_source.startswith("geometry"), proposal.handedness_source
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("palm_name", ["thumb_base_link", "R_thumb_base", "wrist", "left_wrist_link"])
@pytest.mark.parametrize("hand", ["thumb_palm5", "thumb_palm5_left", "numbered20", "numbered16_left"])
def test_the_palm_links_name_does_not_decide_the_side(hand: str, palm_name: str) -> None:
    expected = EXPECTED[hand]
    source = HANDS / expected["file"]
    rotation = proper_rotations()[len(palm_name) % 24]
    proposal = propose_manifest(parse_urdf(turn_palm(source.read_text(encoding="utf-8"), expected["palm"], rotation,
                                                     rename=palm_name), source))
    assert proposal.palm_link == palm_name
    assert proposal.handedness == expected["handedness"]
    assert {f: c.tip_link for f, c in proposal.fingers.items()} == expected["fingers"]


def test_a_thumb_resting_across_the_palm_still_says_which_side_it_is_on() -> None:
    """thumb_palm5's thumb points at the little finger at zero; its mount and reach are on the index side."""
    model = load_urdf(HANDS / "thumb_palm5.urdf")
    proposal = propose_manifest(model)
    transform = np.eye(4)
    for joint in model.path_between("thumb_base", "thumb_L2"):
        transform = transform @ joint.origin_matrix()
    mount, tip = model.path_between("thumb_base", "thumb_L2")[0].origin_matrix()[:3, 3], \
        (transform @ np.array([*proposal.fingers["thumb"].offset, 1.0]))[:3]
    lateral = np.asarray(rpy_matrix(proposal.palm_rpy))[:, 0]  # the xlsdk palm frame's +X in the palm link
    assert (tip - mount) @ lateral > 0.02, "the test hand's thumb rests pointing toward the little finger"
    assert proposal.handedness == "right" and proposal.fingers["little"].tip_link == "pinky_L2"


def test_names_are_a_second_opinion_and_a_disagreement_is_reported(tmp_path: Path) -> None:
    """A right hand whose links end in ``_l`` is still proposed right, with a note; a hand the geometry cannot
    side (a symmetric gripper) follows its names."""
    source = HANDS / "thumb_palm5.urdf"
    root = etree.fromstring(source.read_bytes())
    for element in root.iter():
        for key in ("name", "link", "joint"):
            if element.get(key) and element.tag in ("link", "joint", "parent", "child", "mimic"):
                element.set(key, element.get(key) + "_l")
    path = tmp_path / "named_left.urdf"
    path.write_bytes(etree.tostring(root))
    proposal = propose_manifest(load_urdf(path))
    assert proposal.handedness == "right"
    assert any("say a left hand, the geometry says right" in note for note in proposal.notes), proposal.notes

    gripper = (HANDS / "gripper3.urdf").read_text(encoding="utf-8").replace('<robot name="gripper3">',
                                                                            '<robot name="gripper3_left">')
    (tmp_path / "gripper_left.urdf").write_text(gripper)
    sided = propose_manifest(load_urdf(tmp_path / "gripper_left.urdf"))
    assert sided.handedness == "left" and "the robot's name 'gripper3_left'" in sided.handedness_source


# --- the side is checked: new-hand's mirror check and `xlsdk check`'s handedness check -----------------------------

def _scaffold(hand: str, name: str, root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    from xlsdk.cli import main

    assert main(["new-hand", name, "--urdf", str(HANDS / EXPECTED[hand]["file"]), "--yes",
                 "--out", str(root / name)]) == 0
    return next((root / name).rglob("hand.toml")), capsys.readouterr().out


def _declare(manifest: Path, handedness: str) -> None:
    text = manifest.read_text(encoding="utf-8")
    lines = [f'handedness = "{handedness}"' if line.startswith("handedness = ") else line for line in text.splitlines()]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_hand_declared_as_the_other_side_fails_check_naming_handedness(tmp_path: Path, fresh_host,  # noqa: ANN001
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The issue-27 hand: right and left twins scaffolded by new-hand (which says the side it chose and by how
    much), then each declared as the other side: `xlsdk check` fails them on handedness, naming the fix."""
    from conftest import HandPlugin

    from xlsdk.conformance import run_check

    right, printed = _scaffold("thumb_palm5", "side_right", tmp_path, capsys)
    assert "side: right hand: the mirrored setup (left hand) reaches the canonical hand's fingertips" in printed
    assert "mirror check: right hand" in right.read_text(encoding="utf-8")
    wrong_right, _ = _scaffold("thumb_palm5", "wrong_right", tmp_path, capsys)
    wrong_left, printed = _scaffold("thumb_palm5_left", "wrong_left", tmp_path, capsys)
    assert "side: left hand" in printed
    _declare(wrong_right, "left")
    _declare(wrong_left, "right")
    fresh_host.register(HandPlugin(right, wrong_right, wrong_left), name="sides")

    passed = run_check("side_right", "handedness")
    assert passed.passed, passed.explain()
    assert passed.details["mirrored"] > passed.details["as_declared"] / 0.8, passed.details
    for name, declared, actual in (("wrong_right", "left", "right"), ("wrong_left", "right", "left")):
        failed = run_check(name, "handedness")
        assert not failed.passed, failed.explain()
        assert f"handedness = '{declared}' looks wrong: its mirror image (a {actual} hand)" in failed.message
        assert f'set handedness = "{actual}" in hand.toml' in failed.fix


def test_a_palm_frame_turned_over_fails_check_naming_the_palm_frame(tmp_path: Path, fresh_host,  # noqa: ANN001
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The same hand with its [palm_frame] turned half a turn about +Z (palm normal out of the back of the
    hand, +X reversed: still a right-handed frame, so the `fingers` check's side agrees) fails on its frame."""
    from conftest import HandPlugin

    from xlsdk.conformance import run_check
    from xlsdk.transforms import matrix_rpy

    manifest, _ = _scaffold("thumb_palm5", "turned_palm", tmp_path, capsys)
    text = manifest.read_text(encoding="utf-8")
    rpy = tomllib.loads(text)["palm_frame"]["rpy"]
    turned = matrix_rpy(np.asarray(rpy_matrix(tuple(rpy))) @ np.diag([-1.0, -1.0, 1.0]), snap=1e-12)
    lines = [("rpy = [" + ", ".join(repr(v) for v in turned) + "]") if line.startswith("rpy = ") else line
             for line in text.splitlines()]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fresh_host.register(HandPlugin(manifest), name="turned")
    failed = run_check("turned_palm", "handedness")
    assert not failed.passed, failed.explain()
    assert "the palm frame looks wrong: the palm turned over" in failed.message
    assert "[palm_frame] rpy = [" in failed.fix
    restored = np.asarray(rpy_matrix(tuple(float(v) for v in failed.fix.split("rpy = [")[1].split("]")[0].split(", "))))
    np.testing.assert_allclose(restored, np.asarray(rpy_matrix(tuple(rpy))), atol=1e-5)


@pytest.mark.slow
def test_a_five_finger_hand_whose_thumb_meets_its_fingers_gets_no_floor(tmp_path: Path, fresh_host,  # noqa: ANN001
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The issue-27 hand declared left: the latent check does not measure a floor to excuse it (five fingers,
    a thumb that closes pinches), it holds it to the absolute limit and says why; a gripper still gets its
    floor (tests/test_fit_corpus.py::test_a_gripper_is_held_to_its_reachable_floor)."""
    from conftest import HandPlugin

    import xlsdk
    from xlsdk.conformance import MAX_GEOMETRY_ERROR, run_check
    from xlsdk.latent.fit import fit_head

    manifest, _ = _scaffold("thumb_palm5", "mirrored_five", tmp_path, capsys)
    _declare(manifest, "left")
    fresh_host.register(HandPlugin(manifest), name="mirrored-five")
    fit_head(fresh_host.load_hand("mirrored_five"), core_hands=xlsdk.load_core_hands(), steps=1, progress=False)
    result = run_check("mirrored_five", "latent")
    assert not result.passed, result.explain()
    assert result.details["geometry_error"] >= MAX_GEOMETRY_ERROR and "reachable_floor" not in result.details
    assert "the absolute limit: a five-finger hand whose thumb meets its fingers" in result.message
