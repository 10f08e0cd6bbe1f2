"""The physics cross-hand benchmark: the closed-loop expert, DART, sharded LeRobot data, a policy that learns,
and a miniature run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import mujoco
import numpy as np
import pytest
import torch

import xlsdk
from xlsdk.bench.physics.dataset import EVAL_STREAM, scene_of
from xlsdk.bench.physics.tasks import TASKS, sample_scene

#: a smoke scene per task that the expert solves (scene indices of the training stream)
SMOKE_SCENES = {"pinch_lift": 0, "power_lift": 0, "bottle_upright": 0, "press_button": 0, "push_block": 0,
                "place_in_bin": 0}


@pytest.fixture(scope="module")
def inspire() -> xlsdk.Hand:
    return xlsdk.load_hand("inspire")


def _first_solved(hand: xlsdk.Hand, task: str, limit: int = 8) -> int:
    from xlsdk.bench.physics.expert import run_expert

    for index in range(limit):
        if run_expert(hand, scene_of(task, index)).success:
            return index
    raise AssertionError(f"the expert solved none of the first {limit} {task} scenes on {hand.name}")


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_expert_succeeds_and_doing_nothing_fails(inspire: xlsdk.Hand, task: str) -> None:
    """Success is read from object state: the expert's episode passes, a hand that holds still does not."""
    from xlsdk.bench.physics.expert import EPISODE_S, FPS, bench_world, rollout, run_expert

    scene = scene_of(task, _first_solved(inspire, task))
    episode = run_expert(inspire, scene)
    assert episode.success, (task, episode.trace)
    steps = int(round(EPISODE_S * FPS))
    assert len(episode.actions) == len(episode.states) == len(episode.objects) == steps
    assert episode.actions[0].shape == (6 + inspire.dof,)

    world = bench_world(inspire, scene)
    still = np.concatenate([world.home_wrist(), inspire.zero_pose()])
    idle = rollout(world, scene, lambda step, obs: still)
    assert not idle.success, task


PUSH_M = 0.07


def _push_object(world: object, name: str, offset: np.ndarray) -> None:
    model, data = world.model, world.data  # type: ignore[attr-defined]
    address = model.jnt_qposadr[model.joint(f"{name}/free").id]
    data.qpos[address: address + 3] += offset
    mujoco.mj_forward(model, data)


@pytest.mark.slow
def test_the_expert_recovers_from_a_push(inspire: xlsdk.Hand) -> None:
    """Closed loop: the ball is shoved 4 cm sideways after the expert started toward it, and the wrist is
    knocked 3 cm off its path; the expert follows the ball and still lifts it. An open-loop replay of the
    unpushed episode's commands fails on the pushed scene (the push matters)."""
    from xlsdk.bench.physics.expert import Expert, bench_world, rollout

    scene = scene_of("power_lift", _first_solved(inspire, "power_lift"))
    world = bench_world(inspire, scene)
    expert = Expert(inspire, scene)

    def pushed(step: int, obs: object) -> np.ndarray:
        if step == 3:
            _push_object(world, "target", np.array([0.0, PUSH_M, 0.0]))
            world.data.qpos[world._wrist_qpos[:3]] += np.array([0.0, -0.03, 0.0])  # type: ignore[attr-defined]
            mujoco.mj_forward(world.model, world.data)
        return expert(step, obs if step != 3 else _observe(world, scene))

    episode = rollout(world, scene, pushed)
    assert episode.success, episode.trace
    assert any(abs(a[1] - b[1]) > 0.02 for a, b in zip(episode.actions[4:], _clean_actions(inspire, scene)[4:],
                                                       strict=False)), "the expert did not change course"

    replay = _clean_actions(inspire, scene)
    world = bench_world(inspire, scene)

    def blind(step: int, obs: object) -> np.ndarray:
        if step == 3:
            _push_object(world, "target", np.array([0.0, PUSH_M, 0.0]))
        return replay[step]

    assert not rollout(world, scene, blind).success, "the push was too small to need a correction"


@pytest.mark.slow
def test_paxini_lifts_cubes_with_the_parallel_pinch_the_general_preshape_pushes_away() -> None:
    """On the benchmark's own evaluation scenes: with the general pre-shape paxini's index swings down over
    the cube and pushes it from between the fingers (the expert lifted 0 of 8, and put 0 of 60 in the bin);
    opened along the pinch line (``parallel``) the same pinch lifts it. The grasp choice picks the option
    that lifts, so both must stay options."""
    from xlsdk.bench.physics.expert import run_expert

    paxini = xlsdk.load_hand("paxini")
    scenes = [scene_of("pinch_lift", i, stream=EVAL_STREAM) for i in range(2)]
    assert all(run_expert(paxini, scene, choice=("pinch", {"parallel": True})).success for scene in scenes)
    assert not any(run_expert(paxini, scene, choice=("pinch", {})).success for scene in scenes)


@pytest.mark.slow
def test_inspire_lifts_the_wide_bottles_from_above_that_the_side_wrap_loses() -> None:
    """On the benchmark's own evaluation scenes: the side wrap lifts none of these three 27-28 mm bottles
    (inspire's open thumb stands in the bottle's path and the hand backs off 64 mm before it closes; a wrap
    that came in closer did no better, so that is one cause, not all); grasped from above, all 3 are lifted
    upright. Both stay options of the choice."""
    from xlsdk.bench.physics.expert import run_expert

    inspire = xlsdk.load_hand("inspire")
    scenes = [scene_of("bottle_upright", i, stream=EVAL_STREAM) for i in (3, 4, 7)]
    assert all(scene.scene.get(scene.target).dims[0] > 0.0265 for scene in scenes)
    assert all(run_expert(inspire, scene, choice=("wrap", {"cylinder": True, "from_above": True})).success
               for scene in scenes)
    assert not any(run_expert(inspire, scene, choice=("wrap", {"cylinder": True})).success for scene in scenes)


@pytest.mark.slow
def test_paxini_lifts_the_balls_with_the_opposed_wrap_that_the_tight_wrap_drops() -> None:
    """On the benchmark's own evaluation scenes: paxini's tight wrap (the choice's pick before the opposed wrap
    was an option) lifts none of these three 29 mm balls, its tips in a cross; the opposed wrap, thumb under the
    fingers, lifts all three (58 of the 60 evaluation scenes, docs/benchmarks/physics.md)."""
    from xlsdk.bench.physics.expert import run_expert

    paxini = xlsdk.load_hand("paxini")
    scenes = [scene_of("power_lift", i, stream=EVAL_STREAM) for i in (6, 9, 10)]
    assert all(round(scene.scene.get(scene.target).dims[0], 3) == 0.029 for scene in scenes)
    assert all(run_expert(paxini, scene, choice=("wrap", {"opposed": True})).success for scene in scenes)
    assert not any(run_expert(paxini, scene, choice=("wrap", {})).success for scene in scenes)


