"""The Inspire Modbus driver against a simulated RH56 served by pymodbus: loopback TCP and RTU on a PTY."""

from __future__ import annotations

import time

import numpy as np
import pytest

import xlsdk
from xlsdk.drivers import RetryPolicy, SafetyConfig
from xlsdk.drivers.links import FaultPlan
from xlsdk.errors import DriverError, SafetyError
from xlsdk_inspire import registers as reg
from xlsdk_inspire.modbus_driver import InspireModbusConfig, InspireModbusDriver
from xlsdk_inspire.simulated_device import simulated_inspire

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


_TIMEOUT_S = 0.05
#: the soak's reply timeout: driver, link and device share one process (and the GIL) on a loaded test
#: machine, where a 50 ms stall of the driver's thread reads as a lost reply; 0.2 s never did here
_SOAK_TIMEOUT_S = 0.2


def _driver(options: dict, *, timeout: float = _TIMEOUT_S, **safety: float) -> InspireModbusDriver:
    config = InspireModbusConfig(**options, timeout=timeout, retry=RetryPolicy(attempts=3, backoff_s=0.0))
    return InspireModbusDriver(xlsdk.load_hand("inspire"), config,
                               safety=SafetyConfig(**{"max_velocity": None, "watchdog_s": 0.5, **safety}))


def _settle(driver: InspireModbusDriver, target: np.ndarray, seconds: float = 1.2) -> np.ndarray:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        driver.command(target)
        time.sleep(0.02)
    return np.asarray(driver.read_state().positions)


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_position_round_trip(transport: str) -> None:
    with simulated_inspire(transport) as sim:
        driver = _driver(sim.options)
        target = np.array([0.3, 0.6, 0.9, 1.2, 0.25, 0.7])
        with driver:
            reached = _settle(driver, target)
        resolution = (np.asarray(driver.hand.spec.upper) - np.asarray(driver.hand.spec.lower)) / 1000
        assert np.all(np.abs(reached - target) <= resolution + 1e-9), "within one raw unit of the target"
        assert sim.model.target == [float(v) for v in reg.to_raw(target, np.asarray(driver.hand.spec.lower),
                                                                 np.asarray(driver.hand.spec.upper))]


def test_commands_are_clamped_and_the_device_never_sees_an_out_of_range_target() -> None:
    with simulated_inspire("tcp") as sim:
        driver = _driver(sim.options)
        with driver:
            report = driver.command([9.0, -3.0, 0.5, 0.5, 2.0, -7.0])
            assert set(report.clamped_joints) == {"pinky_mcp", "ring_mcp", "thumb_cmc_pitch", "thumb_cmc_yaw"}
            assert sim.model.target[0] == 0.0 and sim.model.target[1] == 1000.0  # closed = 0, open = 1000
            assert sim.model.target[5] == 1000.0, "thumb rotation clamped to its lower limit -0.1 rad = raw 1000"


def test_force_readback_on_a_blocked_finger_and_error_register() -> None:
    with simulated_inspire("tcp") as sim:
        driver = _driver(sim.options)
        index = driver.hand.joint_names.index("index_mcp")
        with driver:
            sim.model.block(index, at_raw=600.0)  # an object stops the index at raw 600 (~0.68 rad)
            target = driver.hand.zero_pose().copy()
            target[index] = 1.7  # squeeze far beyond the object
            state = None
            for _ in range(60):
                driver.command(target)
                time.sleep(0.02)
            state = driver.read_state()
            assert state.forces[index] >= 1000, "full-scale force against the object"
            assert any("index_mcp: stall" in fault for fault in state.faults)
            assert abs(state.positions[index] - reg.from_raw(np.array([600.0]), np.array([0.0]), np.array([1.7]))[0]) < 0.01
            sim.model.clear_injections()
            driver.command(driver.hand.zero_pose())
            driver.clear_errors()
            time.sleep(0.05)
            assert not any("stall" in fault for fault in driver.read_state().faults), "CLEAR_ERROR clears the fault"


def test_out_of_range_reading_is_reported_and_discarded() -> None:
    with simulated_inspire("tcp") as sim:
        driver = _driver(sim.options)
        with driver:
            sim.model.inject_out_of_range(2, 1500)
            state = driver.read_state()
    assert any("middle_mcp: ANGLE_ACT reads 1500, outside 0..1000" in fault for fault in state.faults)
    assert driver.hand.spec.lower[2] <= state.positions[2] <= driver.hand.spec.upper[2]
    assert driver.stats.faults >= 1


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_dropped_and_corrupted_replies_are_retried(transport: str, soak_counts) -> None:  # noqa: ANN001
    """Lost replies on both transports; a corrupted reply on RTU (its CRC catches it; Modbus TCP has no
    checksum of its own and relies on TCP for integrity, so corruption is an RTU fault)."""
    with simulated_inspire(transport) as sim:
        driver = _driver(sim.options)
        with driver:
            sim.faults.drop_next(1)
            driver.command(driver.hand.mid_pose())
            if transport == "rtu":
                sim.faults.corrupt_next(1)
                driver.read_state()
                sim.faults.corrupt_next(1, "to_device")  # the device's CRC check drops a damaged request
                driver.command(driver.hand.zero_pose())
        assert driver.stats.retries == (3 if transport == "rtu" else 1) and driver.stats.faults == 0
        soak_counts.record(f"inspire {transport} single faults", {"dropped": sim.faults.dropped,
                                                                  "corrupted": sim.faults.corrupted,
                                                                  "retried": driver.stats.retries})


