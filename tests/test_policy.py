"""The XL-VLA policy on LeRobot: processor steps on a real dataset, training, closed loop on every hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REFERENCE_DOF

import xlsdk
from xlsdk.cli import main
from xlsdk.errors import DataFormatError
from xlsdk.policy.action_space import LatentSpace, PaddedJointSpace
from xlsdk.bench.crosshand.dataset import write_hand_dataset
from xlsdk.bench.crosshand.tasks import TASKS, sample_scenes
from xlsdk.policy.latent_steps import LatentDecodeStep, LatentEncodeStep


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny real LeRobot datasets (one per hand) written by the benchmark's generator."""
    root = tmp_path_factory.mktemp("policy_data")
    rng = np.random.default_rng(0)
    out = {}
    for index, name in enumerate(("inspire", "xhand")):
        scenes = [s for task in ("pinch", "open") for s in sample_scenes(task, 3, rng)]
        out[name] = write_hand_dataset(xlsdk.load_hand(name), scenes, root / name, frames=8, image_size=48,
                                       seed=index).root
    return out


def test_processor_steps_round_trip_on_a_lerobot_dataset(datasets: dict[str, Path]) -> None:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset
    from lerobot.lerobot_types import TransitionKey

    dataset = LeRobotDataset(repo_id="xlsdk/crosshand_inspire", root=datasets["inspire"],
                             delta_timestamps={"action": [i / 10 for i in range(4)]})
    item = dataset[5]
    transition = {TransitionKey.OBSERVATION: {"observation.state": item["observation.state"][None]},
                  TransitionKey.ACTION: item["action"][None]}  # (1, 4, 6): a chunk
    encoded = LatentEncodeStep(hand="inspire")(transition)
    assert encoded[TransitionKey.ACTION].shape == (1, 4, 32)
    assert encoded[TransitionKey.OBSERVATION]["observation.state"].shape == (1, 32)
    decoded = LatentDecodeStep(hand="inspire")(encoded)[TransitionKey.ACTION]
    assert decoded.shape == (1, 4, 6)
    assert (decoded - item["action"][None]).abs().mean() < 0.03, "encode -> decode reconstructs the joints"
    other = LatentDecodeStep(hand="paxini")(encoded)[TransitionKey.ACTION]
    assert other.shape == (1, 4, 13), "the same latent chunk drives another hand"
    retargeted = torch.as_tensor(xlsdk.retarget(item["action"].numpy(), "inspire", "paxini"))
    assert torch.allclose(other[0], retargeted, atol=1e-5), "the two steps are exactly a retarget"
    with pytest.raises(DataFormatError, match="last dimension is 6, hand 'xhand' expects 12"):
        LatentEncodeStep(hand="xhand")(transition)


def test_steps_are_registered_and_serialisable() -> None:
    from lerobot.processor.pipeline import ProcessorStepRegistry

    assert ProcessorStepRegistry.get("xlsdk_latent_encode") is LatentEncodeStep
    assert ProcessorStepRegistry.get("xlsdk_latent_decode") is LatentDecodeStep
    assert LatentDecodeStep(hand="xhand").get_config() == {"hand": "xhand"}


def test_action_spaces() -> None:
    hand = xlsdk.load_hand("ability")
    q = hand.sample(5, torch.Generator().manual_seed(0))
    raw = PaddedJointSpace(13)
    padded = raw.encode(hand, q)
    assert padded.shape == (5, 13) and torch.all(padded[:, 6:] == 0)
    assert torch.allclose(raw.decode(hand, padded), q, atol=1e-5)
    latent = LatentSpace()
    assert latent.dim == xlsdk.core_latent().latent_dim
    assert (latent.decode(hand, latent.encode(hand, q)) - q).abs().mean() < 0.03


def test_widths_come_from_the_hands_and_the_latent() -> None:
    from xlsdk.errors import PolicyConfigError, PolicyError
    from xlsdk.policy.action_space import space_of
    from xlsdk.policy.train import make_config, widest_hand

    assert make_config("latent").action_dim == xlsdk.core_latent().latent_dim
    assert widest_hand([xlsdk.load_hand("inspire"), xlsdk.load_hand("xhand")]) == 12
    narrow = make_config("raw", raw_dim=widest_hand([xlsdk.load_hand("inspire"), xlsdk.load_hand("ability")]))
    assert narrow.action_dim == 6 and space_of(narrow).dim == 6
    xhand = xlsdk.load_hand("xhand")
    with pytest.raises(PolicyError, match="hand 'xhand' has 12 joints, wider than this raw-joint policy's 6"):
        space_of(narrow).decode(xhand, torch.zeros(1, 6))
    assert make_config("raw", hand="paxini").action_dim == 13, "a LeRobot-style config takes its hand's DOF"
    with pytest.raises(PolicyError, match="installed core latent has k = 32"):
        space_of(make_config("latent", latent_dim=16))
    with pytest.raises(PolicyConfigError, match="n_action_steps"):
        make_config("latent", n_action_steps=20)


