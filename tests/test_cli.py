"""The CLI: JSON contracts, exit codes (0 ok, 1 user error, 2 usage), one clear line per error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import INSTALLED_DOF, REFERENCE_DOF

import xlsdk
from xlsdk.cli import main


def run_cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_hands_json_lists_the_reference_hands(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run_cli(capsys, "hands", "--json")
    assert code == 0
    listing = json.loads(out)
    rows = {row["name"]: row for row in listing["hands"]}
    assert {name: row["dof"] for name, row in rows.items()} == INSTALLED_DOF
    assert rows["paxini"]["fingers"] == ["thumb", "index", "middle", "ring"]
    assert rows["inspire"]["fingers"] == ["thumb", "index", "middle", "ring", "little"]
    for row in rows.values():
        assert "sim" in row["drivers"]
        assert row["distribution"] == f"xlsdk-{row['name']}"
        assert row["head"] == "fitted", row  # the shipped reference heads match the shipped core latent
    assert listing["broken"] == []


@pytest.mark.parametrize("config", [{"hidden": []}, {"hidden": [64, -1, 64]}, {"lower": [0.0]}])
def test_a_malformed_head_breaks_only_its_hand(capsys: pytest.CaptureFixture, fresh_host, hand_plugin,  # noqa: ANN001
                                               synthetic, config: dict) -> None:  # noqa: ANN001
    """issue 15 item 8: a broken head.json is that hand's "corrupt" state; every other hand still lists."""
    from xlsdk.geometry import GEOMETRY_VERSION
    from xlsdk.latent.head_network import HeadConfig, LatentHead
    from xlsdk.latent.head_file import write_head
    from xlsdk.latent.head_loading import installed_core_latent

    fresh_host.register(hand_plugin(synthetic.manifest), name="vendor-x")
    hand = fresh_host.load_hand(synthetic.name)
    head = LatentHead(HeadConfig(hand=hand.name, dof=hand.dof, lower=hand.spec.lower, upper=hand.spec.upper))
    write_head(head, hand.head_path, hand.head_manifest_path, hand_digest=hand.spec.digest,
               fingerprint=installed_core_latent().fingerprint, geometry_version=GEOMETRY_VERSION, origin="fit")
    manifest = json.loads(hand.head_manifest_path.read_text())
    manifest["config"].update(config)
    hand.head_manifest_path.write_text(json.dumps(manifest))
    code, out, _ = run_cli(capsys, "hands", "--json")
    assert code == 0
    heads = {row["name"]: row["head"] for row in json.loads(out)["hands"]}
    assert heads[synthetic.name] == "corrupt"
    assert all(heads[name] == "fitted" for name in REFERENCE_DOF)
    code, out, _ = run_cli(capsys, "hands")
    assert code == 0 and synthetic.name in out and "corrupt" in out


