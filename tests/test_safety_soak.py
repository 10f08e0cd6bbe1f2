"""Soak of every driver's safety layer (issue 15): random commands in, count what reaches the transport.

Commands are drawn at random: inside the limits, outside them, far outside (+-100, +-1e30, 1e300),
with NaN or +-inf in random joints, and of the wrong length. Each goes through a driver built the way
``xlsdk drive`` builds it (the registry entry's factory) and connected over its real transport: the sim
driver; Inspire Modbus against its simulated RH56 and Ability serial against its simulated hand, over
the loopback TCP or pseudo-terminal link their simulators open; the MuJoCo driver where the physics
extra is installed; the XHand and Paxini vendor-SDK drivers
against a simulated vendor SDK (the real SDKs are closed and not installable here; the stand-in has
their call signatures and records every position it is handed).

Two taps count: one on the driver's transport method (``_write_positions``, what leaves the safety
layer) and one at the device (decoded Modbus registers, decoded Ability frames, the SDK's arguments).
Both must see 0 non-finite and 0 out-of-limit values. The test streams 1,000 commands through each
in-process driver and 300 through each protocol driver; benchmarks/driver_soak.py streams 10,000 through
every driver with this module's soak and taps (a run, not a different check). Counts are printed in the
run's summary (``soak_counts``).
"""

from __future__ import annotations

import sys
import types
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

import xlsdk
from xlsdk.drivers import HandDriver
from xlsdk.errors import SafetyError
from xlsdk.plugins import get_plugin_host

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.timeout(900)]
# Ability frames carry positions as int16 of +-150 deg: one quantum of slack at the device tap
ABILITY_QUANTUM_DEG = 150 / 32767


@dataclass
class Counts:
    """What one soak sent and what each tap saw."""

    sent: int = 0
    rejected: int = 0
    delivered: int = 0
    transport_writes: int = 0
    transport_values: int = 0
    transport_non_finite: int = 0
    transport_out_of_limit: int = 0
    device_values: int = 0
    device_non_finite: int = 0
    device_out_of_limit: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def tap(self, values: np.ndarray, lower: np.ndarray, upper: np.ndarray, *, device: bool,
            slack: float = 0.0) -> None:
        values = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(values)
        outside = int((finite & ((values < lower - slack) | (values > upper + slack))).sum())
        if device:
            self.device_values += values.size
            self.device_non_finite += int((~finite).sum())
            self.device_out_of_limit += outside
        else:
            self.transport_writes += 1
            self.transport_values += values.size
            self.transport_non_finite += int((~finite).sum())
            self.transport_out_of_limit += outside


def random_command(rng: np.random.Generator, lower: np.ndarray, upper: np.ndarray) -> tuple[str, Any]:
    """One hostile command and its kind."""
    span = upper - lower
    q = rng.uniform(lower, upper)
    kind = str(rng.choice(["inside", "outside", "far", "huge", "nan", "inf", "wrong length"],
                          p=[0.3, 0.25, 0.1, 0.1, 0.1, 0.1, 0.05]))
    joints = rng.random(q.shape) < 0.3
    joints[rng.integers(q.size)] = True
    if kind == "outside":
        q = rng.uniform(lower - span, upper + span)
    elif kind == "far":
        q[joints] = rng.choice([-100.0, 100.0], size=int(joints.sum()))
    elif kind == "huge":
        q[joints] = rng.choice([-1e30, 1e30, 1e300, -1e300], size=int(joints.sum()))
    elif kind == "nan":
        q[joints] = np.nan
    elif kind == "inf":
        q[joints] = rng.choice([np.inf, -np.inf], size=int(joints.sum()))
    elif kind == "wrong length":
        q = np.append(q, 0.0) if rng.random() < 0.5 else q[:-1]
    return kind, q


def soak(driver: HandDriver, counts: Counts, commands: int, seed: int) -> Counts:
    """Stream ``commands`` random commands; the transport tap wraps ``_write_positions``."""
    lower, upper = np.asarray(driver.hand.spec.lower), np.asarray(driver.hand.spec.upper)
    write = driver._write_positions

    def tapped(q: np.ndarray) -> None:
        counts.tap(q, lower, upper, device=False)
        write(q)

    driver._write_positions = tapped  # type: ignore[method-assign]
    rng = np.random.default_rng(seed)
    with driver:
        for _ in range(commands):
            kind, q = random_command(rng, lower, upper)
            counts.kinds[kind] = counts.kinds.get(kind, 0) + 1
            counts.sent += 1
            try:
                driver.command(q)
            except SafetyError:
                counts.rejected += 1
            else:
                counts.delivered += 1
    return counts


