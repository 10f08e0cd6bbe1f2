"""The Ability Hand protocol and driver, against a simulated hand on a pseudo-terminal."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

import xlsdk
from xlsdk.drivers import RetryPolicy, SafetyConfig
from xlsdk.drivers.links import FaultPlan
from xlsdk.errors import DriverError, SafetyError
from xlsdk_ability import protocol
from xlsdk_ability.serial_driver import AbilitySerialConfig, AbilitySerialDriver
from xlsdk_ability.simulated_device import simulated_ability


def _driver(options: dict, **safety: float) -> AbilitySerialDriver:
    config = AbilitySerialConfig(**options, timeout=0.03, retry=RetryPolicy(attempts=3, backoff_s=0.0))
    return AbilitySerialDriver(xlsdk.load_hand("ability"), config,
                               safety=SafetyConfig(**{"max_velocity": None, "watchdog_s": 0.5, **safety}))


# --- protocol -----------------------------------------------------------------------------------

def test_stuffing_round_trip_and_checksum() -> None:
    body = bytes([0x50, 0x10, 0x7E, 0x7D, 0x00, 0xFF])
    wire = protocol.frame(body)
    assert wire[0] == wire[-1] == protocol.FLAG and protocol.FLAG not in wire[1:-1]
    assert protocol.open_frame(wire) == body
    damaged = bytearray(wire)
    damaged[3] ^= 0x01
    with pytest.raises(protocol.ProtocolError, match="bad checksum"):
        protocol.open_frame(bytes(damaged))


def test_command_units_and_touch_packing() -> None:
    wire = protocol.encode_command([30.0, 45.0, 60.0, 75.0, 20.0, -50.0], address=0x50)
    command = protocol.decode_command(protocol.open_frame(wire))
    assert command.mode == "position" and command.variant == 1 and command.address == 0x50
    assert np.allclose(command.values, [30.0, 45.0, 60.0, 75.0, 20.0, -50.0], atol=150 / 32767)
    touch = list(range(0, 4096, 137))[:30]
    assert protocol.unpack_touch(protocol.pack_touch(touch)) == touch
    reply = protocol.open_frame(protocol.encode_reply(0x10, [1.0] * 6, touch=touch))
    assert len(reply) + 1 == 71, "variant 1 reply body + checksum is 71 bytes"


def test_split_frames_keeps_partial_data() -> None:
    a, b = protocol.frame(b"\x50\x10" + bytes(12)), protocol.frame(b"\x50\x20" + bytes(12))
    buffer = bytearray(a + b[:5])
    assert protocol.split_frames(buffer) == [a]
    buffer += b[5:]
    assert protocol.split_frames(buffer) == [b]


# --- driver -------------------------------------------------------------------------------------

def test_position_round_trip_and_current_readback() -> None:
    with simulated_ability() as sim:
        driver = _driver(sim.options)
        target = np.array([0.6, 0.9, 1.2, 1.5, 0.8, -1.0])
        with driver:
            for _ in range(40):
                driver.command(target)
                time.sleep(0.01)
            state = driver.read_state()
        assert np.allclose(state.positions, target, atol=math.radians(150 / 32767) + 1e-3)
        assert state.forces is not None and len(state.forces) == 6
        assert len(driver.last_touch) == 30


def test_commands_outside_the_range_are_clamped_before_the_wire() -> None:
    with simulated_ability() as sim:
        driver = _driver(sim.options)
        with driver:
            report = driver.command([3.0, 0.5, 0.5, 0.5, 0.5, 0.7])
            targets = list(sim.model.targets)  # (disconnecting holds position, so look while connected)
        assert report.clamped_joints == ("index_mcp", "thumb_cmc_yaw")
        assert targets[0] == pytest.approx(math.degrees(1.74), abs=0.01)
        assert targets[5] == pytest.approx(0.0, abs=0.01), "the rotator's upper limit is 0"


def test_touch_sensors_rise_when_a_finger_presses_on_an_object() -> None:
    with simulated_ability() as sim:
        driver = _driver(sim.options)
        with driver:
            sim.model.block(1, at_deg=40.0)  # the middle finger meets an object at 40 deg
            for _ in range(30):
                driver.command([0.0, 1.5, 0.0, 0.0, 0.0, 0.0])
                time.sleep(0.01)
            state = driver.read_state()
            touch = driver.last_touch
        assert state.positions[1] == pytest.approx(math.radians(40.0), abs=0.01)
        assert min(touch[6:12]) > 1000 and max(touch[:6]) == 0, "middle-finger FSRs only"
        assert state.forces[1] > state.forces[0]


def test_keepalive_keeps_the_hand_in_api_mode() -> None:
    with simulated_ability() as sim:
        driver = _driver(sim.options, watchdog_s=5.0)
        with driver:
            driver.command([0.3] * 5 + [-0.3])
            time.sleep(0.8)  # far longer than the hand's own 300 ms watchdog
            assert sim.model.api_mode and sim.model.api_mode_exits == 0
        time.sleep(0.5)
        assert sim.model.api_mode_exits == 1, "after disconnect the hand leaves API mode by itself"


def test_out_of_range_reading_is_reported_and_discarded() -> None:
    with simulated_ability() as sim:
        driver = _driver(sim.options)
        with driver:
            sim.model.inject_out_of_range(2, 140.0)  # the wire format itself tops out at +-150 deg
            state = driver.read_state()
    assert any("ring_mcp: position reads 140.0 deg" in fault for fault in state.faults)
    assert state.positions[2] <= driver.hand.spec.upper[2]


def test_lost_and_damaged_frames_are_retried(soak_counts) -> None:  # noqa: ANN001
    with simulated_ability() as sim:
        driver = _driver(sim.options, watchdog_s=5.0)
        with driver:
            sim.faults.drop_next(1)
            driver.command([0.2] * 5 + [-0.2])
            sim.faults.corrupt_next(1)
            driver.read_state()
            sim.faults.corrupt_next(1, "to_device")
            driver.command([0.3] * 5 + [-0.3])
        assert driver.stats.retries == 3 and sim.model.rejected_frames >= 1
        soak_counts.record("ability single faults", {"dropped": sim.faults.dropped, "corrupted": sim.faults.corrupted,
                                                     "retried": driver.stats.retries,
                                                     "device rejected frames": sim.model.rejected_frames})


def test_silent_device_fails_after_bounded_retries_and_the_line_cut_is_reported() -> None:
    with simulated_ability() as sim:
        driver = _driver(sim.options, watchdog_s=5.0)
        with driver:
            sim.link.disconnect()
            started = time.monotonic()
            with pytest.raises(DriverError, match="failed 3 times: no reply within 30 ms"):
                driver.command([0.1] * 5 + [-0.1])
            assert time.monotonic() - started < 1.0
            sim.link.reconnect()
            driver.command([0.1] * 5 + [-0.1])


def test_no_hand_on_the_port() -> None:
    with simulated_ability(address=0x51) as sim:
        driver = _driver({**sim.options, "address": 0x50})
        with pytest.raises(DriverError, match="no Ability Hand at address 0x50 answers"):
            driver.connect()


@pytest.mark.slow
def test_soak_10000_commands_with_faults(soak_counts) -> None:  # noqa: ANN001
    plan = FaultPlan()
    with simulated_ability(faults=plan) as sim:
        driver = _driver(sim.options, max_velocity=8.0, watchdog_s=5.0)
        lower, upper = np.asarray(driver.hand.spec.lower), np.asarray(driver.hand.spec.upper)
        rng = np.random.default_rng(1)
        sent = rejected = failed = 0
        started = time.monotonic()
        with driver:
            for i in range(10_000):
                target = rng.uniform(lower - 0.2, upper + 0.2)
                if i % 400 == 7:
                    target[i % 6] = np.inf
                if i % 89 == 0:
                    plan.drop_next(1, "to_driver")
                if i % 113 == 0:
                    plan.corrupt_next(1, "to_device")
                sent += 1
                try:
                    driver.command(target)
                except SafetyError:
                    rejected += 1
                except DriverError:
                    failed += 1
        seconds = time.monotonic() - started
    soak_counts.record("ability serial soak (PTY)", {
        "sent": sent, "rejected (inf)": rejected, "delivered": driver.stats.commands, "failed": failed,
        "retried": driver.stats.retries, "clamped": driver.stats.clamped, "device commands": sim.model.commands,
        "device rejected frames": sim.model.rejected_frames, "dropped": plan.dropped, "corrupted": plan.corrupted,
        "rate_hz": round(sent / seconds)})
    assert rejected == 25 and failed == 0
    assert driver.stats.commands == sent - rejected
    assert driver.stats.retries >= plan.dropped + plan.corrupted
    degrees = np.degrees([lower, upper])
    assert all(degrees[0][j] - 0.01 <= v <= degrees[1][j] + 0.01 for j, v in enumerate(sim.model.targets))
