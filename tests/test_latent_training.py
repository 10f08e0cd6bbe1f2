"""`xlsdk latent train`: seeded, resumable from checkpoints, and `latent info` / `latent eval` contracts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from synthetic_hands import write_synthetic_hand

import xlsdk
from xlsdk.cli import main
from xlsdk.hand import Hand
from xlsdk.hand_spec import load_hand_spec
from xlsdk.latent import train as training
from xlsdk.latent.train import LatentTrainConfig, train_core_latent


@pytest.fixture
def two_hands(tmp_path: Path) -> dict[str, Hand]:
    synthetic = write_synthetic_hand(tmp_path / "tri", name="tri", fingers=("thumb", "index", "middle"))
    return {"canonical": xlsdk.load_hand("canonical"), "tri": Hand(load_hand_spec(synthetic.manifest))}


def test_training_resumes_from_its_checkpoint_to_the_same_weights(two_hands: dict, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    config = LatentTrainConfig(hands=("canonical", "tri"), steps=6, batch_size=16, checkpoint_every=3)
    straight = train_core_latent(config, hands=two_hands, progress=False, evaluate=False,
                                 checkpoint_dir=tmp_path / "straight")

    original = training._training_step
    calls = {"n": 0}

    def crash_at_step_five(*args, **kwargs):  # noqa: ANN002, ANN003
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt  # the machine went down after the step-3 checkpoint
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "_training_step", crash_at_step_five)
    with pytest.raises(KeyboardInterrupt):
        train_core_latent(config, hands=two_hands, progress=False, evaluate=False, checkpoint_dir=tmp_path / "resumed")
    monkeypatch.setattr(training, "_training_step", original)
    resumed = train_core_latent(config, hands=two_hands, progress=False, evaluate=False,
                                checkpoint_dir=tmp_path / "resumed")
    assert resumed.fingerprint == straight.fingerprint, "resuming at step 3 gives bit-identical weights"


def test_another_config_does_not_resume_a_checkpoint(two_hands: dict, tmp_path: Path) -> None:
    first = LatentTrainConfig(hands=("canonical", "tri"), steps=3, batch_size=16, checkpoint_every=3)
    train_core_latent(first, hands=two_hands, progress=False, evaluate=False, checkpoint_dir=tmp_path)
    other = first.model_copy(update={"seed": 1})
    model = train_core_latent(other, hands=two_hands, progress=False, evaluate=False, checkpoint_dir=tmp_path)
    again = train_core_latent(other, hands=two_hands, progress=False, evaluate=False, checkpoint_dir=tmp_path / "x")
    assert model.fingerprint == again.fingerprint


def test_latent_info_json(capsys: pytest.CaptureFixture) -> None:
    assert main(["latent", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["fingerprint"] == xlsdk.core_latent().fingerprint and info["latent_dim"] == 32
    assert set(info["hands"]) == {"canonical", "inspire", "ability", "xhand", "paxini"}
    assert info["metrics"]["geometry_error"] < info["metrics"]["naive_error"]
    assert info["training"]["config"]["seed"] == 0
    assert info == xlsdk.core_latent().info(), "the command prints the library's description"


def test_training_settings_from_flags() -> None:
    """``xlsdk latent train``'s flags become a config in the library: None keeps a default, the ablation turns both
    cross-hand losses off, and every invalid setting is named in one error."""
    from xlsdk.errors import LatentError

    defaults = LatentTrainConfig()
    assert LatentTrainConfig.from_settings(seed=0, steps=None, batch_size=None) == defaults
    assert LatentTrainConfig.from_settings(steps=7).steps == 7
    ablation = LatentTrainConfig.from_settings(cross_hand=False)
    assert (ablation.retarget_weight, ablation.cycle_weight) == (0.0, 0.0) and defaults.retarget_weight > 0
    with pytest.raises(LatentError, match=r"invalid training settings: field `steps`: .*; field `batch_size`: "):
        LatentTrainConfig.from_settings(steps=0, batch_size=-1)


def test_latent_eval_json(capsys: pytest.CaptureFixture) -> None:
    assert main(["latent", "eval", "--hands", "inspire,ability", "--samples", "128", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {h["hand"] for h in report["hands"]} == {"inspire", "ability"}
    assert len(report["pairs"]) == 2
    for pair in report["pairs"]:
        assert pair["geometry_error"] < pair["naive_error"]


def test_pytest_plugin_runs_the_conformance_checks(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "--xlsdk-hand", "paxini", "-q", "-p", "no:cacheprovider",
                             "-o", "addopts="], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    from xlsdk.conformance import CHECK_NAMES

    assert f"{len(CHECK_NAMES)} passed" in result.stdout, result.stdout  # one test per conformance check


def test_pytest_plugin_reports_a_failing_check_with_its_fix(tmp_path: Path) -> None:
    synthetic = write_synthetic_hand(tmp_path / "plugin", name="nohead")
    plugin_module = tmp_path / "nohead_plugin.py"
    plugin_module.write_text(
        "from xlsdk import hookimpl\n\n@hookimpl\ndef xlsdk_register_hands(register):\n"
        f"    register({str(synthetic.manifest)!r})\n")
    dist = tmp_path / "nohead_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: nohead-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[xlsdk]\nnohead = nohead_plugin\n")
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "pytest", "--xlsdk-hand", "nohead", "-q", "-p", "no:cacheprovider",
                             "-o", "addopts="], cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 1
    assert "nohead: head: head none" in result.stdout and "fix: xlsdk fit nohead" in result.stdout
    from xlsdk.conformance import CHECK_NAMES

    # only the head and latent checks fail for a hand with no head; every other check passes
    assert f"{len(CHECK_NAMES) - 2} passed" in result.stdout and "2 failed" in result.stdout, result.stdout