def test_device_that_stops_answering_is_a_clear_fault_after_bounded_retries() -> None:
    with simulated_inspire("rtu") as sim:
        driver = _driver(sim.options)
        with driver:
            sim.faults.stalled = True
            started = time.monotonic()
            with pytest.raises(DriverError, match="failed 3 times"):
                driver.command(driver.hand.mid_pose())
            assert time.monotonic() - started < 2.0, "bounded: three timeouts, not a hang"
            assert driver.stats.retries == 2 and driver.stats.faults == 1
            sim.faults.stalled = False
        assert not driver.is_connected


def test_device_disconnecting_mid_command_then_reconnecting() -> None:
    with simulated_inspire("tcp") as sim:
        driver = _driver(sim.options)
        with driver:
            driver.command(driver.hand.mid_pose())
            sim.link.disconnect()
            with pytest.raises(DriverError):
                driver.command(driver.hand.zero_pose())
            sim.link.reconnect()
            driver.command(driver.hand.zero_pose())  # the next command reconnects through the retry path
            assert driver.stats.retries >= 2


def test_watchdog_holds_the_hand_when_commands_stop() -> None:
    with simulated_inspire("tcp") as sim:
        driver = _driver(sim.options, watchdog_s=0.2)
        index = driver.hand.joint_names.index("index_mcp")
        with driver:
            target = driver.hand.zero_pose().copy()
            target[index] = 1.7
            driver.command(target)  # start closing, then go silent
            time.sleep(0.2 + 0.25)
            assert driver.watchdog_tripped and driver.stats.watchdog_stops == 1
            held = sim.model.target[index]
            assert 0.0 < held < 1000.0, "the device's target became its position at the stop, not the far goal"
            time.sleep(0.3)
            assert sim.model.target[index] == held


def test_no_answer_on_open_names_the_port() -> None:
    config = InspireModbusConfig(port="tcp://127.0.0.1:9", timeout=0.05, retry=RetryPolicy(attempts=2, backoff_s=0))
    driver = InspireModbusDriver(xlsdk.load_hand("inspire"), config)
    with pytest.raises(DriverError, match="no Inspire hand with id 1 answers on tcp://127.0.0.1:9"):
        driver.connect()


#: the soak's length: the RTU link takes ~130 commands a second on two loaded cores, so 10,000 cost 80 s of the
#: suite; 2,000 still inject every fault kind many times (4 NaN commands, 21 lost and 16 corrupted replies)
SOAK_COMMANDS = 2_000


@pytest.mark.slow
def test_soak_with_faults(soak_counts) -> None:  # noqa: ANN001
    """2,000 commands streamed as fast as the link takes them, faults injected throughout."""
    plan = FaultPlan(late_after_s=0.8 * _SOAK_TIMEOUT_S)  # replies a loaded host delivers too late to count
    with simulated_inspire("rtu", faults=plan) as sim:
        driver = _driver(sim.options, timeout=_SOAK_TIMEOUT_S, max_velocity=6.0)
        lower, upper = np.asarray(driver.hand.spec.lower), np.asarray(driver.hand.spec.upper)
        rng = np.random.default_rng(0)
        sent = rejected = failed = 0
        started = time.monotonic()
        with driver:
            for i in range(SOAK_COMMANDS):
                target = rng.uniform(lower - 0.3, upper + 0.3)  # some commands outside the limits on purpose
                if i % 500 == 250:
                    target[i % 6] = np.nan
                if i % 97 == 0:
                    plan.drop_next(1)
                if i % 131 == 0:
                    plan.corrupt_next(1)
                sent += 1
                try:
                    driver.command(target)
                except SafetyError:
                    rejected += 1
                except DriverError:
                    failed += 1
        seconds = time.monotonic() - started
    counts = {"sent": sent, "rejected (NaN)": rejected, "delivered": driver.stats.commands, "failed": failed,
              "retried": driver.stats.retries, "clamped": driver.stats.clamped, "device writes": sim.model.writes,
              "dropped": plan.dropped, "corrupted": plan.corrupted, "late replies": plan.late, "rate_hz": round(sent / seconds)}
    soak_counts.record("inspire modbus-rtu soak (PTY)", counts)
    assert sent == SOAK_COMMANDS and rejected == SOAK_COMMANDS // 500 and failed == 0
    assert driver.stats.commands == sent - rejected
    # every injected fault costs exactly one retry; beyond those, only replies the link saw arrive late
    # (the test machine descheduling the device past the driver's timeout) may be retried
    injected = plan.dropped + plan.corrupted
    assert injected <= driver.stats.retries <= injected + plan.late, (driver.stats.retries, injected, plan.late)
    assert driver.stats.clamped > SOAK_COMMANDS // 10
    assert sim.model.writes >= driver.stats.commands, "a lost reply means the device saw the write twice"


def test_force_limits_reach_the_device_and_bad_ones_are_refused() -> None:
    with simulated_inspire("tcp") as sim:
        driver = _driver(sim.options)
        assert sim.model.read_words(reg.FORCE_SET, reg.DOF) == [500] * reg.DOF, "the device's default"
        with driver:
            driver.set_force_limits([100, 200, 300, 400, 500, 600])
            assert sim.model.read_words(reg.FORCE_SET, reg.DOF) == [100, 200, 300, 400, 500, 600]
            for bad in ([100] * (reg.DOF - 1), [100, 200, 300, 400, 500, 1001], [-1] * reg.DOF):
                with pytest.raises(DriverError, match="force limits must be 6 values in 0..1000"):
                    driver.set_force_limits(bad)
            assert sim.model.read_words(reg.FORCE_SET, reg.DOF) == [100, 200, 300, 400, 500, 600], "nothing sent"