def test_statistics_cover_what_the_policy_reads() -> None:
    """A vision policy (no environment input) trained on data that also stores the object features ignores
    them, as its forward pass does (the physics benchmark's vision run stopped here); a state policy takes
    them per dimension; environment values of the wrong width are refused by name."""
    from xlsdk.policy.modeling_xlvla import XlvlaPolicy
    from xlsdk.policy.train import make_config

    states, actions = torch.randn(40, 2, 6 + 32), torch.randn(40, 8, 6 + 32)
    environment = torch.randn(40, 13) * 3.0 + 1.0
    vision = XlvlaPolicy(make_config("latent", wrist_dim=6)).model
    assert vision.environment is None
    vision.set_statistics(states, actions, environment)
    assert torch.allclose(vision.action_mean, actions.reshape(-1, 38).mean(0), atol=1e-5)
    state = XlvlaPolicy(make_config("latent", wrist_dim=6, vision="none", environment_dim=13)).model
    state.set_statistics(states, actions, environment)
    assert torch.allclose(state.environment_mean, environment.mean(0), atol=1e-5)
    with pytest.raises(DataFormatError, match="environment has 12 values per frame; this policy was configured for 13"):
        state.set_statistics(states, actions, environment[:, :12])


def test_hashed_words_are_the_same_however_often_they_are_asked_for() -> None:
    """Instructions are hashed once and remembered (a batch repeats a few hundred times): the ids equal the
    crc32 buckets of the lower-cased words, per bucket count, and an empty text still gets one token."""
    import zlib

    from xlsdk.policy.text import hash_words

    texts = ["Lift the red cube", "lift the RED cube!", "", "press the button"] * 3
    for buckets in (512, 7):
        ids, offsets = hash_words(texts, buckets)
        again, _ = hash_words(texts, buckets)
        assert torch.equal(ids, again)
        expected = [zlib.crc32(w.encode()) % buckets for w in ("lift", "the", "red", "cube")]
        assert ids[: offsets[1]].tolist() == expected and ids[offsets[1]: offsets[2]].tolist() == expected
        assert offsets[3] - offsets[2] == 1  # the empty instruction
        assert offsets.tolist()[4:8] == [o + offsets[4].item() for o in offsets.tolist()[:4]]


def test_a_near_constant_input_is_not_blown_up() -> None:
    """A state entry that barely varies in the data (a wrist's roll when every grasp comes from above, no DART
    noise) is normalised by the state's floor, not its spread, so a policy 0.01 rad off reads 0.1 standard
    deviations, not 30; an object size spread over millimetres keeps its own scale under the environment's
    lower floor; actions keep their own spread (they are outputs); a constant stays at unit scale."""
    from xlsdk.errors import PolicyConfigError
    from xlsdk.policy.modeling_xlvla import XlvlaPolicy
    from xlsdk.policy.train import make_config

    generator = torch.Generator().manual_seed(0)
    states = torch.randn(200, 2, 6 + 32, generator=generator)
    states[..., 3] = 3e-4 * torch.randn(200, 2, generator=generator)  # roll: spread 0.0003 rad
    states[..., 4] = 0.0  # pitch: never moves
    actions = torch.randn(200, 8, 6 + 32, generator=generator)
    actions[..., 3] = 3e-4 * torch.randn(200, 8, generator=generator)
    environment = torch.randn(200, 13, generator=generator)
    environment[:, 6] = 0.015 + 0.0018 * torch.randn(200, generator=generator)  # a cube's half size, metres
    model = XlvlaPolicy(make_config("latent", wrist_dim=6, vision="none", environment_dim=13)).model
    model.set_statistics(states, actions, environment)
    config = model.config
    assert config.state_std_floor == 0.1 and config.environment_std_floor == 0.01
    assert model.state_std[3] == pytest.approx(config.state_std_floor)
    assert model.state_std[4] == 1.0
    assert model.state_std[0] == pytest.approx(float(states[..., 0].reshape(-1).double().std()), rel=1e-4)
    assert model.environment_std[6] == pytest.approx(config.environment_std_floor)
    assert model.environment_std[0] == pytest.approx(float(environment[:, 0].double().std()), rel=1e-4)
    assert model.action_std[3] == pytest.approx(float(actions[..., 3].reshape(-1).double().std()), rel=1e-4)
    off = states[:1].clone()
    off[..., 3] += 0.01  # the policy's wrist rolled by a hundredth of a radian
    assert float(((off - model.state_mean) / model.state_std)[0, -1, 3].abs()) < 0.3
    with pytest.raises(PolicyConfigError, match="state_std_floor must be > 0"):
        make_config("latent", wrist_dim=6, vision="none", environment_dim=13, state_std_floor=0.0)
    with pytest.raises(PolicyConfigError, match="hidden_dim must be 1 or more"):
        make_config("latent", wrist_dim=6, vision="none", environment_dim=13, hidden_dim=0)


