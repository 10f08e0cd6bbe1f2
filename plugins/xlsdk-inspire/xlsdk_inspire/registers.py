"""The Inspire RH56 register map and unit conversions (facts from shared/hands/inspire_rh56.md §6-7).

Register numbers are the *byte* addresses of the vendor's table. A Modbus transfer of ``n`` words at
address ``A`` touches the 16-bit words at byte addresses ``A, A+2, ..., A+2(n-1)`` (so writing six
registers at 1486 sets all six angles, and reading one register at 1488 returns the ring finger's).
Per-DOF arrays follow the hardware DOF order: pinky, ring, middle, index, thumb bend, thumb rotation
(= this plugin's command order). uint8 arrays (ERROR, STATUS, TEMP) hold one byte per DOF, two per word,
low byte first.

Angles are raw 0..1000 with 1000 = open, mapped linearly onto each joint's range (Variant A / Unitree
normalisation): ``raw = 1000 (upper - q) / (upper - lower)``. Which raw end of the thumb rotation is
"across the palm" differs between public sources: verify on hardware.
"""

from __future__ import annotations

import numpy as np

HAND_ID = 1000
CLEAR_ERROR = 1004
SAVE = 1005
ANGLE_SET = 1486
FORCE_SET = 1498
SPEED_SET = 1522
POS_ACT = 1534
ANGLE_ACT = 1546
FORCE_ACT = 1582
CURRENT = 1594
ERROR = 1606
STATUS = 1612
TEMP = 1618
DOF = 6
RAW_MAX = 1000
KEEP = -1  # ANGLE_SET value that leaves a DOF unchanged

#: one read from ANGLE_ACT up to (not including) TEMP covers angles, forces, currents, errors, status
STATE_WORDS = (TEMP - ANGLE_ACT) // 2

ERROR_BITS = {0: "stall", 1: "over-temperature", 2: "over-current", 3: "motor abnormal", 4: "communication fault"}
STATUS_NAMES = {0: "releasing", 1: "grasping", 2: "position reached", 3: "force reached", 5: "current protection",
                6: "stall", 7: "fault", 255: "error"}


def word_offset(register: int, start: int) -> int:
    """Index, within a multi-word transfer starting at ``start``, of the word at byte address ``register``."""
    return (register - start) // 2


def to_raw(q: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> list[int]:
    """Joint angles (rad, command order) to raw 0..1000, 1000 = open."""
    raw = np.rint(RAW_MAX * (upper - np.asarray(q, dtype=np.float64)) / (upper - lower))
    return [int(v) for v in np.clip(raw, 0, RAW_MAX)]


def from_raw(raw: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    return upper - np.asarray(raw, dtype=np.float64) / RAW_MAX * (upper - lower)


def to_word(value: int) -> int:
    """A signed int16 as the unsigned 16-bit register value Modbus carries."""
    return value & 0xFFFF


def from_word(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


def unpack_bytes(words: list[int]) -> list[int]:
    """uint8-per-DOF arrays: two DOFs per word, low byte first."""
    out: list[int] = []
    for word in words:
        out += [word & 0xFF, (word >> 8) & 0xFF]
    return out


def describe_errors(codes: list[int], names: tuple[str, ...]) -> list[str]:
    """Human-readable faults from the ERROR bytes (one per DOF)."""
    faults = []
    for name, code in zip(names, codes, strict=False):
        bits = [text for bit, text in ERROR_BITS.items() if code & (1 << bit)]
        if bits:
            faults.append(f"{name}: {', '.join(bits)} (ERROR=0x{code:02x})")
    return faults
