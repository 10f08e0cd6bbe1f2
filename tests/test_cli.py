"""The CLI: JSON contracts, exit codes (0 ok, 1 user error, 2 usage), one clear line per error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REFERENCE_DOF

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
    assert {name: row["dof"] for name, row in rows.items()} == REFERENCE_DOF
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
    from xlsdk.latent.head import HeadConfig, LatentHead
    from xlsdk.latent.head_file import write_head
    from xlsdk.latent.heads import installed_core_latent

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
    assert np.allclose(zero, hand.fk(hand.zero_pose()), atol=1e-12)


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