def test_a_wrist_only_policy_reads_no_hand_state() -> None:
    """``proprio_dim=wrist_dim`` (the physics benchmark's ``--proprio wrist``): the hand's entries of the state
    change nothing the network predicts, the wrist's do; a width outside the state is refused by name."""
    from xlsdk.errors import PolicyConfigError
    from xlsdk.policy.modeling_xlvla import XlvlaPolicy
    from xlsdk.policy.train import make_config

    generator = torch.Generator().manual_seed(0)
    states, environment = torch.randn(4, 2, 6 + 32, generator=generator), torch.randn(4, 13, generator=generator)
    tasks = ["lift the red cube"] * 4
    for proprio_dim, hand_matters in ((6, False), (None, True)):
        model = XlvlaPolicy(make_config("latent", wrist_dim=6, vision="none", environment_dim=13,
                                        proprio_dim=proprio_dim)).model.eval()
        other_hand, other_wrist = states.clone(), states.clone()
        other_hand[..., 6:] += 1.0
        other_wrist[..., :6] += 1.0
        with torch.no_grad():
            chunk = model(None, tasks, states, environment)
            assert torch.equal(chunk, model(None, tasks, other_hand, environment)) != hand_matters
            assert not torch.equal(chunk, model(None, tasks, other_wrist, environment))
    with pytest.raises(PolicyConfigError, match="proprio_dim must be in 1..38"):
        make_config("latent", wrist_dim=6, vision="none", environment_dim=13, proprio_dim=39)


def test_select_action_keeps_the_history_and_replans_every_n_action_steps() -> None:
    from xlsdk.policy.modeling_xlvla import XlvlaPolicy
    from xlsdk.policy.train import make_config

    config = make_config("latent", chunk_size=6, n_action_steps=3, history=2)
    policy = XlvlaPolicy(config).eval()
    seen: list[torch.Tensor] = []
    predict = policy.predict_action_chunk

    def spy(batch: dict, **kwargs: object) -> torch.Tensor:
        seen.append(batch["observation.state"].clone())
        return predict(batch)

    policy.predict_action_chunk = spy  # type: ignore[method-assign]
    image = torch.rand(1, 3, 48, 48)
    states = [torch.full((1, config.action_dim), float(i)) for i in range(7)]
    actions = [policy.select_action({"observation.images.scene": image, "task": ["open the hand"],
                                     "observation.state": state}) for state in states]
    assert len(seen) == 3, "a chunk at calls 1, 4 and 7"
    assert seen[0].shape == (1, 2, config.action_dim) and torch.all(seen[0] == 0), "history padded with the first"
    assert torch.all(seen[1][0, 0] == 2) and torch.all(seen[1][0, 1] == 3), "the two latest states, oldest first"
    chunk = predict({"observation.images.scene": image, "task": ["open the hand"], "observation.state": seen[1]})
    for offset in range(3):
        assert torch.allclose(actions[3 + offset], chunk[:, offset]), "the chunk's first n_action_steps, in order"
    policy.reset()
    policy.select_action({"observation.images.scene": image, "task": ["open the hand"], "observation.state": states[5]})
    assert len(seen) == 4 and torch.all(seen[3] == 5), "reset forgets the history and the queued actions"