def test_hands_table(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run_cli(capsys, "hands")
    assert code == 0
    for name in REFERENCE_DOF:
        assert name in out


@pytest.mark.parametrize("name", sorted(REFERENCE_DOF))
def test_info_json_contract(capsys: pytest.CaptureFixture, name: str) -> None:
    code, out, _ = run_cli(capsys, "info", name, "--json")
    assert code == 0
    info = json.loads(out)
    hand = xlsdk.load_hand(name)
    assert info["name"] == name
    assert Path(info["urdf"]).is_absolute() and Path(info["urdf"]).is_file()
    assert info["palm_link"] == "palm"
    assert [j["name"] for j in info["joints"]] == list(hand.joint_names)
    for joint, limit in zip(info["joints"], hand.limits, strict=True):
        assert (joint["lower"], joint["upper"]) == (limit.lower, limit.upper)
    assert list(info["fingers"]) == list(hand.fingers)
    for finger, tip in info["fingers"].items():
        assert set(tip) == {"link", "offset"} and len(tip["offset"]) == 3
    zero = np.array([info["fingertips"]["zero"]["tips"][f] for f in hand.fingers])
    # numpy FK (tip_kinematics) vs pytorch-kinematics, which reads URDF origins in float32: ~1e-8 m apart
    assert np.allclose(zero, hand.fk(hand.zero_pose()), rtol=0, atol=1e-7)


def test_info_table(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run_cli(capsys, "info", "ability")
    assert code == 0
    assert "thumb_cmc_yaw" in out and "fingertips" in out


def test_unknown_hand_is_a_user_error_listing_installed_hands(capsys: pytest.CaptureFixture) -> None:
    code, out, err = run_cli(capsys, "info", "shadow")
    assert code == 1
    assert out == ""
    assert "unknown hand 'shadow'" in err and "inspire" in err
    assert "Traceback" not in err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture) -> None:
    code, _, err = run_cli(capsys, "info")
    assert code == 2
    assert "Missing argument" in err


def test_script_exit_codes_in_a_real_process() -> None:
    ok = subprocess.run([sys.executable, "-m", "xlsdk", "hands", "--json"], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0 and json.loads(ok.stdout)["hands"]
    user_error = subprocess.run([sys.executable, "-m", "xlsdk", "info", "nope"], capture_output=True, text=True,
                                timeout=300)
    assert user_error.returncode == 1
    assert user_error.stderr.strip().startswith("error: unknown hand 'nope'")
    assert "Traceback" not in user_error.stderr
    usage = subprocess.run([sys.executable, "-m", "xlsdk", "no-such-command"], capture_output=True, text=True,
                           timeout=300)
    assert usage.returncode == 2


def _leaf_commands() -> list[str]:
    """Every command and sub-command of the real app, as 'policy run' etc."""
    import typer.main

    from xlsdk.cli import app

    root = typer.main.get_command(app)
    found: list[str] = []

    def walk(command, path: list[str]) -> None:  # noqa: ANN001 - a click command (typer vendors click)
        if hasattr(command, "list_commands"):
            for name in command.list_commands(None):
                walk(command.get_command(None, name), [*path, name])
        else:
            found.append(" ".join(path))

    walk(root, [])
    return sorted(found)


def _failing_invocations(tmp: Path) -> dict[str, tuple[list[str], int, str]]:
    """command -> (argv that must fail, exit code, text stderr/stdout must contain)."""
    missing = str(tmp / "missing")
    return {
        "hands": (["hands", "--no-such-flag"], 2, "No such option"),
        "plugins": (["plugins", "--no-such-flag"], 2, "No such option"),
        "info": (["info", "nosuch"], 1, "unknown hand 'nosuch'"),
        "check": (["check", "nosuch"], 1, "nosuch does not conform"),
        "fit": (["fit", "nosuch"], 1, "unknown hand 'nosuch'"),
        "publish": (["publish", "nosuch"], 1, "unknown hand 'nosuch'"),
        "retarget": (["retarget", "--from", "nosuch", "--to", "inspire", missing + ".npy", str(tmp / "o.npy")], 1,
                     "unknown hand 'nosuch'"),
        "new-hand": (["new-hand", "x", "--urdf", missing + ".urdf", "--yes", "--out", str(tmp / "x")], 1,
                     "file not found"),
        "demo": (["demo", "--trajectory", missing + ".npz", "--out", str(tmp / "demo")], 1, "missing.npz"),
        "view": (["view", "inspire", "--port", "70000"], 1, "port 70000 is not a TCP port"),
        "drive": (["drive", "inspire", "--speed", "0"], 1, "speed 0.0 must be a finite number above 0"),
        "latent train": (["latent", "train", "--steps", "0", "--out", str(tmp / "lat")], 2, "--steps"),
        "latent info": (["latent", "info"], 1, "core latent"),
        "latent eval": (["latent", "eval", "--hands", "nosuch"], 1, "unknown hand 'nosuch'"),
        "policy make-dataset": (["policy", "make-dataset", "inspire", "--out", str(tmp / "ds"), "--tasks", "nosuch"], 1,
                                "unknown task 'nosuch'"),
        "policy train": (["policy", "train", "--dataset", missing, "--out", str(tmp / "p")], 1,
                         "not a local LeRobot dataset"),
        "policy run": (["policy", "run", "inspire", "--policy", str(tmp)], 1, "not an xlsdk policy directory"),
        "bench crosshand": (["bench", "crosshand", "--steps", "0", "--out", str(tmp / "b")], 2, "--steps"),
        "bench physics": (["bench", "physics", "--seeds", "0", "--out", str(tmp / "b")], 2, "--seeds"),
        "teleop": (["teleop", "--keypoints", missing + ".jsonl", "--hand", "inspire"], 1, "no such file"),
        "bench physics-shard": (["bench", "physics-shard", "--hand", "inspire", "--task", "juggle", "--out",
                                 str(tmp / "shard")], 1, "unknown physics task 'juggle'"),
    }


def test_every_command_fails_with_a_nonzero_exit_code(capsys: pytest.CaptureFixture, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15 item 3: `typer.Exit(1)` (xlsdk check) used to come back as 0; every command is covered here."""
    from xlsdk.latent.head_loading import clear_core_latent_cache

    cases = _failing_invocations(tmp_path)
    assert sorted(cases) == _leaf_commands(), "a new command needs a failing case here"
    for command, (argv, expected, text) in cases.items():
        if command == "latent info":  # a core latent directory that does not exist
            monkeypatch.setenv("XLSDK_CORE_LATENT", str(tmp_path / "no_core"))
            clear_core_latent_cache()
        code = main(argv)
        monkeypatch.delenv("XLSDK_CORE_LATENT", raising=False)
        clear_core_latent_cache()
        out, err = capsys.readouterr()
        assert code == expected, f"{command}: exit {code}, expected {expected}\n{out}\n{err}"
        assert text in out + err, f"{command}: {text!r} not in\n{out}\n{err}"
        assert "Traceback" not in out + err


def test_check_exits_1_in_a_real_process_for_a_hand_that_does_not_conform() -> None:
    """What a vendor's CI sees: the script's exit status, not main()'s return value."""
    result = subprocess.run([sys.executable, "-m", "xlsdk", "check", "nosuch"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "does not conform" in result.stdout


def test_check_of_a_hand_without_a_head_exits_1(capsys: pytest.CaptureFixture, fresh_host, hand_plugin,  # noqa: ANN001
                                                synthetic) -> None:  # noqa: ANN001
    fresh_host.register(hand_plugin(synthetic.manifest), name="synth-plugin")
    assert main(["check", synthetic.name]) == 1
    out = capsys.readouterr().out
    assert "FAIL head" in out and f"{synthetic.name} does not conform" in out


def test_plugins_lists_every_plugin_with_hooks_version_and_state(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run_cli(capsys, "plugins", "--json")
    assert code == 0
    plugins = {p["name"]: p for p in json.loads(out)}
    assert plugins["xlsdk-core"]["core"] is True and plugins["xlsdk-core"]["hands"] == ["canonical"]
    assert "sim" in plugins["xlsdk-core"]["drivers"]
    for name in REFERENCE_DOF:
        row = plugins[name]
        assert row["distribution"] == f"xlsdk-{name}" and row["version"] == "0.1.0"
        assert row["hooks"] == ["xlsdk_register_drivers", "xlsdk_register_hands"]
        assert row["hands"] == [name] and row["state"] == "ok" and row["error"] is None
    code, out, _ = run_cli(capsys, "plugins")
    assert code == 0 and "xlsdk-core" in out and "canonical" in out and "broken" not in out


def test_plugins_shows_broken_and_disabled_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   fresh_host) -> None:  # noqa: ANN001
    from xlsdk.plugins import PluginHost, get_plugins, reset_plugin_host

    class Raising:
        def xlsdk_register_hands(self, register):  # noqa: ANN001
            raise RuntimeError("vendor bug")

    host = PluginHost(allow=["inspire"])
    host.register(Raising(), name="raising")
    previous = reset_plugin_host(host)
    try:
        plugins = {p.name: p for p in get_plugins()}
    finally:
        reset_plugin_host(previous)
    assert plugins["inspire"].state == "ok"
    assert plugins["ability"].state == "disabled" and plugins["ability"].hands == ()
    assert plugins["raising"].state == "broken" and "RuntimeError: vendor bug" in plugins["raising"].error
    assert plugins["raising"].hooks == ("xlsdk_register_hands",)


def test_the_python_api_lists_what_the_cli_prints(capsys: pytest.CaptureFixture) -> None:
    from xlsdk.catalog import hand_info, hands_listing

    code, out, _ = run_cli(capsys, "hands", "--json")
    assert code == 0 and json.loads(out) == hands_listing().model_dump(mode="json")
    code, out, _ = run_cli(capsys, "info", "xhand", "--json")
    assert code == 0 and json.loads(out) == hand_info("xhand").model_dump(mode="json")
    assert hand_info("xhand").drivers[:2] == ["sim", "xhand-sdk"]  # sim first, then what hand.toml offers


def test_one_function_decides_a_hands_drivers(fresh_host, hand_plugin, synthetic) -> None:  # noqa: ANN001
    """A manifest that offers a driver no plugin registers: listed nowhere as usable, refused by name, failed by check."""
    from xlsdk.conformance import run_check
    from xlsdk.drivers import driver_entry, hand_drivers
    from xlsdk.errors import DriverError

    text = synthetic.manifest.read_text()
    assert 'drivers = ["sim"]' in text
    synthetic.manifest.write_text(text.replace('drivers = ["sim"]', 'drivers = ["sim", "ghost-driver"]'))
    fresh_host.register(hand_plugin(synthetic.manifest), name="synth-plugin")
    hand = xlsdk.load_hand(synthetic.name)
    drivers = hand_drivers(hand)
    assert list(drivers)[:2] == ["sim", "ghost-driver"] and drivers["ghost-driver"] is None
    with pytest.raises(DriverError, match="offers driver 'ghost-driver'.*no installed plugin registers it"):
        driver_entry(hand, "ghost-driver")
    result = run_check(synthetic.name, "drivers")
    assert not result.passed and "ghost-driver" in result.message


def test_policy_commands_take_hand_as_the_first_argument(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    assert main(["policy", "run", "--policy", str(tmp_path)]) == 2
    assert "missing HAND" in capsys.readouterr().err
    assert main(["policy", "run", "inspire", "--hand", "xhand", "--policy", str(tmp_path)]) == 2
    assert "HAND 'inspire' and --hand 'xhand' disagree" in capsys.readouterr().err
    assert main(["policy", "make-dataset", "--hand", "inspire", "--tasks", "nosuch", "--out", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert "--hand is deprecated" in err and "unknown task 'nosuch'" in err
