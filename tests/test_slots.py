"""Functional joint slots: every installed and corpus hand fits the fixed layout, joints round-trip, empty
slots are masked, crowded fingers spill into their own slots, and the LeRobot steps round-trip a dataset.

Corpus hands are built the way ``new-hand --yes`` builds them (importer proposal -> manifest -> spec),
in memory: the layout only needs the spec and kinematics, not an installed plugin.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import torch

import xlsdk
from xlsdk.cli import main
from xlsdk.errors import DataFormatError, PolicyError, SlotLayoutError
from xlsdk.hand import Hand
from xlsdk.hand_spec import load_hand_spec, resolve_hand_spec
from xlsdk.joint_slots import SLOT_COUNT, SLOTS, slot_layout
from xlsdk.manifest import parse_manifest
from xlsdk.new_hand import render_manifest
from xlsdk.plugins import get_plugin_host
from xlsdk.policy.action_space import SlotSpace, make_space
from xlsdk.robot_description import load_robot_description
from xlsdk.manifest_proposal import propose_manifest

HANDS = Path(__file__).parent / "data" / "hands"
CORPUS = tomllib.loads((HANDS / "expected.toml").read_text(encoding="utf-8"))


def corpus_hand(key: str) -> Hand:
    """The hand ``new-hand NAME --urdf FILE --yes`` would scaffold, without writing the plugin."""
    path = HANDS / CORPUS[key]["file"]
    _, model = load_robot_description(path)
    text = render_manifest(f"corpus_{key}", propose_manifest(model), model, urdf_file="hand.urdf", title=key,
                           vendor="", version="0.1.0")
    return Hand(resolve_hand_spec(parse_manifest(text), path.parent / "hand.toml", model))


def assert_one_slot_per_joint(hand: Hand) -> None:
    layout = slot_layout(hand)
    assert [entry.joint for entry in layout.joints] == list(hand.joint_names), "every actuated joint, command order"
    indices = layout.indices
    assert len(set(indices)) == hand.dof, f"two joints share a slot: {layout.joints}"
    assert all(SLOTS[i].name == entry.slot for i, entry in zip(indices, layout.joints, strict=True))
    assert sum(layout.mask) == hand.dof


def assert_round_trip(hand: Hand) -> None:
    space = SlotSpace()
    q = hand.sample(64, torch.Generator().manual_seed(1), dtype=torch.float64).reshape(4, 16, hand.dof)
    a = space.encode(hand, q)
    assert a.shape == (4, 16, SLOT_COUNT)
    assert a.abs().max() <= 1.0 + 1e-6
    assert torch.all(a[..., ~space.mask(hand)] == 0), "empty slots carry nothing"
    assert torch.allclose(space.decode(hand, a).double(), q, atol=1e-5), "encode then decode is the identity"
    ends = torch.stack([hand.lower(torch.float64), hand.upper(torch.float64)])
    assert torch.allclose(space.decode(hand, space.encode(hand, ends)).double(), ends, atol=1e-5), "the limits too"


@pytest.mark.parametrize("name", get_plugin_host().hand_names())
def test_every_installed_hand_has_one_slot_per_joint_and_round_trips(name: str) -> None:
    hand = xlsdk.load_hand(name)
    assert_one_slot_per_joint(hand)
    assert_round_trip(hand)


@pytest.mark.parametrize("key", sorted(CORPUS))
def test_every_corpus_hand_has_one_slot_per_joint_and_round_trips(key: str) -> None:
    hand = corpus_hand(key)
    assert_one_slot_per_joint(hand)
    assert_round_trip(hand)


# Facts of the vendor-style models (their kinematics, not the names the rules read): which slot a joint
# with a known function must take.
FUNCTIONS = {
    # Shadow style: J4 spreads, J3/J2/J1 flex palm to tip; the little finger's J5 cups the palm; THJ5 is first
    "five22": {"rh_FFJ4": "index.spread", "rh_FFJ3": "index.proximal", "rh_FFJ1": "index.distal",
               "rh_LFJ5": "little.base", "rh_LFJ4": "little.spread", "rh_LFJ1": "little.distal",
               "rh_THJ5": "thumb.j1", "rh_THJ1": "thumb.j5"},
    "five22_left": {"lh_FFJ4": "index.spread", "lh_LFJ5": "little.base", "lh_THJ1": "thumb.j5"},
    # LEAP style: the MCP flexes before it spreads along the chain (joint_1 is the chain's first joint)
    "leap16": {"joint_1": "index.spread", "joint_0": "index.proximal", "joint_3": "index.distal",
               "joint_12": "thumb.j1"},
    # SVH style: one palm joint spreads three fingers through mimics; it goes with the first of them
    "svh_palm_mimic": {"right_hand_Finger_Spread": "index.spread", "right_hand_Index_Finger_Distal": "index.middle"},
    # Inspire style: one joint per finger (its PIP a mimic) is the MCP
    "inspire_mimic": {"R_index_proximal_joint": "index.proximal", "R_thumb_proximal_yaw_joint": "thumb.j1"},
}


@pytest.mark.parametrize("key", sorted(FUNCTIONS))
def test_joints_sit_in_the_slot_of_their_function(key: str) -> None:
    placed = {entry.joint: entry.slot for entry in slot_layout(corpus_hand(key)).joints}
    assert {joint: placed[joint] for joint in FUNCTIONS[key]} == FUNCTIONS[key]


@pytest.mark.parametrize(("hand", "missing"), [("paxini", {"little"}), ("corpus:dex3_right", {"ring", "little"}),
                                               ("synthetic", {"ring", "little"})])
def test_a_missing_finger_leaves_its_slots_masked(hand: str, missing: set[str], synthetic, fresh_host,  # noqa: ANN001
                                                  hand_plugin) -> None:  # noqa: ANN001
    if hand == "synthetic":
        fresh_host.register(hand_plugin(synthetic.manifest), name="synthetic-slots")
        loaded = fresh_host.load_hand(synthetic.name)
    else:
        loaded = corpus_hand(hand.split(":")[1]) if hand.startswith("corpus:") else xlsdk.load_hand(hand)
    assert missing.isdisjoint(loaded.fingers)
    space = SlotSpace()
    mask = space.mask(loaded)
    fingers_with_joints = {SLOTS[i].finger for i in range(SLOT_COUNT) if mask[i]}
    assert missing.isdisjoint(fingers_with_joints)
    assert set(loaded.fingers) <= fingers_with_joints, "every finger it has fills at least one slot"
    encoded = space.encode(loaded, loaded.sample(8, torch.Generator().manual_seed(0)))
    for i, slot in enumerate(SLOTS):
        if slot.finger in missing:
            assert not mask[i] and torch.all(encoded[:, i] == 0), slot.name


# --- a hand that crowds the layout ---------------------------------------------------------------------


def _crowded_hand(directory: Path, *, index_spreads: int, index_flexes: int, thumb_joints: int) -> Path:
    """A right hand (xlsdk palm frame: fingers +Z, palm normal +Y) whose index has ``index_spreads``
    lateral joints (about Y) then ``index_flexes`` flexing ones (about X), a thumb chain of
    ``thumb_joints``, a middle finger, and a palm joint that moves no fingertip. Returns its hand.toml."""
    links = ['<link name="palm"/>', '<link name="lid"/>']
    joints = ['<joint name="palm_lid" type="revolute"><parent link="palm"/><child link="lid"/>'
              '<origin xyz="0 0.02 0"/><axis xyz="1 0 0"/><limit lower="0" upper="1" effort="1" velocity="1"/></joint>']
    actuated = ["palm_lid"]

    def chain(prefix: str, start: tuple[float, float, float], axes: list[str], step: tuple[float, float, float]) -> str:
        parent = "palm"
        for number, axis in enumerate(axes):
            child = f"{prefix}_{number}"
            origin = start if number == 0 else step
            links.append(f'<link name="{child}"/>')
            joints.append(f'<joint name="{prefix}_j{number}" type="revolute"><parent link="{parent}"/>'
                          f'<child link="{child}"/><origin xyz="{" ".join(map(str, origin))}"/><axis xyz="{axis}"/>'
                          '<limit lower="-0.5" upper="1.2" effort="1" velocity="1"/></joint>')
            actuated.append(f"{prefix}_j{number}")
            parent = child
        links.append(f'<link name="{prefix}_tip"/>')
        joints.append(f'<joint name="{prefix}_tipj" type="fixed"><parent link="{parent}"/><child link="{prefix}_tip"/>'
                      f'<origin xyz="{" ".join(map(str, step))}"/></joint>')
        return f"{prefix}_tip"

    index = chain("index", (-0.02, 0.0, 0.09), ["0 1 0"] * index_spreads + ["1 0 0"] * index_flexes, (0, 0, 0.02))
    middle = chain("middle", (0.0, 0.0, 0.09), ["0 1 0", "1 0 0", "1 0 0"], (0, 0, 0.03))
    thumb_axes = ["0 0 1", "1 0 0"] * (thumb_joints // 2) + ["0 0 1"] * (thumb_joints % 2)
    thumb = chain("thumb", (-0.03, 0.01, 0.03), thumb_axes, (-0.015, 0.0, 0.015))
    directory.mkdir(parents=True)
    (directory / "crowded.urdf").write_text('<robot name="crowded">' + "".join(links + joints) + "</robot>",
                                            encoding="utf-8")
    (directory / "hand.toml").write_text("\n".join([
        "schema = 1", 'name = "crowded"', 'version = "0.1.0"', 'urdf = "crowded.urdf"', 'palm_link = "palm"',
        "joints = [" + ", ".join(f'"{joint}"' for joint in actuated) + "]",
        *(f'[fingers.{finger}]\nlink = "{tip}"' for finger, tip in zip(("thumb", "index", "middle"),
                                                                         (thumb, index, middle), strict=True)),
    ]), encoding="utf-8")
    return directory / "hand.toml"


def test_joints_competing_for_a_slot_each_get_their_own(tmp_path: Path) -> None:
    hand = Hand(load_hand_spec(_crowded_hand(tmp_path / "crowded", index_spreads=2, index_flexes=5, thumb_joints=6)))
    assert_one_slot_per_joint(hand)
    assert_round_trip(hand)
    placed = {entry.joint: entry for entry in slot_layout(hand).joints}
    # the index: first spread keeps `spread`, the second spills to `extra`; five flexing joints: the last
    # three are proximal/middle/distal, the one before is `base`, the first claims `extra` (taken) -> palm;
    # the palm's slots go in command order (the palm joint that moves no fingertip is listed first)
    assert {j: placed[j].slot for j in ("index_j0", "index_j1", "index_j3", "index_j4", "index_j5", "index_j6")} == {
        "index_j0": "index.spread", "index_j1": "index.extra", "index_j3": "index.base",
        "index_j4": "index.proximal", "index_j5": "index.middle", "index_j6": "index.distal"}
    assert placed["index_j2"].slot == "palm.spill2" and placed["index_j2"].spilled
    assert [placed[f"thumb_j{i}"].slot for i in range(6)] == [f"thumb.j{i}" for i in range(1, 6)] + ["thumb.extra"]
    assert placed["palm_lid"].slot == "palm.spill1" and placed["palm_lid"].reason == "moves no fingertip"
    assert not placed["index_j0"].spilled and placed["index_j1"].spilled


def test_a_hand_the_layout_cannot_hold_is_refused_by_name(tmp_path: Path, fresh_host, hand_plugin,  # noqa: ANN001
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    manifest = _crowded_hand(tmp_path / "crowded", index_spreads=3, index_flexes=5, thumb_joints=2)
    hand = Hand(load_hand_spec(manifest))
    with pytest.raises(SlotLayoutError, match=r"hand 'crowded': no free slot for joint\(s\) 'index_j3'"):
        slot_layout(hand)
    with pytest.raises(PolicyError, match="no free slot"):
        SlotSpace().encode(hand, hand.sample(1))
    # the hand still works everywhere else: `xlsdk info` shows it and says why it has no slots
    fresh_host.register(hand_plugin(manifest), name="crowded-plugin")
    assert main(["info", "crowded", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["slots"] == [] and "no free slot for joint(s) 'index_j3'" in info["slots_problem"]


def test_info_shows_which_joint_sits_in_which_slot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "xhand", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    slots = {row["joint"]: row["slot"] for row in info["slots"]}
    assert slots["index_abd"] == "index.spread" and slots["index_mcp"] == "index.proximal"
    assert list(slots) == [joint["name"] for joint in info["joints"]] and info["slots_problem"] == ""
    assert main(["info", "xhand"]) == 0
    text = capsys.readouterr().out
    assert "index.spread" in text and f"12 of {SLOT_COUNT} filled" in text


def test_space_widths_and_bad_shapes() -> None:
    from xlsdk.policy.configuration_xlvla import XlvlaConfig

    assert make_space("slots").dim == SLOT_COUNT == 32
    assert XlvlaConfig(action_space="slots").action_space == "slots"
    with pytest.raises(PolicyError, match=f"this xlsdk's slot layout has {SLOT_COUNT}"):
        make_space("slots", 24)
    hand = xlsdk.load_hand("inspire")
    with pytest.raises(PolicyError, match="slot vector for hand 'inspire': last dimension is 6, expected 32"):
        SlotSpace().decode(hand, torch.zeros(2, 6))


# --- the LeRobot processor steps -------------------------------------------------------------------------


def test_slot_steps_round_trip_a_lerobot_dataset(tmp_path: Path) -> None:
    """A tiny real dataset of xhand motion, read back through LeRobot, encoded and decoded by the steps."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset
    from lerobot.lerobot_types import TransitionKey
    from lerobot.processor.pipeline import ProcessorStepRegistry

    from xlsdk.policy.slot_steps import SlotsDecodeStep, SlotsEncodeStep

    hand = xlsdk.load_hand("xhand")
    vector = {"dtype": "float32", "shape": (hand.dof,), "names": list(hand.joint_names)}
    dataset = LeRobotDataset.create(repo_id="xlsdk/slots_xhand", fps=10, root=tmp_path / "data", robot_type="xhand",
                                    features={"observation.state": vector, "action": vector}, use_videos=False)
    path = hand.sample(9, torch.Generator().manual_seed(3))
    for step in range(8):
        dataset.add_frame({"observation.state": path[step].numpy(), "action": path[step + 1].numpy(), "task": "move"})
    dataset.save_episode()
    dataset.finalize()
    item = LeRobotDataset(repo_id="xlsdk/slots_xhand", root=tmp_path / "data",
                          delta_timestamps={"action": [i / 10 for i in range(4)]})[2]
    transition = {TransitionKey.OBSERVATION: {"observation.state": item["observation.state"][None]},
                  TransitionKey.ACTION: item["action"][None]}  # (1, 4, 12): a chunk
    encoded = SlotsEncodeStep(hand="xhand")(transition)
    assert encoded[TransitionKey.ACTION].shape == (1, 4, SLOT_COUNT)
    assert encoded[TransitionKey.OBSERVATION]["observation.state"].shape == (1, SLOT_COUNT)
    decoded = SlotsDecodeStep(hand="xhand")(encoded)[TransitionKey.ACTION]
    assert torch.allclose(decoded, item["action"][None], atol=1e-5)
    # the same slot chunk drives another hand: each joint reads the slot of its function
    paxini = SlotsDecodeStep(hand="paxini")(encoded)[TransitionKey.ACTION]
    xhand_index_mcp = encoded[TransitionKey.ACTION][..., [s.name for s in SLOTS].index("index.proximal")]
    paxini_hand = xlsdk.load_hand("paxini")
    column = paxini_hand.joint_names.index("index_mcp")
    lower, upper = paxini_hand.spec.lower[column], paxini_hand.spec.upper[column]
    assert paxini.shape == (1, 4, 13)
    assert torch.allclose(paxini[..., column], lower + (xhand_index_mcp + 1) / 2 * (upper - lower), atol=1e-5)
    # a wrist command before the hand passes through untouched
    wrist = {TransitionKey.ACTION: torch.cat([torch.full((1, 4, 6), 0.25), item["action"][None]], dim=-1)}
    through = SlotsEncodeStep(hand="xhand", passthrough=6)(wrist)[TransitionKey.ACTION]
    assert through.shape == (1, 4, 6 + SLOT_COUNT) and torch.all(through[..., :6] == 0.25)
    with pytest.raises(DataFormatError, match="last dimension is 12, hand 'inspire' expects 6"):
        SlotsEncodeStep(hand="inspire")(transition)
    assert ProcessorStepRegistry.get("xlsdk_slots_encode") is SlotsEncodeStep
    assert ProcessorStepRegistry.get("xlsdk_slots_decode") is SlotsDecodeStep
    assert SlotsDecodeStep(hand="xhand", passthrough=6).get_config() == {"hand": "xhand", "passthrough": 6}
