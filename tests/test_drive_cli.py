"""`xlsdk drive`: the demo motion on every hand (sim) and over the real protocols (simulated devices)."""

from __future__ import annotations

import json

import pytest
from conftest import REFERENCE_DOF

from xlsdk.cli import main


@pytest.mark.parametrize("name", sorted(REFERENCE_DOF))
def test_drive_sim(name: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["drive", name, "--driver", "sim", "--speed", "8", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["commands"] == 141 and report["final_error_rad"] < 0.02
    assert report["stats"]["rejected"] == 0 and report["stats"]["clamped"] == 0


@pytest.mark.parametrize("name, driver", [("inspire", "inspire-modbus"), ("ability", "ability-serial")])
def test_drive_real_protocol_against_the_simulated_device(name: str, driver: str,
                                                          capsys: pytest.CaptureFixture) -> None:
    assert main(["drive", name, "--driver", driver, "--simulate", "--speed", "8", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["driver"] == driver and report["final_error_rad"] < 0.03
    assert report["faults"] == []


def test_drive_errors(capsys: pytest.CaptureFixture) -> None:
    assert main(["drive", "inspire", "--driver", "inspire-modbus"]) == 1
    assert "needs --port" in capsys.readouterr().err
    assert main(["drive", "xhand", "--driver", "xhand-sdk", "--simulate"]) == 1
    assert "has no simulated device" in capsys.readouterr().err
    assert main(["drive", "paxini", "--driver", "nope"]) == 1
    assert "available: paxini-sdk, sim" in capsys.readouterr().err