def test_tiny_policy_trains_and_its_loss_falls(datasets: dict[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "policy"
    code = main(["policy", "train", "--dataset", str(datasets["inspire"]), "--dataset", str(datasets["xhand"]),
                 "--out", str(out), "--steps", "150", "--batch-size", "32", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["hands"] == ["inspire", "xhand"] and report["action_space"] == "latent"
    assert report["final_loss"] < 0.5 * report["first_loss"], report
    for name in ("config.json", "model.safetensors", "xlsdk_policy.json"):
        assert (out / name).is_file()
    assert not list(out.glob("*.pt")) and not list(out.glob("*.bin")), "safetensors only"


def test_policy_train_device_choice_is_checked_first(datasets: dict[str, Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    args = ["policy", "train", "--dataset", str(datasets["inspire"]), "--out", str(tmp_path / "p"), "--steps", "3"]
    assert main([*args, "--device", "tpu"]) == 1
    assert "device must be auto, cpu or cuda, got 'tpu'" in capsys.readouterr().err
    if torch.cuda.is_available():
        assert main([*args, "--device", "cuda"]) == 0 and (tmp_path / "p" / "model.safetensors").is_file()
    else:
        assert main([*args, "--device", "cuda"]) == 1
        assert "torch sees no CUDA device" in capsys.readouterr().err
        assert not (tmp_path / "p").exists(), "nothing written"


def test_training_takes_hands_and_the_face_names_them(datasets: dict[str, Path], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    """policy.train reads each dataset's robot_type but resolves no name: the caller passes the Hands, a hand it
    left out is named with its dataset; `xlsdk policy train` (the face) refuses a robot_type nobody installed."""
    import shutil

    from xlsdk.errors import DataFormatError
    from xlsdk.policy.configuration_xlvla import XlvlaConfig
    from xlsdk.policy.train import dataset_hand_names, read_demo_frames

    roots = [datasets["inspire"], datasets["xhand"]]
    assert dataset_hand_names(roots) == ["inspire", "xhand"]
    with pytest.raises(DataFormatError, match=r"not a local LeRobot dataset"):
        dataset_hand_names([tmp_path])
    with pytest.raises(DataFormatError, match=r"xhand.*robot_type: hand 'xhand' is not among the hands given \(inspire\)"):
        read_demo_frames(roots, XlvlaConfig(action_space="latent"), {"inspire": xlsdk.load_hand("inspire")})
    stranger = tmp_path / "stranger"
    shutil.copytree(datasets["inspire"], stranger)
    info = stranger / "meta" / "info.json"
    info.write_text(info.read_text().replace('"robot_type": "inspire"', '"robot_type": "no_such_hand"'))
    assert dataset_hand_names([stranger]) == ["no_such_hand"]
    assert main(["policy", "train", "--dataset", str(stranger), "--out", str(tmp_path / "p"), "--steps", "1"]) == 1
    assert "robot_type 'no_such_hand' is not an installed hand" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


@pytest.fixture(scope="module")
def trained(datasets: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from xlsdk.policy.train import train_from_datasets

    out = tmp_path_factory.mktemp("trained") / "policy"
    train_from_datasets([datasets["inspire"], datasets["xhand"]], out, steps=60, batch_size=32, progress=False,
                        hands={name: xlsdk.load_hand(name) for name in ("inspire", "xhand")})
    return out


@pytest.mark.parametrize("name", sorted(REFERENCE_DOF))
def test_policy_run_on_the_sim_driver_for_every_hand(trained: Path, name: str, capsys: pytest.CaptureFixture) -> None:
    from xlsdk.bench.crosshand.tasks import task_success

    assert main(["policy", "run", name, "--policy", str(trained), "--task", "open", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["seen_in_training"] == (name in ("inspire", "xhand"))
    episode = report["episodes"][0]
    assert episode["success"] == task_success(episode["error"], episode["expert_error"])  # the benchmark's rule
    hand = xlsdk.load_hand(name)
    assert len(episode["final_q"]) == hand.dof and np.isfinite(episode["error"])
    assert np.abs(np.asarray(episode["final_q"]) - hand.zero_pose()).max() > 1e-3, "the policy moved the hand"


def test_policy_run_rejects_a_directory_without_a_policy(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["policy", "run", "--policy", str(tmp_path), "--hand", "inspire"]) == 1  # the old flag still works
    err = capsys.readouterr().err
    assert "not an xlsdk policy directory" in err and "--hand is deprecated" in err


def test_benchmark_machinery_in_miniature(tmp_path: Path) -> None:
    """Datasets -> both arms trained on the same frames -> held-out evaluation -> report."""
    from xlsdk.bench.crosshand.benchmark import CrosshandConfig, run_crosshand, write_report

    config = CrosshandConfig(tasks=("pinch", "open"), scenes_per_task=3, eval_scenes=2, steps=40, batch_size=16,
                             held_out_combos=(("inspire", "open"),))
    report = run_crosshand(config, tmp_path, progress=False)
    splits = {combo.split for combo in report.combos}
    assert splits == {"seen", "held-out combination", "held-out hand"}
    assert len(report.combos) == len(config.hands) * len(config.tasks)
    assert set(report.latency_ms) == {"latent", "raw"} and all(v > 0 for v in report.latency_ms.values())
    for combo in report.combos:
        assert set(combo.success) == {"latent", "raw"}
        assert all(rate in (0.0, 0.5, 1.0) for rate in combo.success.values()), "a share of the 2 scenes"
        assert all(np.isfinite(error) and error >= 0 for error in combo.error.values())
    assert report.train_frames > 0 and set(report.final_loss) == {"latent", "raw"}
    path = write_report(report, tmp_path)
    data = json.loads(path.read_text())
    assert data["summary"]["held-out hand"].keys() == {"latent", "raw"}
    assert "| held-out hand |" in (tmp_path / "crosshand.md").read_text()


@pytest.mark.slow
def test_lerobot_train_with_the_xlvla_policy_type(datasets: dict[str, Path], tmp_path: Path) -> None:
    """`lerobot-train --policy.type=xlvla` finds the policy through the lerobot_policy_xlvla shim."""
    env = {**os.environ, "HF_LEROBOT_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    command = [str(Path(sys.executable).parent / "lerobot-train"), "--dataset.repo_id=xlsdk/crosshand_inspire",
               f"--dataset.root={datasets['inspire']}", "--policy.type=xlvla", "--policy.hand=inspire",
               "--policy.push_to_hub=false", "--policy.device=cpu", "--steps=2", "--batch_size=4", "--num_workers=0",
               f"--output_dir={tmp_path / 'run'}", "--wandb.enable=false", "--save_freq=2"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    saved = tmp_path / "run" / "checkpoints" / "last" / "pretrained_model"
    assert '"xlsdk_latent_encode"' in (saved / "policy_preprocessor.json").read_text()
    assert '"xlsdk_latent_decode"' in (saved / "policy_postprocessor.json").read_text()
    assert (saved / "model.safetensors").is_file()


def test_every_task_renders_and_scores() -> None:
    from xlsdk.bench.crosshand.tasks import render, task_error

    hand = xlsdk.load_hand("paxini")
    rng = np.random.default_rng(3)
    scenes = [s for task in TASKS for s in sample_scenes(task, 2, rng)]
    errors = task_error(hand.geometry(hand.sample(len(scenes))), scenes)
    assert errors.shape == (len(scenes),) and bool(torch.isfinite(errors).all())
    images = {render(s).tobytes() for s in scenes}
    assert len(images) == len(scenes), "every scene looks different"


def test_a_k16_core_latent_gives_k16_policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`xlsdk latent train -k 16` must not break the policy: every width is read from the installed latent."""
    from lerobot.configs.types import FeatureType, PipelineFeatureType, PolicyFeature
    from lerobot.lerobot_types import TransitionKey

    from xlsdk.latent.core import CoreLatent
    from xlsdk.latent.head_network import HeadConfig, LatentHead
    from xlsdk.latent.head_loading import clear_core_latent_cache
    from xlsdk.policy.train import make_config

    canonical = xlsdk.load_hand("canonical")
    head = LatentHead(HeadConfig(hand="canonical", dof=canonical.dof, latent_dim=16, lower=canonical.spec.lower,
                                 upper=canonical.spec.upper))
    CoreLatent.from_heads({"canonical": head}, {"canonical": canonical.spec.digest},
                          {"canonical": canonical.fingers}).save(tmp_path / "k16")
    monkeypatch.setenv("XLSDK_CORE_LATENT", str(tmp_path / "k16"))
    clear_core_latent_cache()
    try:
        assert make_config("latent").action_dim == 16 and LatentSpace().dim == 16
        features = {PipelineFeatureType.ACTION: {"action": PolicyFeature(type=FeatureType.ACTION, shape=(canonical.dof,))}}
        out = LatentEncodeStep(hand="canonical").transform_features(features)
        assert out[PipelineFeatureType.ACTION]["action"].shape == (16,)
        q = canonical.sample(3, torch.Generator().manual_seed(0))
        encoded = LatentEncodeStep(hand="canonical")({TransitionKey.ACTION: q})[TransitionKey.ACTION]
        assert encoded.shape == (3, 16)
        assert LatentDecodeStep(hand="canonical")({TransitionKey.ACTION: encoded})[TransitionKey.ACTION].shape == q.shape
    finally:
        monkeypatch.delenv("XLSDK_CORE_LATENT")
        clear_core_latent_cache()
