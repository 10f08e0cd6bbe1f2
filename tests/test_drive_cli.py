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


# --- stopping `xlsdk drive` (issue 22 item 9): every way a process is asked to stop halts the hand first ------

class _RecordingSim:
    """The sim driver, registered under another name, that notes when the hand was halted and the link closed."""

    def __init__(self) -> None:
        import threading

        self.connected = threading.Event()
        self.events: list[str] = []

    def xlsdk_register_drivers(self, register):  # noqa: ANN001 - hook signature
        from xlsdk.drivers import DriverEntry, SimDriver

        plugin = self

        class RecordingSimDriver(SimDriver):
            def _open(self) -> None:
                super()._open()
                plugin.connected.set()

            def _halt(self) -> None:
                plugin.events.append("halt")
                super()._halt()

            def _close(self) -> None:
                plugin.events.append("close")
                super()._close()

        register(DriverEntry(name="recording-sim", hands=("inspire",),
                             factory=lambda hand, options: RecordingSimDriver(hand)))


@pytest.mark.parametrize("signal_name, code", [("SIGTERM", 143), ("SIGHUP", 129), ("SIGINT", 130)])
@pytest.mark.timeout(180)
def test_a_stop_signal_halts_the_hand_and_closes_the_transport(signal_name: str, code: int, fresh_host,  # noqa: ANN001
                                                               capsys: pytest.CaptureFixture) -> None:
    """The signal arrives mid-motion (a 70 s replay): halt, then close, one line saying so, exit 128 + signal."""
    import os
    import signal
    import threading

    plugin = _RecordingSim()
    fresh_host.register(plugin, name="recording")

    def stop_when_driving() -> None:
        if plugin.connected.wait(timeout=120):
            threading.Event().wait(0.5)  # into the motion
            plugin.events.append("signal")
            os.kill(os.getpid(), getattr(signal, signal_name))

    sender = threading.Thread(target=stop_when_driving, daemon=True)
    sender.start()
    assert main(["drive", "inspire", "--driver", "recording-sim", "--speed", "0.1"]) == code
    sender.join(timeout=5)
    err = capsys.readouterr().err
    assert f"stopped by {signal_name}: the hand was commanded to halt and the recording-sim transport closed" in err
    assert "Traceback" not in err
    # after the signal: a halt, then the transport closed, last (the watchdog may also have halted before)
    assert plugin.events[-2:] == ["halt", "close"] and plugin.events.index("signal") < len(plugin.events) - 2
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "the handlers are restored"


@pytest.mark.slow  # a fresh interpreter importing torch
@pytest.mark.timeout(240)
def test_sigterm_halts_a_real_modbus_hand(tmp_path) -> None:  # noqa: ANN001
    """`xlsdk drive` as its own process over Modbus TCP to the simulated Inspire (the device in this process).

    Every finger is blocked just short of open, so the motion's closing targets stay ahead of the fingers;
    the halt writes the measured angles back as targets. Killed without a halt, targets stay where the
    motion left them, below the blocked fingers.
    """
    import os
    import signal
    import subprocess
    import sys
    import time

    from xlsdk_inspire import registers as reg
    from xlsdk_inspire.simulated_device import simulated_inspire

    with simulated_inspire("tcp") as device:
        for dof in range(reg.DOF):
            device.model.block(dof, reg.RAW_MAX - 20)
        process = subprocess.Popen(
            [sys.executable, "-m", "xlsdk", "drive", "inspire", "--driver", "inspire-modbus", "--port",
             device.options["port"], "--option", "device_id=1", "--speed", "0.5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
        started = process.stderr.readline()
        assert "driving inspire with inspire-modbus" in started, started + process.stderr.read()
        deadline = time.monotonic() + 60
        while min(device.model.target) > reg.RAW_MAX - 60 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the motion commands fingers past where they are blocked
        assert min(device.model.target) <= reg.RAW_MAX - 60, "the motion never closed a finger"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        assert process.returncode == 143, err
        assert "stopped by SIGTERM: the hand was commanded to halt and the inspire-modbus transport closed" in err
        assert "Traceback" not in err + out
        actual, target = list(device.model.actual), list(device.model.target)
        assert all(abs(t - a) <= 2 for t, a in zip(target, actual, strict=True)), (target, actual)


def test_a_slow_replay_keeps_the_watchdog_fed() -> None:
    """Issue 22 item 10: samples 1 s apart (twice the 0.5 s watchdog) used to leave the hand without commands."""
    import numpy as np

    from xlsdk import load_hand
    from xlsdk.drivers import SimDriver
    from xlsdk.drivers.motion import HOLD_EVERY_S, stream_motion

    hand = load_hand("inspire")
    q = np.stack([hand.lower().numpy(), (hand.lower() + hand.upper()).numpy() / 2, hand.lower().numpy()])
    with SimDriver(hand) as driver:
        report = stream_motion(driver, q, np.array([0.0, 1.0, 2.0]), speed=1.0, settle_s=0.1)
    assert report.stats["watchdog_stops"] == 0 and report.stats["rejected"] == 0
    assert report.stats["commands"] >= 2.0 / HOLD_EVERY_S * 0.8, "commanded along the way, not only at the samples"
    assert report.max_error_rad < 0.2, "the hand followed the interpolated path"