# --- device taps ----------------------------------------------------------------------------------

@contextmanager
def inspire_device(hand: xlsdk.Hand, counts: Counts) -> Iterator[dict[str, Any]]:
    """The simulated RH56 over Modbus TCP; decoded ANGLE_SET registers are checked at the device."""
    from xlsdk_inspire import registers as reg
    from xlsdk_inspire.simulated_device import simulated_inspire

    with simulated_inspire("tcp") as sim:
        write_words = sim.model.write_words

        def tapped(address: int, values: list[int]) -> None:
            raw = [reg.from_word(v) for k, v in enumerate(values)
                   if reg.ANGLE_SET <= address + 2 * k < reg.ANGLE_SET + 2 * reg.DOF]
            raw = [r for r in raw if r != reg.KEEP]
            if raw:  # raw 0..1000 is the whole range: 1000 = open (lower), 0 = closed (upper)
                counts.tap(np.asarray(raw, dtype=np.float64), np.zeros(len(raw)), np.full(len(raw), reg.RAW_MAX),
                           device=True)
            write_words(address, values)

        sim.model.write_words = tapped  # type: ignore[method-assign]
        yield sim.options


@contextmanager
def ability_device(hand: xlsdk.Hand, counts: Counts) -> Iterator[dict[str, Any]]:
    """The simulated Ability Hand on a PTY; decoded position frames are checked in degrees at the device."""
    from xlsdk_ability import protocol
    from xlsdk_ability.simulated_device import simulated_ability

    lower, upper = np.degrees(hand.spec.lower), np.degrees(hand.spec.upper)
    with simulated_ability() as sim:
        handle = sim.model.handle

        def tapped(body: bytes) -> bytes | None:
            try:
                command = protocol.decode_command(body)
            except protocol.ProtocolError:
                command = None
            if command is not None and command.mode == "position":
                counts.tap(np.asarray(command.values), lower, upper, device=True, slack=ABILITY_QUANTUM_DEG)
            return handle(body)

        sim.model.handle = tapped  # type: ignore[method-assign]
        yield sim.options


class _Struct:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


def _xhand_sdk(hand: xlsdk.Hand, counts: Counts) -> types.ModuleType:
    """A stand-in for Robotera's ``xhand_controller`` with the calls the driver makes, recording positions."""
    lower, upper = np.asarray(hand.spec.lower), np.asarray(hand.spec.upper)
    module = types.ModuleType("xhand_controller")
    ok = _Struct(error_code=0, error_message="")

    class XHandControl:
        def __init__(self) -> None:
            self.positions = [0.0] * hand.dof

        def open_serial(self, port: str, baudrate: int) -> _Struct:
            return ok

        def close_device(self) -> None:
            pass

        def send_command(self, hand_id: int, command: _Struct) -> _Struct:
            values = [finger.position for finger in command.finger_command[:hand.dof]]
            counts.tap(np.asarray(values), lower, upper, device=True)
            self.positions = values
            return ok

        def read_state(self, hand_id: int, force_update: bool) -> tuple[_Struct, _Struct]:
            return ok, _Struct(finger_state=[_Struct(position=p) for p in self.positions])

    module.XHandControl = XHandControl
    module.HandCommand_t = lambda: _Struct(finger_command=[_Struct() for _ in range(hand.dof)])
    return module


def _paxini_sdk(hand: xlsdk.Hand, counts: Counts) -> types.ModuleType:
    """A stand-in for Paxini's ``pxdex.dh13``: 16 SDK joints, passive DIPs written as their PIP."""
    from xlsdk_paxini.driver import PASSIVE, SDK_ORDER

    limits = {name: (lo, hi) for name, lo, hi in zip(hand.joint_names, hand.spec.lower, hand.spec.upper, strict=True)}
    lower = np.asarray([limits[PASSIVE.get(name, name)][0] for name in SDK_ORDER])
    upper = np.asarray([limits[PASSIVE.get(name, name)][1] for name in SDK_ORDER])
    module = types.ModuleType("pxdex.dh13")
    module.POSITION_CONTROL_MODE = 1

    class DexH13:
        def __init__(self) -> None:
            self.positions = [0.0] * len(SDK_ORDER)

        def activeHandy(self, port: str, camera: str) -> bool:  # noqa: N802 - the vendor's names
            return True

        def setMotorControlMode(self, mode: int) -> None:  # noqa: N802
            pass

        def enableMotor(self) -> None:  # noqa: N802
            pass

        def disableMotor(self) -> None:  # noqa: N802
            pass

        def disconnectHandy(self) -> None:  # noqa: N802
            pass

        def setJointPositionsRadian(self, values: list[float]) -> None:  # noqa: N802
            counts.tap(np.asarray(values), lower, upper, device=True)
            self.positions = list(values)

        def getJointPositionsRadian(self) -> list[float]:  # noqa: N802
            return list(self.positions)

        def isFault(self) -> bool:  # noqa: N802
            return False

    module.DexH13 = DexH13
    return module


