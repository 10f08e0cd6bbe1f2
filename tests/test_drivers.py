"""The driver interface and the safety layer under it, on the simulated driver (virtual clock)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import xlsdk
from xlsdk.drivers import HandDriver, SafetyConfig, SimConfig, SimDriver, open_driver
from xlsdk.errors import DriverError, SafetyError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _sim(name: str, clock: Clock, max_velocity: float | None = 6.0, **config: float) -> SimDriver:
    return SimDriver(xlsdk.load_hand(name), SimConfig(**config), clock=clock, watchdog_thread=False,
                     safety=SafetyConfig(max_velocity=max_velocity, watchdog_s=0.5))


def test_nan_and_inf_are_rejected_and_nothing_is_sent(clock: Clock) -> None:
    driver = _sim("inspire", clock)
    with driver:
        for bad in ([math.nan, 0, 0, 0, 0, 0], [0, 0, math.inf, 0, 0, 0]):
            with pytest.raises(SafetyError, match="non-finite value"):
                driver.command(bad)
        with pytest.raises(SafetyError, match="shape"):
            driver.command([0.1, 0.2])
        assert driver.received == [] and driver.stats.rejected == 3


def test_limits_are_clamped_and_reported(clock: Clock) -> None:
    driver = _sim("inspire", clock, max_velocity=None)
    with driver:
        clock.now += 10.0  # long enough that the velocity limit allows the whole step
        report = driver.command([5.0, -1.0, 0.5, 0.5, 0.2, 0.3])
    assert report.clamped_joints == ("pinky_mcp", "ring_mcp")
    assert report.sent[0] == 1.7 and report.sent[1] == 0.0
    assert driver.stats.clamped == 1
    lower, upper = np.asarray(driver.hand.spec.lower), np.asarray(driver.hand.spec.upper)
    assert all(((q >= lower) & (q <= upper)).all() for q in driver.received)


def test_velocity_limit_caps_each_step(clock: Clock) -> None:
    driver = _sim("xhand", clock)
    with driver:
        clock.now += 0.01
        report = driver.command(np.full(12, 1.5).clip(driver.hand.spec.lower, driver.hand.spec.upper))
    step = np.abs(np.asarray(report.sent) - driver.hand.zero_pose())
    assert step.max() <= 6.0 * 0.1 + 1e-9, "the first command may move at most max_velocity * max_dt"
    assert report.rate_limited


def test_watchdog_stops_the_hand_when_commands_stop(clock: Clock) -> None:
    driver = _sim("ability", clock, tau=0.05)
    target = driver.hand.mid_pose()
    with driver:
        for _ in range(50):
            clock.now += 0.02
            driver.command(target)
        clock.now += 0.6  # commands stop for longer than the watchdog allows
        state = driver.read_state()
        assert driver.watchdog_tripped and driver.stats.watchdog_stops == 1
        held = np.asarray(state.positions)
        clock.now += 1.0
        assert np.allclose(driver.read_state().positions, held, atol=1e-9), "the hand holds where it stopped"
        clock.now += 0.02
        driver.command(target)
        assert not driver.watchdog_tripped, "a new command re-arms the watchdog"


def test_disconnect_and_keyboard_interrupt_stop_the_hand(clock: Clock) -> None:
    driver = _sim("paxini", clock)
    halts: list[str] = []
    original = driver._halt
    driver._halt = lambda: (halts.append("halt"), original())[1]  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        with driver:
            clock.now += 0.02
            driver.command(driver.hand.mid_pose())
            raise KeyboardInterrupt
    assert halts == ["halt"] and not driver.is_connected
    with pytest.raises(DriverError, match="not connected"):
        driver.command(driver.hand.mid_pose())


def test_sim_first_order_dynamics_latency_and_noise(clock: Clock) -> None:
    driver = _sim("inspire", clock, max_velocity=None, tau=0.1, latency_s=0.05, max_speed=100.0)
    target = np.array([1.0, 1.0, 1.0, 1.0, 0.3, 0.8])
    with driver:
        clock.now += 10.0
        driver.command(target)
        clock.now += 0.049
        assert np.allclose(driver.read_state().positions, driver.hand.zero_pose()), "nothing moves before the latency"
        clock.now += 0.001 + 0.1  # one time constant after the command takes effect
        moved = (np.asarray(driver.read_state().positions) - driver.hand.zero_pose()) / (target - driver.hand.zero_pose())
        assert np.allclose(moved, 1 - math.exp(-1), atol=1e-6)
    noisy = _sim("inspire", clock, noise_std=0.01)
    with noisy:
        readings = np.array([noisy.read_state().positions for _ in range(200)])
    assert 0.003 < readings[:, 2].std() < 0.03


def test_sim_reports_mimic_joints(clock: Clock) -> None:
    driver = _sim("inspire", clock, tau=0.001, max_speed=1000.0)
    with driver:
        clock.now += 10.0
        driver.command([0.0, 0.0, 0.0, 0.0, 0.4, 0.0])
        clock.now += 1.0
        extra = driver.read_state().extra
    assert extra["thumb_ip.pos"] == pytest.approx(2.4 * extra["thumb_cmc_pitch.pos"])
    assert extra["thumb_mcp.pos"] == pytest.approx(1.6 * extra["thumb_cmc_pitch.pos"])


def test_lerobot_face(clock: Clock) -> None:
    driver = _sim("ability", clock)
    assert list(driver.action_features) == [f"{n}.pos" for n in driver.hand.joint_names]
    with driver:
        clock.now += 10.0
        sent = driver.send_action({f"{n}.pos": v for n, v in zip(driver.hand.joint_names, driver.hand.mid_pose(), strict=True)})
        assert set(sent) == set(driver.action_features)
        assert set(driver.get_observation()) == set(driver.observation_features)
        with pytest.raises(SafetyError, match="missing joint"):
            driver.send_action({"index_mcp.pos": 0.1})


@pytest.mark.parametrize("name", ["inspire", "ability", "xhand", "paxini"])
def test_sim_driver_for_every_hand_through_the_registry(name: str) -> None:
    hand = xlsdk.load_hand(name)
    driver = open_driver(hand, "sim", {"tau": 0.01})
    assert isinstance(driver, HandDriver)
    with driver:
        driver.command(hand.mid_pose())
        assert len(driver.read_state().positions) == hand.dof


def test_unknown_driver_lists_the_available_ones() -> None:
    with pytest.raises(DriverError, match="available: inspire-modbus, mujoco, sim"):
        open_driver(xlsdk.load_hand("inspire"), "inspire-can")


@pytest.mark.parametrize("hand, driver, module", [("xhand", "xhand-sdk", "xhand_controller"),
                                                  ("paxini", "paxini-sdk", "pxdex.dh13")])
def test_vendor_sdk_drivers_say_what_to_install(hand: str, driver: str, module: str) -> None:
    instance = open_driver(xlsdk.load_hand(hand), driver, {})
    with pytest.raises(DriverError) as caught:
        instance.connect()
    assert f"the vendor SDK module {module!r} is not installed" in str(caught.value)
    assert "the sim driver drives this hand in simulation" in str(caught.value)
    assert not instance.is_connected


def test_a_protocol_driver_runs_against_its_simulated_device_from_the_library() -> None:
    """DriverEntry.simulated is `xlsdk drive --simulate` without the CLI: the real Modbus driver talks to the
    simulated Inspire, and options given win over the simulator's; a driver without a simulator is refused."""
    from xlsdk.drivers import driver_entry

    hand = xlsdk.load_hand("inspire")
    entry = driver_entry(hand, "inspire-modbus")
    with entry.simulated(hand) as driver:
        assert isinstance(driver, HandDriver)
        with driver:
            driver.command(hand.mid_pose())
            assert len(driver.read_state().positions) == hand.dof
    with pytest.raises(DriverError, match="device_id"), entry.simulated(hand, {"device_id": 300}):
        pass
    with pytest.raises(DriverError, match="'sim' has no simulated device"), driver_entry(hand, "sim").simulated(hand):
        pass
    from xlsdk.conformance import run_check

    check = run_check("inspire", "drivers")  # the conformance check drives the protocol the same way
    assert check.passed and check.message.endswith("sim, inspire-modbus"), check.message
