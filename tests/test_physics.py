"""The MuJoCo world: built from every hand's spec, fingertips agree with our FK, servos track, safety holds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xlsdk
from xlsdk.errors import PhysicsError, SafetyError

pytest.importorskip("mujoco")

from xlsdk.drivers.mujoco_driver import MujocoDriver  # noqa: E402
from xlsdk.drivers.safety import SafetyConfig  # noqa: E402
from xlsdk.physics.scene import Scene, SceneObject  # noqa: E402
from xlsdk.physics.world import World  # noqa: E402

REFERENCE = ["ability", "inspire", "paxini", "xhand"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def worlds() -> dict[str, World]:
    return {name: World(xlsdk.load_hand(name)) for name in REFERENCE}


@pytest.mark.parametrize("name", REFERENCE)
def test_fingertip_sites_match_fk_at_random_poses(worlds: dict[str, World], name: str) -> None:
    world = worlds[name]
    hand = world.hand
    poses = hand.sample(20, torch.Generator().manual_seed(7), dtype=torch.float64).numpy()
    for q in poses:
        world.reset(wrist=np.array([0.05, -0.1, 0.3, 0.4, -0.3, 1.0]), q=q)  # a non-trivial wrist pose too
        np.testing.assert_allclose(world.fingertips("palm"), np.asarray(hand.fk(q)), atol=1e-4, rtol=0)


@pytest.mark.parametrize("name", REFERENCE)
def test_servos_reach_targets_inside_the_limits_and_mimics_follow(worlds: dict[str, World], name: str) -> None:
    world = worlds[name]
    hand = world.hand
    lower, upper = np.asarray(hand.spec.lower), np.asarray(hand.spec.upper)
    target = lower + (upper - lower) * np.random.default_rng(3).uniform(0.1, 0.9, hand.dof)
    world.reset()
    world.set_hand_target(target)
    world.step(1.5)
    np.testing.assert_allclose(world.hand_positions(), target, atol=0.02)
    # the physical pose's tips are where our FK (mimic couplings included) puts them: equalities hold
    np.testing.assert_allclose(world.fingertips("palm"), np.asarray(hand.fk(world.hand_positions())), atol=2e-3)
    world.set_hand_target(upper + 1.0)  # MuJoCo's own ctrlrange: never beyond the limits
    world.step(1.5)
    assert np.all(world.hand_positions() <= upper + 0.02)


def test_mesh_only_hand_gets_fitted_capsules_and_matching_tips(tmp_path) -> None:
    """A URDF with only (missing) meshes still gets a world: capsules along its links, tips where FK says."""
    import re
    import shutil

    from xlsdk.hand import Hand
    from xlsdk.hand_spec import load_hand_spec

    source = xlsdk.load_hand("inspire").spec
    shutil.copy(source.manifest_path, tmp_path / "hand.toml")
    urdf = tmp_path / source.manifest.urdf
    urdf.parent.mkdir(parents=True)
    text = re.sub(r"<geometry>.*?</geometry>", '<geometry><mesh filename="meshes/part.stl"/></geometry>',
                  source.urdf.text, flags=re.S)
    urdf.write_text(text, encoding="utf-8")
    hand = Hand(load_hand_spec(tmp_path / "hand.toml"))
    world = World(hand)
    model = world.model
    hand_geoms = [i for i in range(model.ngeom) if model.body(model.geom_bodyid[i]).name.startswith("hand/")]
    assert hand_geoms and all(model.geom_type[i] in (2, 3) for i in hand_geoms)  # spheres/capsules only
    assert sum(model.geom_type[i] == 3 for i in hand_geoms) >= 2 * len(hand.fingers)
    q = hand.mid_pose()
    world.reset(q=q)
    np.testing.assert_allclose(world.fingertips("palm"), np.asarray(hand.fk(q)), atol=1e-4)


def _driver(scene: Scene | None = None, **safety) -> tuple[MujocoDriver, Clock]:
    clock = Clock()
    driver = MujocoDriver(xlsdk.load_hand("inspire"), scene, safety=SafetyConfig(**safety), clock=clock,
                          watchdog_thread=False)
    return driver, clock


def test_safety_layer_holds_under_physics() -> None:
    driver, clock = _driver(watchdog_s=0.3, max_velocity=2.0)
    hand = driver.hand
    upper = np.asarray(hand.spec.upper)
    with driver:
        before = driver.world.hand_target()
        with pytest.raises(SafetyError, match="non-finite"):
            driver.command([float("nan")] + [0.0] * (hand.dof - 1))
        np.testing.assert_array_equal(driver.world.hand_target(), before)  # nothing reached the servos
        for _ in range(40):  # far beyond the limits: clamped, rate limited, reached
            report = driver.command(upper + 5.0)
            clock.now += 0.05
        assert report.clamped and set(report.clamped_joints) == set(hand.joint_names)
        state = driver.read_state()
        assert np.all(np.asarray(state.positions) <= upper + 0.02)
        np.testing.assert_allclose(state.positions, upper, atol=0.03)
        # start closing, then fall silent: the watchdog holds the hand where it is
        driver.command(np.asarray(hand.spec.lower))
        clock.now += 0.05
        driver.read_state()
        clock.now += 0.5
        stopped = np.asarray(driver.read_state().positions)
        assert driver.watchdog_tripped and driver.stats.watchdog_stops == 1
        clock.now += 1.0
        np.testing.assert_allclose(driver.read_state().positions, stopped, atol=0.02)
        assert np.all(stopped > np.asarray(hand.spec.lower) + 0.1)  # it did not finish the silent motion


def test_wrist_commands_go_through_the_safety_layer() -> None:
    driver, clock = _driver(watchdog_s=None)
    with driver:
        home = driver.world.wrist_positions()
        with pytest.raises(SafetyError, match="non-finite"):
            driver.command_wrist([0.0, 0.0, float("nan"), 0.0, 0.0, 0.0])
        with pytest.raises(SafetyError, match="shape"):
            driver.command_wrist([0.0, 0.0, 0.2])
        report = driver.command_wrist([*home[:2], -1.0, 0.0, 0.0, 0.0])  # below the table: clamped, speed-limited
        assert "wrist.z" in report.clamped_joints and "wrist.z" in report.rate_limited_joints
        assert report.sent[2] == pytest.approx(home[2] - 0.5 * 0.1)  # 0.5 m/s for the credited 0.1 s
        for _ in range(30):
            report = driver.command_wrist([*home[:2], -1.0, 0.0, 0.0, 0.0])
            clock.now += 0.05
        driver.read_state()
        bottom = driver.world.config.workspace.lower[2]
        assert driver.world.wrist_target()[2] == pytest.approx(bottom)  # the target stops at the workspace floor
        assert bottom - 0.005 <= driver.world.wrist_positions()[2] < home[2] - 0.15  # (or the table stops the hand)
        observation = driver.get_observation()
        assert observation["front"].shape == (96, 96, 3) and "wrist.z" in observation


def test_an_episode_renders_changing_images_and_lifts_nothing_without_a_grasp() -> None:
    scene = Scene(objects=(SceneObject(name="ball", kind="ball").resting(0.08, 0.0),
                           SceneObject(name="button", kind="button").resting(-0.15, 0.15),
                           SceneObject(name="bin", kind="bin").resting(0.15, -0.15)))
    world = World(xlsdk.load_hand("xhand"), scene)
    frames = {camera: [] for camera in ("front", "wrist")}
    wrist = world.home_wrist()
    for step in range(8):
        wrist[0] += 0.02
        world.set_wrist_target(wrist)
        world.set_hand_target(np.asarray(world.hand.spec.upper) * step / 8)
        world.step(0.05)
        for camera in frames:
            frames[camera].append(world.render(camera, 96))
    for camera, images in frames.items():
        first, last = images[0], images[-1]
        assert first.shape == (96, 96, 3) and first.dtype == np.uint8
        assert first.std() > 10, f"{camera} image is flat"
        assert np.abs(first.astype(int) - last).mean() > 1.0, f"{camera} images do not change"
    state = world.object_state("ball")
    assert abs(state.lifted) < 0.005 and state.table_contact and state.button_travel is None
    assert world.object_state("button").button_travel == pytest.approx(0.0, abs=1e-3)
    assert not world.inside("ball", "bin")
    with pytest.raises(PhysicsError, match="larger than this world allows"):
        world.render("front", 4096)


def test_button_is_sprung_and_bin_holds_what_is_dropped_in() -> None:
    scene = Scene(objects=(SceneObject(name="button", kind="button", stiffness=200.0).resting(0.0, 0.0),
                           SceneObject(name="cube", kind="cube", size=(0.015,)).model_copy(
                               update={"pos": (0.2, -0.15, 0.12)}),
                           SceneObject(name="bin", kind="bin").resting(0.2, -0.15)))
    world = World(xlsdk.load_hand("inspire"), scene)
    world.step(0.8)
    assert world.inside("cube", "bin")
    cap = world.model.body("button/cap").id
    world.data.xfrc_applied[cap, 2] = -2.0  # press with 2 N
    world.step(0.5)
    pressed = world.object_state("button").button_travel
    assert 0.002 < pressed <= 0.0091
    world.data.xfrc_applied[cap, 2] = 0.0
    world.step(0.5)
    assert world.object_state("button").button_travel < pressed / 2  # the spring pushes it back


def test_scene_descriptions_are_validated() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="size needs 2"):
        SceneObject(name="bottle", kind="cylinder", size=(0.03,))
    with pytest.raises(ValidationError, match="used twice"):
        Scene(objects=(SceneObject(name="a", kind="ball"), SceneObject(name="a", kind="cube")))


@pytest.mark.slow
def test_every_hand_of_the_import_corpus_gets_a_world_whose_tips_match_fk(tmp_path) -> None:
    """Hands onboarded by `new-hand` (vendor-style URDFs, xacro, MJCF, mesh-only links, mimic chains) get a world."""
    import tomllib
    from pathlib import Path

    from xlsdk.hand import Hand
    from xlsdk.hand_spec import load_hand_spec
    from xlsdk.new_hand import create_hand_plugin

    corpus = Path(__file__).parent / "data" / "hands"
    expected = tomllib.loads((corpus / "expected.toml").read_text(encoding="utf-8"))
    assert len(expected) >= 10
    for index, (key, facts) in enumerate(sorted(expected.items())):
        name = f"corpus{index}"
        create_hand_plugin(name, corpus / facts["file"], tmp_path / name)
        hand = Hand(load_hand_spec(tmp_path / name / f"xlsdk_{name}" / "hand.toml"))
        world = World(hand)
        for q in hand.sample(3, torch.Generator().manual_seed(index), dtype=torch.float64).numpy():
            world.reset(q=q)
            np.testing.assert_allclose(world.fingertips("palm"), np.asarray(hand.fk(q)), atol=1e-4, err_msg=key)
        world.set_hand_target(hand.mid_pose())
        world.step(0.3)  # servos on every joint, mimic equalities: the simulation stays finite
        assert np.all(np.isfinite(world.hand_positions())), key


def test_a_urdf_with_unbalanced_inertias_gets_a_world_with_its_masses(tmp_path, capsys) -> None:
    """Issue 22 item 16: tensors breaking A + B >= C (a CAD export's, tests/data/hands/unbalanced16.urdf).

    MuJoCo refuses such a tensor ("inertia must satisfy A + B >= C"); the hand still gets a world, each
    link keeps the URDF's mass and centre of mass, `new-hand` warns naming every such link, and the
    fingertip sites match FK.
    """
    from pathlib import Path

    from lxml import etree

    from xlsdk.cli import main
    from xlsdk.hand import Hand
    from xlsdk.hand_spec import load_hand_spec

    urdf = Path(__file__).parent / "data" / "hands" / "unbalanced16.urdf"
    assert main(["new-hand", "unbalanced", "--urdf", str(urdf), "--yes", "--out", str(tmp_path / "plugin")]) == 0
    printed = "".join(capsys.readouterr())
    phalanges = [f"link_{4 * f + k}.0" for f in range(4) for k in (1, 2, 3)]
    for link in phalanges:
        assert f"link '{link}': its <inertia> is no rigid body's" in " ".join(printed.split()), link
    hand = Hand(load_hand_spec(tmp_path / "plugin" / "xlsdk_unbalanced" / "hand.toml"))
    assert sorted(hand.spec.manifest.fingers) == ["index", "middle", "ring", "thumb"]
    world = World(hand)
    model = world.model
    for link in etree.parse(str(urdf)).getroot().iter("link"):
        inertial = link.find("inertial")
        if inertial is None:
            continue
        body = model.body("hand/" + link.get("name"))
        assert model.body_mass[body.id] == pytest.approx(float(inertial.find("mass").get("value")), rel=1e-9)
        moments = np.sort(model.body_inertia[body.id])
        assert moments[0] + moments[1] >= moments[2] > 0
    for q in hand.sample(3, torch.Generator().manual_seed(0), dtype=torch.float64).numpy():
        world.reset(q=q)
        np.testing.assert_allclose(world.fingertips("palm"), np.asarray(hand.fk(q)), atol=1e-4)
    world.set_hand_target(hand.mid_pose())
    world.step(0.3)
    assert np.all(np.isfinite(world.hand_positions()))
