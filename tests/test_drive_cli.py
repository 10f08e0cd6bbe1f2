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
    assert "inspire-modbus needs a port: a serial device such as /dev/ttyUSB0" in capsys.readouterr().err
    assert main(["drive", "ability", "--driver", "ability-serial"]) == 1
    assert "ability-serial needs a port (the UART/RS-485 adapter" in capsys.readouterr().err
    assert main(["drive", "xhand", "--driver", "xhand-sdk", "--simulate"]) == 1
    assert "has no simulated device" in capsys.readouterr().err
    assert main(["drive", "paxini", "--driver", "nope"]) == 1
    err = capsys.readouterr().err
    assert "no driver 'nope' for hand 'paxini'; available: " in err and "paxini-sdk" in err and "sim" in err


@pytest.mark.parametrize("args, message", [
    (["--driver", "inspire-modbus", "--simulate", "--option", "bogus=1"],
     "driver 'inspire-modbus': option bogus: not an option of this driver"),
    (["--driver", "inspire-modbus", "--simulate", "--option", "device_id=300"],
     "driver 'inspire-modbus': option device_id=300: Input should be less than or equal to 247"),
    (["--speed", "0"], "speed 0.0 must be a finite number above 0"),
    (["--speed", "-1"], "speed -1.0 must be a finite number above 0"),
    (["--speed", "nan"], "speed nan must be a finite number above 0"),
    (["--speed", "inf"], "speed inf must be a finite number above 0"),
    (["--option", "bogus=1"], "the sim driver has no option 'bogus'; its options are tau, max_speed"),
    (["--port", "/dev/ttyUSB0"], "the sim driver has no option 'port'"),
])
@pytest.mark.timeout(120)
def test_bad_drive_settings_are_one_clear_line(args: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    """Issue 15 item 11: pydantic tracebacks, an OverflowError, and settings accepted silently before."""
    assert main(["drive", "inspire", *args]) == 1
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""


def test_sim_options_are_applied(capsys: pytest.CaptureFixture) -> None:
    """A valid sim option reaches the driver: a slow actuator tracks worse than the default one."""
    assert main(["drive", "ability", "--speed", "8", "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert main(["drive", "ability", "--speed", "8", "--option", "tau=0.5", "--json"]) == 0
    slow = json.loads(capsys.readouterr().out)
    assert slow["mean_error_rad"] > 2 * default["mean_error_rad"]