def test_a_ball_is_grasped_at_a_turn_whose_close_clears_the_other_ball() -> None:
    """Any wrist yaw grasps a ball the same, but not the ball beside it: at the home yaw paxini's fingers curl
    down through the other ball on this scene (open and closed they clear it; half way they do not). The
    machine takes a turn at which the whole close clears it, the least turned of those."""
    from xlsdk.bench.physics.expert import Expert, _view, bench_world
    from xlsdk.bench.physics.observation import observe
    from xlsdk.physics.grasp_machine import GraspMachine

    paxini = xlsdk.load_hand("paxini")
    scene = scene_of("power_lift", 5, stream=EVAL_STREAM)
    machine = Expert(paxini, scene, ("wrap", {})).machine
    world = bench_world(paxini, scene)
    try:
        view = _view(observe(world, scene, 96))
    finally:
        world.close()
    assert machine._clash(view, 0.0) > 0.01
    machine.grasp_pose(view)
    assert machine._clash(view, machine.yaw) == 0.0 and machine.yaw != 0.0
    assert abs(machine.yaw) == min(abs(yaw) for yaw in machine._turns(view) if machine._clash(view, yaw) == 0.0)
    alone = GraspMachine(paxini, scene.scene.get("target"), machine.q_open, machine.q_grasp, machine.centre,
                         rate_hz=5.0, kind="wrap")  # no other object: the home yaw
    alone.grasp_pose(view)
    assert alone.yaw == 0.0


@pytest.mark.slow
def test_dart_noise_is_calibrated_per_hand_so_the_expert_still_demonstrates() -> None:
    """At DART's full noise paxini's expert pushed 3 of 8 blocks to the spot (a noisy finger flicks the block
    sideways), against 8 of 8 without noise, and its cube and ball kept 1 and 5 of 56: the noise left
    nothing to learn from. The calibrated level keeps the noise where the expert still succeeds, and the
    demonstrations are made at it."""
    from xlsdk.bench.physics.expert import Dart, dart_level, run_expert

    paxini = xlsdk.load_hand("paxini")
    level = dart_level(paxini, "push_block")
    assert 0.0 < level < 1.0
    scenes = [scene_of("push_block", i) for i in range(8)]

    def pushed(noise: float) -> int:
        return sum(run_expert(paxini, scene, dart=Dart(paxini, 1000 + i, level=noise)).success
                   for i, scene in enumerate(scenes))

    assert pushed(level) >= 7
    assert pushed(1.0) <= 5


def _observe(world: object, scene: object) -> object:
    from xlsdk.bench.physics.observation import observe

    return observe(world, scene, 96)  # type: ignore[arg-type]


def _clean_actions(hand: xlsdk.Hand, scene: object) -> list[np.ndarray]:
    from xlsdk.bench.physics.expert import run_expert

    return [np.asarray(a, dtype=np.float64) for a in run_expert(hand, scene).actions]  # type: ignore[arg-type]


@pytest.mark.slow
def test_dart_labels_are_the_clean_expert_action_for_the_reached_state(inspire: xlsdk.Hand) -> None:
    """With DART the executed commands differ from the labels, and each label is exactly what a fresh expert
    answers when shown the same sequence of observations (poses, joints and the contacts its closing reads):
    the clean action for the state actually reached."""
    from xlsdk.bench.physics.expert import Dart, Expert, run_expert
    from xlsdk.bench.physics.observation import Observation

    scene = scene_of("pinch_lift", 1)
    episode = run_expert(inspire, scene, dart=Dart(inspire, seed=7))
    labels, executed = np.asarray(episode.actions), np.asarray(episode.executed)
    assert np.abs(labels - executed).max() > 1e-3, "DART perturbed nothing"
    assert not np.allclose(np.asarray(episode.states), np.asarray(run_expert(inspire, scene).states), atol=1e-4)
    fresh = Expert(inspire, scene)
    relabelled = [fresh(step, Observation(state=np.asarray(s, dtype=np.float64), objects=np.asarray(o, np.float64),
                                           image=lambda camera: np.zeros((1, 1, 3)), touching=t))
                  for step, (s, o, t) in enumerate(zip(episode.states, episode.objects, episode.touching, strict=True))]
    assert any(episode.touching), 'the hand never touched the cube'
    assert np.allclose(np.asarray(relabelled, dtype=np.float32), labels, atol=1e-4)