@contextmanager
def vendor_sdk(name: str, module: types.ModuleType) -> Iterator[dict[str, Any]]:
    parents = name.split(".")
    saved = {key: sys.modules.get(key) for key in (".".join(parents[:i + 1]) for i in range(len(parents)))}
    if len(parents) > 1:
        package = types.ModuleType(parents[0])
        package.__path__ = []  # type: ignore[attr-defined]
        setattr(package, parents[1], module)
        sys.modules[parents[0]] = package
    sys.modules[name] = module
    try:
        yield {}
    finally:
        for key, value in saved.items():
            if value is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = value


DEVICES = {
    "inspire-modbus": inspire_device,
    "ability-serial": ability_device,
    "xhand-sdk": lambda hand, counts: vendor_sdk("xhand_controller", _xhand_sdk(hand, counts)),
    "paxini-sdk": lambda hand, counts: vendor_sdk("pxdex.dh13", _paxini_sdk(hand, counts)),
}
PROTOCOL_DRIVERS = ("inspire-modbus", "ability-serial")
# drivers whose transport is in the process (a simulation): the transport tap is their device
IN_PROCESS = ("sim", "mujoco")


def every_driver() -> list[tuple[str, str]]:
    """(hand, driver) for every installed hand and every driver registered for it."""
    host = get_plugin_host()
    return [(hand, entry.name) for hand in host.hand_names() for entry in host.drivers_for(hand)]


def run_soak(hand_name: str, driver_name: str, commands: int, seed: int) -> Counts:
    hand = xlsdk.load_hand(hand_name)
    entry = next(entry for entry in get_plugin_host().drivers_for(hand_name) if entry.name == driver_name)
    counts = Counts()
    with ExitStack() as stack:
        options = stack.enter_context(DEVICES[driver_name](hand, counts)) if driver_name in DEVICES else {}
        driver = entry.factory(hand, options)
        soak(driver, counts, commands, seed)
    return counts


def _check(name: str, counts: Counts, soak_counts: Any) -> None:  # noqa: ANN401 - the fixture's type
    record = {"sent": counts.sent, "rejected": counts.rejected, "delivered": counts.delivered,
              "transport writes": counts.transport_writes, "transport values": counts.transport_values,
              "non-finite at transport": counts.transport_non_finite,
              "out-of-limit at transport": counts.transport_out_of_limit,
              "device values": counts.device_values, "non-finite at device": counts.device_non_finite,
              "out-of-limit at device": counts.device_out_of_limit,
              **{f"kind {k}": v for k, v in sorted(counts.kinds.items())}}
    soak_counts.record(f"safety soak {name}", record)
    print(f"safety soak {name}: " + ", ".join(f"{k}={v}" for k, v in record.items()))
    bad_kinds = counts.kinds.get("nan", 0) + counts.kinds.get("inf", 0) + counts.kinds.get("wrong length", 0)
    assert counts.rejected == bad_kinds, "exactly the non-finite and wrong-length commands are refused"
    assert counts.delivered == counts.sent - counts.rejected
    assert counts.transport_writes >= counts.delivered, "every delivered command reached the transport"
    assert counts.transport_non_finite == 0 and counts.transport_out_of_limit == 0
    assert counts.device_non_finite == 0 and counts.device_out_of_limit == 0


def test_every_driver_is_soaked() -> None:
    """The soak covers every registered driver: a new one must get a device tap here (or be the sim)."""
    drivers = {driver for _, driver in every_driver()}
    assert {"sim", *DEVICES} <= drivers <= {*IN_PROCESS, *DEVICES}, drivers


@pytest.mark.parametrize("hand, driver", every_driver())
def test_safety_soak(hand: str, driver: str, soak_counts: Any) -> None:  # noqa: ANN401
    commands = 300 if driver in PROTOCOL_DRIVERS else 1_000
    counts = run_soak(hand, driver, commands, seed=zlib.crc32(f"{hand}/{driver}".encode()))
    _check(f"{hand}/{driver} ({commands} commands)", counts, soak_counts)
    if driver in DEVICES:
        assert counts.device_values > 0, "the device tap saw the commands"
