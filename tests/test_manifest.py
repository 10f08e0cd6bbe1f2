"""hand.toml: every error path names the file, the field and the joint/link, and says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from synthetic_hands import SyntheticHand

from xlsdk.errors import ManifestError
from xlsdk.hand_spec import load_hand_spec
from xlsdk.manifest import parse_manifest


def _edit(hand: SyntheticHand, old: str, new: str) -> Path:
    text = hand.manifest.read_text()
    assert old in text, f"{old!r} not in the generated manifest"
    hand.manifest.write_text(text.replace(old, new, 1))
    return hand.manifest


def _problems(path: Path) -> str:
    with pytest.raises(ManifestError) as caught:
        load_hand_spec(path)
    message = str(caught.value)
    assert str(path) in message, "every manifest error names the file"
    return message


def test_valid_manifest_resolves(synthetic: SyntheticHand) -> None:
    spec = load_hand_spec(synthetic.manifest)
    assert spec.joint_names == synthetic.joints
    assert spec.fingers == ("thumb", "index", "middle")
    assert spec.mimic["fi_dip2"].source == "fi_pip"  # a mimic of a mimic resolves to the actuated joint
    assert spec.mimic["fi_dip2"].multiplier == pytest.approx(0.35)
    assert spec.mimic["fi_dip2"].offset == pytest.approx(0.02)


@pytest.mark.parametrize("text, fragment", [
    ("schema = 1\nname = [", "not valid TOML"),
    ('schema = 1\nname = "x"', "field `version` is required"),
    ('schema = 2\nname = "x"\nversion="1"\nurdf="a"\npalm_link="p"\njoints=["a"]\n[fingers.thumb]\nlink="t"\n'
     '[fingers.index]\nlink="i"', "field `schema` must be 1"),
    ('schema = 1\nname = "Bad Name"\nversion="1"\nurdf="a"\npalm_link="p"\njoints=["a"]\n[fingers.thumb]\nlink="t"\n'
     '[fingers.index]\nlink="i"', "field `name`"),
    ('schema = 1\nname = "x"\nversion="1"\nurdf="a"\npalm_link="p"\njoints=["a","a"]\n[fingers.thumb]\nlink="t"\n'
     '[fingers.index]\nlink="i"', "joint 'a' is listed twice"),
    ('schema = 1\nname = "x"\nversion="1"\nurdf="a"\npalm_link="p"\njoints=["a"]\n[fingers.pinky]\nlink="t"\n',
     "`fingers.pinky` is not a canonical finger"),
    ('schema = 1\nname = "x"\nversion="1"\nurdf="a"\npalm_link="p"\njoints=["a"]\n[fingers.index]\nlink="t"\n',
     "a thumb is required"),
    ('schema = 1\nname = "x"\nversion="1"\nurdf="a"\npalm_link="p"\njoints=["a"]\ncolour="red"\n[fingers.thumb]\n'
     'link="t"\n[fingers.index]\nlink="i"', "field `colour` is not a manifest field"),
    ('schema = 1\nname = "x"\nversion="1"\nurdf="a"\npalm_link="p"\njoints=["a"]\n[fingers.thumb]\nlink="t"\n'
     'offset=[0,0]\n[fingers.index]\nlink="i"', "field `fingers.thumb.offset` needs exactly 3 numbers [x, y, z]"),
    ('schema = 1\nname = "x"\nversion="1"\nurdf="a"\npalm_link="p"\njoints=["a"]\n[limits.a]\nlower=1\nupper=0\n'
     '[fingers.thumb]\nlink="t"\n[fingers.index]\nlink="i"', "lower 1.0 is above upper 0.0"),
])
def test_type_errors(text: str, fragment: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "vendor/hand.toml")
    assert "vendor/hand.toml" in str(caught.value)
    assert fragment in str(caught.value)


def test_unreadable_manifest(tmp_path: Path) -> None:
    assert "file not found" in _problems(tmp_path / "hand.toml")


def test_urdf_path_must_exist(synthetic: SyntheticHand) -> None:
    message = _problems(_edit(synthetic, 'urdf = "synth.urdf"', 'urdf = "urdf/missing.urdf"'))
    assert "field `urdf`: 'urdf/missing.urdf' does not exist" in message


def test_palm_link_must_exist(synthetic: SyntheticHand) -> None:
    message = _problems(_edit(synthetic, 'palm_link = "palm"', 'palm_link = "hand"'))
    assert "field `palm_link`: link 'hand' is not in synth.urdf" in message


def test_unknown_joint(synthetic: SyntheticHand) -> None:
    message = _problems(_edit(synthetic, '"th_rot"', '"th_rotation"'))
    assert "field `joints[0]`: joint 'th_rotation' is not in synth.urdf" in message
    assert "joint 'th_rot' moves the thumb tip but is not in `joints`" in message


def test_fixed_joint_cannot_be_actuated(synthetic: SyntheticHand) -> None:
    message = _problems(_edit(synthetic, '"th_rot"', '"th_rot", "mount"'))
    assert "field `joints[1]`: joint 'mount' is a fixed joint" in message


def test_mimic_joint_cannot_be_actuated(synthetic: SyntheticHand) -> None:
    message = _problems(_edit(synthetic, '"th_rot"', '"th_rot", "fi_dip"'))
    assert "joint 'fi_dip' is a mimic of 'fi_pip'; list the joint it follows" in message


def test_mimic_source_must_be_listed(synthetic: SyntheticHand) -> None:
    message = _problems(_edit(synthetic, ', "fi_pip"', ""))
    assert "joint 'fi_pip' moves the index tip but is not in `joints`" in message
    assert "joint 'fi_dip' (mimic of 'fi_pip') moves the index tip but 'fi_pip' is not in `joints`" in message


def test_finger_link_must_exist(synthetic: SyntheticHand) -> None:
    message = _problems(_edit(synthetic, 'link = "fm_l3"', 'link = "fm_tip"'))
    assert "field `fingers.middle.link`: link 'fm_tip' is not in synth.urdf" in message


def test_finger_must_hang_off_the_palm(synthetic: SyntheticHand) -> None:
    message = _problems(_edit(synthetic, 'link = "fm_l3"', 'link = "base_link"'))
    assert "field `fingers.middle.link`: link 'base_link' is not below palm link 'palm'" in message


def test_fingers_need_distinct_tips(synthetic: SyntheticHand) -> None:
    text = synthetic.manifest.read_text()
    middle = text[text.index("[fingers.middle]"):]
    index = text[text.index("[fingers.index]"):text.index("[fingers.middle]")]
    synthetic.manifest.write_text(text.replace(middle, index.replace("[fingers.index]", "[fingers.middle]")))
    assert "fingers 'index' and 'middle' share the same tip point" in _problems(synthetic.manifest)


def test_limits_may_narrow(synthetic: SyntheticHand) -> None:
    _edit(synthetic, 'drivers = ["sim"]', 'drivers = ["sim"]\n[limits.th_rot]\nlower = 0.1\nupper = 1.2')
    spec = load_hand_spec(synthetic.manifest)
    assert (spec.lower[0], spec.upper[0]) == (0.1, 1.2)


def test_limits_may_not_widen(synthetic: SyntheticHand) -> None:
    message = _problems(_edit(synthetic, 'drivers = ["sim"]', 'drivers = ["sim"]\n[limits.th_rot]\nlower = -0.5\nupper = 1.2'))
    assert "field `limits.th_rot`: [-0.5, 1.2] widens the URDF range [0.0, 1.6]" in message


def test_limits_only_for_actuated_joints(synthetic: SyntheticHand) -> None:
    message = _problems(_edit(synthetic, 'drivers = ["sim"]', 'drivers = ["sim"]\n[limits.fi_dip]\nlower = 0\nupper = 1'))
    assert "field `limits.fi_dip`: 'fi_dip' is not an actuated joint listed in `joints`" in message


def test_continuous_joint_needs_manifest_limits(synthetic: SyntheticHand) -> None:
    urdf = synthetic.urdf.read_text()
    start = urdf.index('<joint name="th_rot" type="revolute">')
    end = urdf.index("</joint>", start)
    joint = urdf[start:end]
    joint = joint.replace('type="revolute"', 'type="continuous"')
    joint = joint[:joint.index("<limit")] + joint[joint.index("/>", joint.index("<limit")) + 2:]
    synthetic.urdf.write_text(urdf[:start] + joint + urdf[end:])
    message = _problems(synthetic.manifest)
    assert "joint 'th_rot' is continuous (no URDF limits); give its range in [limits.th_rot]" in message
    _edit(synthetic, 'drivers = ["sim"]', 'drivers = ["sim"]\n[limits.th_rot]\nlower = 0\nupper = 1.5')
    assert load_hand_spec(synthetic.manifest).upper[0] == 1.5


def test_several_problems_are_listed_together(synthetic: SyntheticHand) -> None:
    _edit(synthetic, 'palm_link = "palm"', 'palm_link = "hand"')
    message = _problems(_edit(synthetic, 'link = "fm_l3"', 'link = "fm_tip"'))
    assert "field `palm_link`" in message and "field `fingers.middle.link`" in message


def test_urdf_errors_pass_through_with_the_urdf_path(synthetic: SyntheticHand) -> None:
    from xlsdk.errors import UrdfError

    synthetic.urdf.write_text("<robot name='x'><link name='palm'>")
    with pytest.raises(UrdfError, match="not valid XML"):
        load_hand_spec(synthetic.manifest)