def test_the_expert_through_the_latent_sends_round_tripped_hand_commands(inspire: xlsdk.Hand) -> None:
    """``through_latent`` (the latent arm's ceiling) leaves the wrist command alone and replaces the hand's by its
    round trip through the hand's head, every step; inspire's expert still lifts its ball that way."""
    from xlsdk.bench.physics.expert import run_expert, through_latent
    from xlsdk.latent.head_loading import decode, encode

    scene = scene_of("power_lift", 0)
    plain = run_expert(inspire, scene)
    commands = np.asarray(plain.actions)
    wrapped = through_latent(lambda step, observation: commands[step], inspire)
    for step in (0, len(commands) // 2, len(commands) - 1):
        sent = wrapped(step, None)
        assert np.array_equal(sent[:6], commands[step][:6])
        expected = np.asarray(decode(inspire, encode(inspire, commands[step][None, 6:].astype(np.float32))))[0]
        assert np.allclose(sent[6:], expected, atol=1e-6) and not np.allclose(sent[6:], commands[step][6:], atol=1e-4)
    assert plain.success and run_expert(inspire, scene, latent=True).success


def test_scenes_are_seeded_per_index_and_instructions_name_the_target() -> None:
    first = sample_scene("pinch_lift", np.random.default_rng(7))
    assert first == sample_scene("pinch_lift", np.random.default_rng(7))
    target, other = first.scene.get("target"), first.scene.get("distractor")
    assert first.colour in first.instruction and target.colour != other.colour
    instructions = {sample_scene("power_lift", np.random.default_rng(s)).instruction.split()[0] for s in range(12)}
    assert len(instructions) >= 2  # paraphrases, not one template
    # scene i of a stream does not depend on the scenes before it, and the streams differ
    assert scene_of("power_lift", 5) == scene_of("power_lift", 5)
    assert scene_of("power_lift", 5) != scene_of("power_lift", 6)
    assert scene_of("power_lift", 5) != scene_of("power_lift", 5, stream=EVAL_STREAM)


@pytest.mark.parametrize("task", ["pinch_lift", "power_lift"])
def test_the_two_objects_of_a_scene_never_overlap(task: str) -> None:
    """A scene whose region had no spot 9 cm from the first object once got the last random draw: two balls
    of 3 cm radius 4.4 cm apart, which fly apart at the first physics step (about 1 scene in 40 of every
    stream). Over the training, validation and evaluation streams there is room between them."""
    from xlsdk.bench.physics.dataset import TRAIN_STREAM, VALIDATION_STREAM

    gaps = []
    for stream in (TRAIN_STREAM, VALIDATION_STREAM, EVAL_STREAM):
        for index in range(200):
            scene = scene_of(task, index, stream=stream)
            first, second = scene.scene.get("target"), scene.scene.get("distractor")
            apart = float(np.linalg.norm(np.subtract(first.pos[:2], second.pos[:2])))
            gaps.append(apart - first.dims[0] - second.dims[0])
    assert min(gaps) > 0.005, min(gaps)


def test_the_scene_features_place_the_object_relative_to_the_wrist_and_to_the_fingertips(
        inspire: xlsdk.Hand) -> None:
    """The tip features are the target's centre minus the thumb and index tips the simulation reports; closing
    the fingers moves them and leaves the wrist-relative ones alone. A policy reads the leading entries its
    ``--scene`` choice names, from the same stored features."""
    from xlsdk.bench.physics.expert import bench_world
    from xlsdk.bench.physics.observation import OBJECT_FEATURES, SCENE_FEATURES, SCENE_WIDTHS, observe
    from xlsdk.bench.physics.policies import make_xlvla_config

    scene = scene_of("power_lift", 0)
    world = bench_world(inspire, scene)
    try:
        world.forward()
        obs = observe(world, scene, 96)
        assert obs.objects.shape == (len(SCENE_FEATURES),)
        tips = dict(zip(inspire.fingers, world.fingertips("world"), strict=True))
        base = len(OBJECT_FEATURES)
        np.testing.assert_allclose(obs.objects[base:base + 3], obs.target_pos - tips["thumb"], atol=1e-9)
        np.testing.assert_allclose(obs.objects[base + 3:base + 6], obs.target_pos - tips["index"], atol=1e-9)
        world.set_hand_qpos(np.asarray(inspire.spec.upper) * 0.8)  # fingers curled in
        world.forward()
        curled = observe(world, scene, 96)
        np.testing.assert_allclose(curled.objects[:base], obs.objects[:base], atol=1e-9)
        assert np.linalg.norm(curled.objects[base:] - obs.objects[base:]) > 0.01
    finally:
        world.close()
    widths = {scene: make_xlvla_config("latent", obs="state", raw_width=6, image_size=64, chunk_size=8,
                                       n_action_steps=4, wrist_loss_share=0.5, scene=scene).environment_dim
              for scene in SCENE_WIDTHS}
    assert widths == {"wrist": base, "wrist+tips": len(SCENE_FEATURES)}


def test_the_scene_features_show_the_other_ball_and_nothing_where_there_is_none(inspire: xlsdk.Hand) -> None:
    """The expert turns a grasp away from the other ball (or cube) beside the target, so a state policy must
    see it to know which turn the demonstrations took: its offset from the wrist, read from the simulation;
    and a scene without one (the bottle, the bin: the bin is the goal) reads zeros."""
    from xlsdk.bench.physics.expert import bench_world
    from xlsdk.bench.physics.observation import OBJECT_FEATURES, observe

    other = slice(OBJECT_FEATURES.index("other.dx"), OBJECT_FEATURES.index("other.dz") + 1)
    scene = scene_of("power_lift", 3)
    world = bench_world(inspire, scene)
    try:
        world.forward()
        wrist = world.wrist_positions()[:3]
        distractor = np.asarray(scene.scene.get("distractor").pos)
        np.testing.assert_allclose(observe(world, scene, 96).objects[other], distractor - wrist, atol=2e-3)
        assert np.linalg.norm(distractor[:2] - np.asarray(scene.scene.get("target").pos[:2])) > 0.05
    finally:
        world.close()
    for task in ("bottle_upright", "place_in_bin", "press_button", "push_block"):
        scene = scene_of(task, 0)
        world = bench_world(inspire, scene)
        try:
            world.forward()
            assert not observe(world, scene, 96).objects[other].any(), task
        finally:
            world.close()


@pytest.mark.parametrize("share", [None, 0.5, 0.3])
def test_act_gives_the_wrist_its_share_of_the_loss_through_the_normalisation(share: float | None) -> None:
    """ACT's L1 loss is a plain mean over the action's entries: 6 wrist entries of 38 carry 16 % of it. The
    normalisation divides the wrist's spread so that an error of the same size relative to each entry's
    spread weighs ``share`` for the wrist as a whole; None leaves ACT's own weighting."""
    from xlsdk.bench.physics.act_arm import act_statistics

    generator = torch.Generator().manual_seed(0)
    spread = torch.rand(38, generator=generator) * 3 + 0.1  # metres, radians and latents of unlike scales
    actions = torch.randn(4000, 8, 38, generator=generator) * spread + 1.0
    data = {"states": torch.randn(4000, 38, generator=generator), "actions": actions,
            "pads": torch.zeros(4000, 8, dtype=torch.bool), "environment": torch.randn(4000, 13, generator=generator)}
    stats = act_statistics(data, share)
    normalised = ((actions - stats["xlsdk.action_mean"]) / stats["xlsdk.action_std"]).abs().mean(dim=(0, 1))
    wrist = float(normalised[:6].sum() / normalised.sum())
    assert wrist == pytest.approx(share if share is not None else 6 / 38, rel=0.03)


def test_act_trains_as_many_steps_as_the_xlvla_arms_unless_told() -> None:
    """The issue asks for the same steps within a mode; ``act_steps`` is an explicit override (the quick run's)."""
    from xlsdk.bench.physics.benchmark import PhysicsBenchConfig

    assert PhysicsBenchConfig(steps=5000).act_training_steps == 5000
    assert PhysicsBenchConfig(steps=5000, act_steps=700).act_training_steps == 700
    assert PhysicsBenchConfig.quick().act_training_steps == 1500 < PhysicsBenchConfig.quick().steps


def test_each_arm_trains_on_its_own_budget_and_the_costliest_is_queued_first() -> None:
    """ACT takes its own steps and batch; every arm keeps ``checkpoints`` evenly spaced snapshots ending at its last
    step; ACT's smaller batch still costs more CPU a step, so at equal steps it is the job the pool starts first."""
    from xlsdk.bench.physics.benchmark import PhysicsBenchConfig, training_budget

    quick = PhysicsBenchConfig.quick()
    act, latent = training_budget(quick, "act-latent"), training_budget(quick, "latent")
    assert (act.steps, act.batch, act.snapshots) == (1500, 64, (750, 1500))
    assert (latent.steps, latent.batch, latent.snapshots) == (4000, 256, (2000, 4000))
    full = PhysicsBenchConfig(steps=48000)
    assert training_budget(full, "slots").snapshots == (12000, 24000, 36000, 48000)
    assert training_budget(full, "act-latent").cpu_s > training_budget(full, "raw").cpu_s > 0


def test_the_quick_run_compares_the_three_arms_the_issue_names_unless_told() -> None:
    from xlsdk.bench.physics.benchmark import PhysicsBenchConfig

    assert PhysicsBenchConfig.quick().arms == ("latent", "raw", "act-latent")
    assert PhysicsBenchConfig().arms == ("latent", "raw", "slots", "act-latent")
    assert PhysicsBenchConfig.quick(arms=("slots",)).arms == ("slots",)


def test_unknown_task_is_refused() -> None:
    from xlsdk.errors import UnknownTaskError

    with pytest.raises(UnknownTaskError, match="tasks are pinch_lift"):
        sample_scene("juggle", np.random.default_rng(0))


def test_two_hands_of_one_name_do_not_share_a_grasp_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The expert's choice caches are keyed by the hand's digest, not its name: a hand of the same name with
    other kinematics (a zero-shot hand onboarded again, a test's fresh host) measures its own choice, while
    the same hand loaded again finds the one a pool handed over (through the workers' own keys).

    With no choice scenes the choice runs no episode and falls to the first option, so the remembered choice
    is the last option: whichever answer a hand gets says where it came from."""
    from synthetic_hands import write_synthetic_hand

    from xlsdk.bench.physics import expert
    from xlsdk.bench.physics.jobs import warm
    from xlsdk.hand import Hand
    from xlsdk.hand_spec import load_hand_spec

    monkeypatch.setattr(expert, "_CHOICES", {})
    monkeypatch.setattr(expert, "TRIALS", {})
    monkeypatch.setattr(expert, "CHOICE_SCENES", 0)
    first, other = (write_synthetic_hand(tmp_path / folder, name="twin", scale=scale).manifest
                    for folder, scale in (("a", 1.0), ("b", 1.2)))
    hand, again, twin = (Hand(load_hand_spec(manifest), plugin="test") for manifest in (first, first, other))
    assert hand.name == twin.name and hand.spec.digest != twin.spec.digest
    task, (measured, *_, remembered) = "pinch_lift", expert.OPTIONS["pinch_lift"]

    bands = len(expert.size_bands(task))
    warm([(("choice", expert.choice_key(hand, task)), (remembered,) * bands)])  # what a pool's worker is handed

    assert expert.chosen_grasp(again, task, 0.015) == remembered, "the same hand, loaded again, finds its choice"
    assert expert.chosen_grasps(twin, task) == (measured,) * bands, "another hand of the same name measures its own"
    assert list(expert.TRIALS) == [expert.choice_key(twin, task)]


@pytest.mark.slow
def test_two_shards_merged_equal_one_unsharded_run(inspire: xlsdk.Hand, tmp_path: Path) -> None:
    """Shards are independent units: two merged by LeRobot's aggregation hold exactly the frames of one shard
    over the same scenes, and the bulk reader agrees with LeRobot's own delta-timestamp reader."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    from xlsdk.bench.physics.dataset import ENVIRONMENT_KEY, Shard, generate_shard, merge_shards, read_frames

    parts = [Shard(hand="inspire", task="press_button", first=0, count=2),
             Shard(hand="inspire", task="press_button", first=2, count=2)]
    roots = [tmp_path / part.name for part in parts]
    results = [generate_shard(part, inspire, root) for part, root in zip(parts, roots, strict=True)]
    assert [r.kept for r in results] == [[0, 1], [2, 3]]
    merged = merge_shards(roots, tmp_path / "merged", "xlsdk/physics_inspire")
    whole = generate_shard(Shard(hand="inspire", task="press_button", first=0, count=4), inspire, tmp_path / "whole")
    assert whole.kept == [0, 1, 2, 3]
    a = read_frames([merged], history=2, chunk=8, scene="wrist+tips")  # every stored scene feature
    b = read_frames([tmp_path / "whole"], history=2, chunk=8, scene="wrist+tips")
    assert len(a.states) == len(b.states) == 4 * 40
    assert all(torch.equal(x, y) for x, y in zip(a.actions, b.actions, strict=True))
    assert all(torch.equal(x, y) for x, y in zip(a.states, b.states, strict=True))
    assert torch.equal(a.environment, b.environment) and a.tasks == b.tasks

    dataset = LeRobotDataset(repo_id="merged", root=merged, delta_timestamps={
        "observation.state": [-0.2, 0.0], "action": [i / 5 for i in range(8)]})
    assert dataset.meta.robot_type == "inspire" and dataset.meta.total_episodes == 4
    assert dataset.meta.features["action"]["names"][:2] == ["wrist.x", "wrist.y"]
    for row in (0, 1, 37, 39, 40, 159):  # episode starts and ends, where history and chunks are clamped
        item = dataset[row]
        assert torch.allclose(item["observation.state"], a.states[row]) and torch.allclose(item["action"], a.actions[row])
        assert torch.equal(item["action_is_pad"], a.pads[row])
        assert torch.allclose(item[ENVIRONMENT_KEY], a.environment[row])


@pytest.mark.slow
def test_a_state_policy_reproduces_its_training_scenes(inspire: xlsdk.Hand, tmp_path: Path) -> None:
    """The learning test: one hand x one task in state mode, DART demonstrations, the latent arm trained in the
    suite on the frames the benchmark trains on (its grasp frame, :func:`policy_frames`); it lifts the ball on at
    least 80 % of the scenes it was trained on (the expert: all of them)."""
    from xlsdk.bench.physics.dataset import Shard, generate_shard, read_frames
    from xlsdk.bench.physics.grasp_frame import grasp_point
    from xlsdk.bench.physics.policies import XlvlaRunner, policy_frames, space_for, xlvla_training_set
    from xlsdk.policy.train import train_policy

    result = generate_shard(Shard(hand="inspire", task="power_lift", first=0, count=LEARN_SCENES), inspire,
                            tmp_path / "demos")
    assert len(result.kept) >= 0.8 * LEARN_SCENES, "the expert itself is not reliable here"
    point = np.asarray(grasp_point(inspire))
    frames = policy_frames(read_frames([tmp_path / "demos"], history=2, chunk=8), {"inspire": point})
    config, data = xlvla_training_set("latent", frames, {"inspire": inspire}, obs="state", raw_width=inspire.dof,
                                      image_size=64, chunk_size=8, n_action_steps=4, wrist_loss_share=0.5)
    policy, losses, _ = train_policy(data, config, steps=LEARN_STEPS, batch_size=256,
                                     seed=0, progress=False, device="cpu")
    assert np.mean(losses[-50:]) < 0.1 * np.mean(losses[:20])
    runner = XlvlaRunner("latent", policy, space_for(config), "state", 64, ensemble=True)  # the benchmark's execution
    replayed = [runner.episode(inspire, scene_of("power_lift", i), point=point) for i in result.kept[:10]]
    solved = sum(bool(e is not None and e.success) for e in replayed)
    assert solved >= 8, f"the policy reproduced {solved} of 10 of its own training scenes"


LEARN_SCENES = 30
LEARN_STEPS = 1500


@pytest.mark.slow
def test_miniature_benchmark_end_to_end(tmp_path: Path) -> None:
    """Tiny data and training; the protocol, splits, intervals, ceilings and report files are the real ones."""
    from xlsdk.bench.physics.benchmark import PhysicsBenchConfig, run_physics_bench, write_report

    config = PhysicsBenchConfig(hands=("inspire", "ability"), held_out_hand="ability",
                                held_out_combos=(("inspire", "push_block"),), zero_shot_corpus=(),
                                tasks=("press_button", "push_block"), demos_per_task=2, shard_size=2, eval_scenes=1,
                                validation_scenes=1, checkpoints=2, training_scene_checks=1, steps=4, batch_size=16,
                                act_batch_size=4, seeds=(0, 1), workers=1)
    torch.manual_seed(1234)
    before = torch.random.get_rng_state()
    report = run_physics_bench(config, tmp_path, progress=False)
    assert torch.equal(torch.random.get_rng_state(), before), "the benchmark left the caller's RNG alone"
    write_report(report, tmp_path)
    data = json.loads((tmp_path / "physics.json").read_text())
    assert set(data["summary"]) == {"latent", "raw", "slots", "act-latent"}
    assert set(data["summary"]["latent"]) == {"seen", "held-out combination", "held-out hand", "seen, training scenes"}
    cell = data["summary"]["raw"]["seen"]
    assert set(cell) >= {"mean", "spread", "ci95"} and len(cell["per_seed"]) == 2 and cell["trials"] == 2
    low, high = cell["ci95"]
    assert 0.0 <= low <= cell["mean"] <= high <= 1.0 and high - low > 0.3  # two episodes decide little
    cpu = data["cpu_seconds"]
    assert cpu["total"] >= cpu["training"] > 0 and cpu["expert demonstrations (shards)"] > 0
    combos = {(c["hand"], c["task"]): c for c in data["combos"]}
    assert combos[("inspire", "push_block")]["split"] == "held-out combination"
    assert combos[("ability", "press_button")]["split"] == "held-out hand"
    assert combos[("inspire", "press_button")]["expert_success"]["mean"] == 1.0  # the ceiling is measured
    for combo in data["combos"]:  # a ceiling below the bar always comes with its reason
        below = combo["expert_success"]["mean"] < 0.9 and combo["note"] != "the expert cannot do it"
        assert ("the expert at" in combo["note"]) == below, combo
    assert set(combos[("inspire", "press_button")]["success"]) == {"latent", "raw", "slots", "act-latent"}
    replayed = combos[("inspire", "press_button")]["training_success"]  # per cell, not only pooled
    assert set(replayed) == {"latent", "raw", "slots", "act-latent"} and replayed["raw"]["trials"] == 2
    assert combos[("inspire", "press_button")]["expert_training_success"]["mean"] == 1.0  # it made that demo
    assert combos[("inspire", "push_block")]["training_success"] == {}  # held out: no demonstrations to replay
    assert combos[("inspire", "push_block")]["expert_training_success"] is None
    assert data["demonstrations"]["inspire"]["press_button"]["kept"] >= 2
    assert "push_block" not in data["demonstrations"]["inspire"]  # the held-out combination has no data
    assert data["raw_width"] == max(xlsdk.load_hand(n).dof for n in ("inspire", "ability"))
    assert data["train_frames"] == data["demonstrations"]["inspire"]["press_button"]["kept"] * 40
    assert set(data["learning_curves"]["latent"]) == {"2", "4"} and len(data["chosen_checkpoints"]["slots"]) == 2
    assert set(data["learning_curves"]["act-latent"]) == {"2", "4"}  # ACT trains the XL-VLA arms' steps
    assert data["strips"] and all((tmp_path / f).is_file() for f in data["strips"].values())
    assert "<img" in (tmp_path / "physics.html").read_text()
    _rerun_of_one_arm_merges_back(config, report, tmp_path)


def _rerun_of_one_arm_merges_back(config, report, out: Path) -> None:
    """A rerun of one arm (``--arms latent``, the change a refitted head asks for) merged into the full report:
    the rerun reproduces the arm (the premise: the run is deterministic), the other arms and their strips
    stay the full run's, both runs are named; two runs of different protocols are refused, naming what
    differs, and the docs tool exits 1 on them."""
    import subprocess
    import sys

    from xlsdk.bench.physics.benchmark import PhysicsBenchReport, run_physics_bench, write_report
    from xlsdk.bench.physics.merge import merge_report_files, merge_reports
    from xlsdk.errors import DataFormatError

    rerun = run_physics_bench(config.model_copy(update={"arms": ("latent",)}), out / "rerun", progress=False)
    write_report(rerun, out / "rerun")
    assert rerun.summary["latent"] == report.summary["latent"]  # deterministic: the same data, seeds and scenes
    merged = PhysicsBenchReport.model_validate_json(
        merge_report_files(out / "physics.json", out / "rerun" / "physics.json", out / "merged").read_text())
    assert list(merged.summary) == ["latent", "raw", "slots", "act-latent"] == list(merged.config.arms)
    assert merged.summary == report.summary and merged.combos == report.combos
    assert [(p.arms, p.seconds) for p in merged.parts] == [(["raw", "slots", "act-latent"], report.seconds),
                                                           (["latent"], rerun.seconds)]
    assert merged.strips.keys() == report.strips.keys()
    for key, relative in merged.strips.items():  # each strip is the bytes of the run that measured its arm
        source = out / "rerun" if key.endswith(("/latent", "/expert")) else out
        assert (out / "merged" / relative).read_bytes() == (source / relative).read_bytes()

    seen = rerun.summary["latent"]["seen"]  # which run each arm's numbers come from, where they differ
    better = seen.model_copy(update={"successes": seen.successes + 1})
    changed = rerun.model_copy(update={"summary": {"latent": {**rerun.summary["latent"], "seen": better}},
                                       "combos": [c.model_copy(update={"success": {"latent": better}})
                                                  for c in rerun.combos]})
    mixed = merge_reports(report, changed)
    assert mixed.summary["latent"]["seen"] == better and mixed.summary["raw"] == report.summary["raw"]
    assert all(c.success["latent"] == better and c.success["slots"] == r.success["slots"]
               for c, r in zip(mixed.combos, report.combos, strict=True))

    pushed = rerun.combos[0].model_copy(update={"expert_success": rerun.combos[0].success["latent"].model_copy(
        update={"successes": rerun.combos[0].expert_success.successes + 1})})
    other = rerun.model_copy(update={"combos": [pushed, *rerun.combos[1:]]})
    with pytest.raises(DataFormatError, match=f"{pushed.hand} x {pushed.task}: the reports differ in expert_success"):
        merge_reports(report, other)
    longer = rerun.model_copy(update={"config": rerun.config.model_copy(update={"steps": 8})})
    with pytest.raises(DataFormatError, match="configs differ in 'steps'"):
        merge_reports(report, longer)
    (out / "longer").mkdir()
    (out / "longer" / "physics.json").write_text(longer.model_dump_json())
    tool = Path(__file__).resolve().parents[1] / "benchmarks" / "physics" / "run.py"
    done = subprocess.run([sys.executable, str(tool), "--from-report", str(out / "physics.json"), "--merge",
                           str(out / "longer" / "physics.json")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "configs differ in 'steps'" in done.stderr
    assert not (out / "longer" / "merged").exists()  # nothing half-written
    (out / "bare").mkdir()  # the same protocol, its strips left behind
    (out / "bare" / "physics.json").write_text(rerun.model_dump_json())
    with pytest.raises(DataFormatError, match="the episode strip .* is missing"):
        merge_report_files(out / "physics.json", out / "bare" / "physics.json", out / "bare" / "merged")
    assert not (out / "bare" / "merged").exists()


@pytest.mark.slow
def test_miniature_vision_benchmark_end_to_end(tmp_path: Path) -> None:
    """``--obs vision``: demonstrations with both cameras, the image policies (XL-VLA and ACT) trained and
    rolled out, and the report in the same shape as state mode. (Its first quick run stopped in training:
    the vision policy was handed the object features the datasets also store.)"""
    from xlsdk.bench.physics.benchmark import PhysicsBenchConfig, run_physics_bench, write_report

    config = PhysicsBenchConfig(hands=("inspire",), held_out_hand=None, held_out_combos=(), zero_shot_corpus=(),
                                tasks=("press_button",), arms=("latent", "act-latent"), obs="vision", image_size=32,
                                demos_per_task=2, shard_size=2, eval_scenes=1, validation_scenes=1, checkpoints=2,
                                training_scene_checks=1, steps=3, batch_size=8, act_steps=2, act_batch_size=4,
                                seeds=(0,), workers=1)
    report = run_physics_bench(config, tmp_path, progress=False)
    write_report(report, tmp_path)
    data = json.loads((tmp_path / "physics.json").read_text())
    assert data["config"]["obs"] == "vision" and set(data["summary"]) == {"latent", "act-latent"}
    assert set(data["summary"]["latent"]) == {"seen", "seen, training scenes"}
    assert set(data["summary"]["latent"]["seen"]) >= {"mean", "spread", "ci95", "per_seed", "trials"}
    info = json.loads((tmp_path / "datasets" / "inspire" / "meta" / "info.json").read_text())
    assert {"observation.images.wrist", "observation.images.front"} <= set(info["features"])
    assert data["combos"][0]["expert_success"]["trials"] == 1 and data["train_frames"] > 0

    # the frames are held as stored (uint8: a quarter of float32's memory) and each batch becomes [0, 1] floats
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    from xlsdk.bench.physics.dataset import read_frames
    from xlsdk.policy.train import image_batch

    root = tmp_path / "datasets" / "inspire"
    frames = read_frames([root], history=2, chunk=8, images=True)
    assert all(image.dtype == torch.uint8 and image.shape == (3, 32, 64) for image in frames.images)
    stored = LeRobotDataset(repo_id="inspire", root=root)[5]
    batch = image_batch(torch.stack(frames.images[4:6]))
    assert batch.dtype == torch.float32 and 0.0 <= float(batch.min()) and float(batch.max()) <= 1.0
    for camera, columns in (("wrist", slice(0, 32)), ("front", slice(32, 64))):
        assert torch.allclose(batch[1, :, :, columns], stored[f"observation.images.{camera}"], atol=0.5 / 255)


@pytest.mark.slow
def test_the_process_pool_gives_what_running_inline_gives() -> None:
    """Jobs run in spawned worker processes return what the same jobs return inline, with their CPU time."""
    from xlsdk.bench.physics.jobs import Pool, expert_job

    calls = [("inspire", [scene_of("press_button", 0)]), ("ability", [scene_of("push_block", 1)])]
    with Pool(1, []) as inline:
        expected = inline.map("expert", expert_job, calls)
    with Pool(2, []) as pool:
        got = pool.map("expert", expert_job, calls)
    assert [outcome for outcome, _ in got] == [outcome for outcome, _ in expected] == [[True], [True]]
    assert pool.cpu["expert"] > 0 and pool.jobs_cpu == pool.cpu["expert"]
    # phases queued together (the benchmark overlaps them) and collected in any order keep their own results
    late = [("inspire", [scene_of("push_block", 1)])]
    with Pool(2, []) as pool:
        first, second = pool.submit("first", expert_job, calls), pool.submit("second", expert_job, late)
        assert len(first) == 2 and len(second) == 1
        got_second, got_first = second.results(), first.results()
    assert [outcome for outcome, _ in got_first] == [[True], [True]] and got_second[0][0] == [True]
    assert pool.cpu["first"] > 0 and pool.cpu["second"] > 0
    assert pool.jobs_cpu == pytest.approx(pool.cpu["first"] + pool.cpu["second"])


def test_the_grasp_frame_measures_from_the_grasp_point_and_gives_the_wrist_back() -> None:
    """With the wrist where :func:`~xlsdk.physics.grasp.placed` puts a hand's grasp point on the object, the
    grasp frame sees the object at zero offset; a command to stay there comes back as that very wrist pose;
    the training frames are shifted exactly as a running policy's observations are, and a scene feature that
    reads "none" (zeros) stays zeros."""
    from xlsdk.bench.physics.grasp_frame import shift_frames, shift_observation, unshift_command
    from xlsdk.bench.physics.observation import OBJECT_FEATURES, SCENE_FEATURES, Observation
    from xlsdk.physics.grasp import placed
    from xlsdk.policy.train import DemoFrames

    rng = np.random.default_rng(3)
    point = np.array([-0.02, 0.06, 0.13])
    target = np.array([0.03, -0.02, 0.03])
    goal = slice(OBJECT_FEATURES.index("goal.dx"), OBJECT_FEATURES.index("goal.dz") + 1)
    observations = []
    for _ in range(5):
        wrist = placed(point, target, rng.uniform(-0.6, 0.6, 3))
        objects = rng.normal(size=len(SCENE_FEATURES))
        objects[0:3] = target - wrist[:3]
        objects[goal] = 0.0  # no goal in this scene
        obs = Observation(state=np.concatenate([wrist, rng.uniform(0, 1, 6)]), objects=objects, image=lambda c: None)
        shifted = shift_observation(obs, point)
        np.testing.assert_allclose(shifted.objects[0:3], 0.0, atol=1e-12)
        assert not shifted.objects[goal].any()
        np.testing.assert_allclose(shifted.state[6:], obs.state[6:])
        np.testing.assert_allclose(unshift_command(shifted.state, point)[:6], wrist, atol=1e-12)
        observations.append((obs, shifted))
    states = [torch.tensor(np.stack([o.state, o.state]), dtype=torch.float64) for o, _ in observations]
    frames = DemoFrames(images=None, tasks=["t"] * 5, hands=["h"] * 5, states=states,
                        actions=[s.clone() for s in states], pads=[torch.zeros(2, dtype=torch.bool)] * 5, fps=5.0,
                        frames_per_episode=5,
                        environment=torch.tensor(np.stack([o.objects for o, _ in observations])))
    moved = shift_frames(frames, {"h": point})
    for index, (_, shifted) in enumerate(observations):
        np.testing.assert_allclose(moved.states[index][-1].numpy(), shifted.state, atol=1e-12)
        np.testing.assert_allclose(moved.actions[index][0].numpy(), shifted.state, atol=1e-12)
        np.testing.assert_allclose(moved.environment[index].numpy(), shifted.objects, atol=1e-12)
    np.testing.assert_allclose(frames.states[0][-1].numpy(), observations[0][0].state)  # the input is untouched


def test_temporal_ensembling_averages_every_live_chunk_in_absolute_terms(inspire: xlsdk.Hand) -> None:
    """A chunk every step; the command for step t is the weighted mean of what each live chunk said for t, each
    chunk's wrist anchored at the wrist measured when it was predicted (so a wrist that moved between two
    predictions does not shift the older chunk's targets)."""
    from xlsdk.bench.physics.observation import SCENE_FEATURES, Observation
    from xlsdk.bench.physics.policies import ENSEMBLE_DECAY, XlvlaRunner, make_xlvla_config, space_for
    from xlsdk.bench.physics.space import absolute_wrist
    from xlsdk.policy.modeling_xlvla import STATE, XlvlaPolicy
    from xlsdk.training import global_rng_untouched

    config = make_xlvla_config("raw", obs="state", raw_width=inspire.dof, image_size=64, chunk_size=4,
                               n_action_steps=2, wrist_loss_share=0.5)
    with global_rng_untouched():
        torch.manual_seed(0)
        policy = XlvlaPolicy(config).eval()
    space = space_for(config)
    runner = XlvlaRunner("raw", policy, space, "state", 64, ensemble=True)
    scene = scene_of("power_lift", 0)
    rng = np.random.default_rng(0)
    observations = [Observation(state=np.concatenate([[0.01 * t, 0.0, 0.2, 0, 0, 0], np.full(inspire.dof, 0.1 * t)]),
                                objects=rng.normal(size=len(SCENE_FEATURES)), image=lambda c: None) for t in range(3)]
    control = runner.controller(inspire, scene)
    commands = [control(t, obs) for t, obs in enumerate(observations)]

    def chunk(t: int) -> np.ndarray:  # what the chunk predicted at step t says, made absolute
        states = [space.encode(inspire, torch.as_tensor(observations[max(0, i)].state, dtype=torch.float32)[None])
                  for i in (t - 1, t)]
        batch = {"task": [scene.instruction], STATE: torch.stack(states, dim=1),
                 "observation.environment_state": torch.as_tensor(
                     observations[t].objects[:config.environment_dim], dtype=torch.float32)[None]}
        decoded = space.decode(inspire, policy.predict_action_chunk(batch)[0]).numpy()
        return np.stack([absolute_wrist(a, observations[t].state) for a in decoded])

    chunks = [chunk(t) for t in range(3)]
    np.testing.assert_allclose(commands[0], chunks[0][0], atol=1e-5)
    weights = np.exp(-ENSEMBLE_DECAY * np.arange(3))
    expected = (weights[0] * chunks[0][2] + weights[1] * chunks[1][1] + weights[2] * chunks[2][0]) / weights.sum()
    np.testing.assert_allclose(commands[2], expected, atol=1e-5)
    assert np.abs(chunks[0][2] - chunks[2][0]).max() > 1e-3  # the chunks disagree: the mean is not trivially one


def test_act_ensembles_its_chunks_in_absolute_terms_like_the_xlvla_arms(inspire: xlsdk.Hand) -> None:
    """ACT with ``ensemble``: the command for step t is the weighted mean of what each live chunk says for t, each
    made absolute at the wrist measured when it was predicted. A receding ACT that executes its whole chunk
    (n_action_steps = chunk) from a fresh start on observation t gives exactly chunk t, made absolute."""
    from xlsdk.bench.physics.act_arm import STATISTICS, ActRunner, act_config
    from xlsdk.bench.physics.observation import SCENE_FEATURES, SCENE_WIDTHS, Observation
    from xlsdk.bench.physics.policies import ENSEMBLE_DECAY
    from xlsdk.latent.head_loading import latent_dim
    from xlsdk.training import global_rng_untouched

    width = 6 + latent_dim()
    config = act_config(obs="state", width=width, image_size=64, chunk=4, n_action_steps=4)
    with global_rng_untouched():
        torch.manual_seed(0)
        from lerobot.policies.act.modeling_act import ACTPolicy

        weights = dict(ACTPolicy(config).state_dict())
    rng = np.random.default_rng(1)
    spread = [torch.zeros(width), torch.ones(width) * 0.3, torch.as_tensor(rng.normal(size=width) * 0.1).float(),
              torch.ones(width) * 0.2, torch.zeros(SCENE_WIDTHS["wrist"]), torch.ones(SCENE_WIDTHS["wrist"])]
    weights.update(dict(zip(STATISTICS, spread, strict=True)))
    scene = scene_of("power_lift", 0)
    observations = [Observation(state=np.concatenate([[0.02 * t, 0.0, 0.2, 0, 0, 0], np.full(inspire.dof, 0.1 * t)]),
                                objects=rng.normal(size=len(SCENE_FEATURES)), image=lambda c: None) for t in range(3)]

    def chunk(t: int) -> np.ndarray:
        control = ActRunner(config, weights, "state", 64).controller(inspire, scene)
        return np.stack([control(step, observations[t]) for step in range(4)])

    chunks = [chunk(t) for t in range(3)]
    control = ActRunner(config, weights, "state", 64, ensemble=True).controller(inspire, scene)
    commands = [control(t, obs) for t, obs in enumerate(observations)]
    np.testing.assert_allclose(commands[0], chunks[0][0], atol=1e-5)
    decay = np.exp(-ENSEMBLE_DECAY * np.arange(3))
    expected = (decay[0] * chunks[0][2] + decay[1] * chunks[1][1] + decay[2] * chunks[2][0]) / decay.sum()
    np.testing.assert_allclose(commands[2], expected, atol=1e-5)
    assert np.abs(chunks[0][2] - chunks[2][0]).max() > 1e-3  # the chunks disagree: the mean is not trivially one
    assert np.abs(chunks[0][2, :3] - chunks[2][0, :3]).max() > 1e-3  # and so do their absolute wrist targets


def test_a_hands_grasp_point_is_the_mean_centre_of_its_reference_grasps(inspire: xlsdk.Hand,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The grasp point is where the hand's reference grasps close (out along its fingers, on the palm side): the
    first of the expert's options per grasping task at the task's middle size. It does not follow the expert's
    choice, nor move when an option is added; a run without a grasping task measures from the wrist itself."""
    from xlsdk.bench.physics import expert
    from xlsdk.bench.physics.grasp_frame import grasp_point
    from xlsdk.physics import grasps

    tasks = ("power_lift", "bottle_upright", "press_button")
    centres = []
    for task in tasks[:2]:
        requests = expert.grasp_requests(task, expert.OPTIONS[task][0])
        kind, size, options = requests[len(requests) // 2]
        assert abs(size - float(np.mean([r[1] for r in requests]))) < 1.5e-3  # the middle of the task's sizes
        centres.append(grasps.cached(inspire, kind, size, **options).centre)
    point = grasp_point(inspire, tasks)
    np.testing.assert_allclose(point, np.mean(centres, axis=0), atol=1e-12)
    assert 0.08 < point[2] < 0.2 and point[1] > 0.02  # out along the fingers, in front of the palm
    assert not grasp_point(inspire, ("press_button", "push_block")).any()

    # the expert choosing another option (as a pool hands it over; undone after the test), or a new option
    # appended to a task's list, leaves the point where it was
    from_above = ("wrap", {"cylinder": True, "from_above": True})
    monkeypatch.setitem(expert._CHOICES, expert.choice_key(inspire, "bottle_upright"),
                        (from_above,) * len(expert.size_bands("bottle_upright")))
    monkeypatch.setitem(expert.OPTIONS, "power_lift", (*expert.OPTIONS["power_lift"], ("wrap", {"from_above": True})))
    np.testing.assert_array_equal(grasp_point(inspire, tasks), point)
    above = grasps.cached(inspire, "wrap", 0.025, cylinder=True, from_above=True).centre
    assert np.linalg.norm(np.asarray(above) - np.asarray(centres[1])) > 0.01  # a choice that would have moved it


def test_the_experts_backoff_depends_on_the_millimetre_not_on_which_scene_came_first() -> None:
    """The backoff is measured once per millimetre of size and process. Measured on whichever scene of that
    millimetre a process met first, a pool's expert depended on what its worker had run before: xhand's
    bottle did 53, 55 and 56 of the same 60 scenes in three runs. The two bottles here are two of its
    evaluation scenes (26.38 x 64.04 and 26.25 x 63.71 mm, both the key 26 x 64 mm); measured on each, the
    backoff of its wrap from above is 40 and 36 mm. Two processes that meet them in opposite orders must get
    the same backoff, one for both."""
    from xlsdk.bench.physics import expert
    from xlsdk.physics import grasps
    from xlsdk.physics.scene import SceneObject

    xhand = xlsdk.load_hand("xhand")
    grasp = grasps.cached(xhand, "wrap", 0.026, cylinder=True, from_above=True)
    first = SceneObject(name="target", kind="cylinder", size=(0.02638429, 0.06403801), pos=(0.3, 0.0, 0.0))
    second = SceneObject(name="target", kind="cylinder", size=(0.02625439, 0.06370515), pos=(0.25, 0.05, 0.0))
    saved = dict(expert._BACKOFFS)
    try:
        answers = []
        for order in ((first, second), (second, first)):
            expert._BACKOFFS.clear()  # a fresh process
            answers.append({item.size: expert._backoff(xhand, item, grasp) for item in order})
    finally:
        expert._BACKOFFS.clear()
        expert._BACKOFFS.update(saved)
    assert answers[0] == answers[1]
    assert answers[0][first.size] == answers[0][second.size]  # the same millimetre: one measurement


def test_a_cell_whose_expert_is_below_the_bar_is_reported_with_its_grasp_and_the_choices_trials() -> None:
    """The issue asks that no low ceiling go unexplained: a cell the expert does below 0.9 gets a note naming the
    grasp it used per size band and how every option did in the choice (what a pool's grasp jobs found)."""
    from xlsdk.bench.physics.benchmark import EXPERT_BAR, below_bar_note
    from xlsdk.bench.physics.expert import choice_key
    from xlsdk.bench.physics.stats import Rate

    paxini = xlsdk.load_hand("paxini")
    wrap, above = ("wrap", {"cylinder": True, "loose": True}), ("wrap", {"cylinder": True, "from_above": True})
    key = choice_key(paxini, "bottle_upright")
    trials = ([("wrap", wrap[1], 3, 3, 3), ("wrap", above[1], 3, 1, 3)], [("wrap", wrap[1], 5, 4, 6), ("wrap", above[1], 2, 0, 3)])
    known = [(("choice", key), (wrap, wrap)), (("trials", key), trials)]
    rate = Rate.of([(16, 20), (16, 20), (16, 20)])
    assert rate.mean < EXPERT_BAR
    note = below_bar_note(paxini, "bottle_upright", rate, known)
    assert note.startswith("the expert at 0.80, below 0.9, grasping with wrap loose"), note
    assert "22-25 mm: wrap loose 3/3 (3 under noise), wrap from above 3/3 (1 under noise)" in note, note
    assert "25-28 mm: wrap loose 5/6 (4 under noise)" in note, note
    assert below_bar_note(paxini, "push_block", rate, []) == "the expert at 0.80, below 0.9, grasping with -"


@pytest.mark.skipif(torch.cuda.is_available(), reason="asks for a GPU this machine lacks; with one the run would start")
def test_a_run_asked_for_a_gpu_it_cannot_have_fails_before_any_work(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture) -> None:
    """``--device cuda`` on a machine without one is refused with the fix at once, not after the hour of
    demonstrations that comes before training (the run resolves its device first)."""
    from xlsdk.cli import main

    out = tmp_path / "run"
    assert main(["bench", "physics", "--quick", "--device", "cuda", "--out", str(out)]) == 1
    said = "".join(capsys.readouterr())
    assert "no CUDA device" in said and "auto or cpu" in said
    assert not out.exists() or not any(out.iterdir()), "the run did work before refusing"


def test_the_training_device_is_checked_and_kept_in_the_rerun_command(capsys: pytest.CaptureFixture) -> None:
    from xlsdk.bench.physics.benchmark import PhysicsBenchConfig, reproduce_command
    from xlsdk.cli import main

    assert main(["bench", "physics", "--device", "tpu"]) == 1
    assert "--device must be auto, cpu or cuda, got 'tpu'" in "".join(capsys.readouterr())
    assert PhysicsBenchConfig().device == "auto"
    assert "--device" not in reproduce_command(quick=True)
    assert reproduce_command(quick=True, device="cpu").endswith("--device cpu")
