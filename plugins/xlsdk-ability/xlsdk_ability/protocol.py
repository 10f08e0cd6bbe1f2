"""The Ability Hand's serial packet protocol (facts from shared/hands/psyonic_ability.md §6-7).

A frame on the wire is ``0x7E | stuffed(body + checksum) | 0x7E`` where ``checksum = (-sum(body)) & 0xFF``
and HDLC byte stuffing replaces 0x7E/0x7D in the data by ``0x7D, byte ^ 0x20``.

* command body: ``address | format header | 6 x int16 LE``; the header selects the mode and the reply
  variant: position 0x10/0x11/0x12, velocity 0x20/21/22, current 0x30/31/32, duty 0x40/41/42;
* reply body: ``format header | data``: variant 1 = positions + currents + touch (69 data bytes, a
  71-byte frame body with header and checksum), variant 2 = positions + velocities + touch, variant 3 =
  positions + currents + rotor velocities (38 bytes).

Units (int16 LE): position = deg * 32767/150, velocity = deg/s * 32767/3000, current = A * 620.606079,
duty = % * 3546/100. Touch: 30 FSR values of 12 bits, packed two per three bytes.
API joint order: index, middle, ring, pinky, thumb flexor, thumb rotator (the plugin's command order).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

FLAG = 0x7E
ESCAPE = 0x7D
DEFAULT_ADDRESS = 0x50
DOF = 6
FSR_COUNT = 30
POSITION_SCALE = 32767 / 150.0
VELOCITY_SCALE = 32767 / 3000.0
CURRENT_SCALE = 620.606079
DUTY_SCALE = 3546 / 100.0
WATCHDOG_S = 0.3

Mode = Literal["position", "velocity", "current", "duty"]
MODE_BASE = {"position": 0x10, "velocity": 0x20, "current": 0x30, "duty": 0x40}
UNIT_SCALE = {"position": POSITION_SCALE, "velocity": VELOCITY_SCALE, "current": CURRENT_SCALE, "duty": DUTY_SCALE}


class ProtocolError(ValueError):
    """A frame that cannot be decoded (bad checksum, wrong length, unknown header)."""


def checksum(body: bytes) -> int:
    return (-sum(body)) & 0xFF


def stuff(data: bytes) -> bytes:
    out = bytearray()
    for byte in data:
        if byte in (FLAG, ESCAPE):
            out += bytes((ESCAPE, byte ^ 0x20))
        else:
            out.append(byte)
    return bytes(out)


def unstuff(data: bytes) -> bytes:
    out = bytearray()
    escaped = False
    for byte in data:
        if escaped:
            out.append(byte ^ 0x20)
            escaped = False
        elif byte == ESCAPE:
            escaped = True
        else:
            out.append(byte)
    if escaped:
        raise ProtocolError("frame ends inside an escape sequence")
    return bytes(out)


def frame(body: bytes) -> bytes:
    """Checksum, stuff and delimit a frame body."""
    return bytes((FLAG,)) + stuff(body + bytes((checksum(body),))) + bytes((FLAG,))


def open_frame(raw: bytes) -> bytes:
    """The body of one delimited frame (without flags and checksum); raises ProtocolError if it is damaged."""
    data = unstuff(raw.strip(bytes((FLAG,))))
    if len(data) < 2:
        raise ProtocolError(f"frame of {len(data)} bytes is too short")
    body, check = data[:-1], data[-1]
    if checksum(body) != check:
        raise ProtocolError(f"bad checksum 0x{check:02x} (expected 0x{checksum(body):02x})")
    return body


def split_frames(buffer: bytearray) -> list[bytes]:
    """Take every complete ``0x7E ... 0x7E`` frame out of ``buffer`` (partial data stays)."""
    frames = []
    while True:
        start = buffer.find(FLAG)
        if start < 0:
            buffer.clear()
            return frames
        del buffer[:start]
        end = buffer.find(FLAG, 1)
        if end < 0:
            return frames
        chunk = bytes(buffer[: end + 1])
        if end == 1:  # two flags in a row: the first closed a frame we did not see start
            del buffer[:1]
            continue
        frames.append(chunk)
        del buffer[: end + 1]


def encode_command(values: list[float], *, mode: Mode = "position", variant: int = 1,
                   address: int = DEFAULT_ADDRESS) -> bytes:
    """A command frame: ``values`` in the mode's unit (degrees for position) in API order."""
    if len(values) != DOF:
        raise ProtocolError(f"a command has {DOF} values, got {len(values)}")
    if variant not in (1, 2, 3):
        raise ProtocolError(f"reply variant must be 1, 2 or 3, got {variant}")
    scale = UNIT_SCALE[mode]
    words = [max(-32768, min(32767, round(v * scale))) for v in values]
    header = MODE_BASE[mode] + variant - 1
    return frame(bytes((address, header)) + struct.pack("<6h", *words))


@dataclass(frozen=True)
class Command:
    address: int
    mode: Mode
    variant: int
    values: tuple[float, ...]


def decode_command(body: bytes) -> Command:
    if len(body) != 2 + 2 * DOF:
        raise ProtocolError(f"command body of {len(body)} bytes (expected {2 + 2 * DOF})")
    address, header = body[0], body[1]
    base, variant = header & 0xF0, (header & 0x0F) + 1
    mode = next((name for name, value in MODE_BASE.items() if value == base), None)
    if mode is None or variant not in (1, 2, 3):
        raise ProtocolError(f"unknown format header 0x{header:02x}")
    words = struct.unpack("<6h", body[2:])
    return Command(address=address, mode=mode, variant=variant,  # type: ignore[arg-type]
                   values=tuple(w / UNIT_SCALE[mode] for w in words))


def pack_touch(values: list[int]) -> bytes:
    """30 twelve-bit FSR values, two per three bytes."""
    out = bytearray()
    for a, b in zip(values[0::2], values[1::2], strict=True):
        a, b = a & 0xFFF, b & 0xFFF
        out += bytes((a & 0xFF, (a >> 8) | ((b & 0x0F) << 4), b >> 4))
    return bytes(out)


def unpack_touch(data: bytes) -> list[int]:
    values = []
    for i in range(0, len(data), 3):
        b0, b1, b2 = data[i], data[i + 1], data[i + 2]
        values += [b0 | ((b1 & 0x0F) << 8), (b1 >> 4) | (b2 << 4)]
    return values


@dataclass(frozen=True)
class Reply:
    """A decoded reply: positions in degrees (API order) plus what the variant carries."""

    header: int
    positions_deg: tuple[float, ...]
    currents_a: tuple[float, ...] | None = None
    velocities_dps: tuple[float, ...] | None = None
    touch: tuple[int, ...] | None = None


def encode_reply(header: int, positions_deg: list[float], *, currents_a: list[float] | None = None,
                 velocities_dps: list[float] | None = None, touch: list[int] | None = None) -> bytes:
    variant = (header & 0x0F) + 1
    data = struct.pack("<6h", *[max(-32768, min(32767, round(p * POSITION_SCALE))) for p in positions_deg])
    if variant in (1, 3):
        data += struct.pack("<6h", *[max(-32768, min(32767, round(c * CURRENT_SCALE))) for c in currents_a or [0.0] * DOF])
    if variant == 2:
        data += struct.pack("<6h", *[max(-32768, min(32767, round(v * VELOCITY_SCALE))) for v in velocities_dps or [0.0] * DOF])
    if variant in (1, 2):
        data += pack_touch(touch or [0] * FSR_COUNT)
    else:
        data += struct.pack("<6h", *[max(-32768, min(32767, round(v * VELOCITY_SCALE))) for v in velocities_dps or [0.0] * DOF])
    return frame(bytes((header,)) + data)


def decode_reply(body: bytes) -> Reply:
    header = body[0]
    variant = (header & 0x0F) + 1
    expected = 1 + 12 + 12 + (45 if variant in (1, 2) else 12)
    if variant not in (1, 2, 3) or len(body) != expected:
        raise ProtocolError(f"reply with header 0x{header:02x} has {len(body)} bytes (expected {expected})")
    positions = tuple(w / POSITION_SCALE for w in struct.unpack("<6h", body[1:13]))
    second = struct.unpack("<6h", body[13:25])
    if variant == 1:
        return Reply(header, positions, currents_a=tuple(w / CURRENT_SCALE for w in second),
                     touch=tuple(unpack_touch(body[25:70])))
    if variant == 2:
        return Reply(header, positions, velocities_dps=tuple(w / VELOCITY_SCALE for w in second),
                     touch=tuple(unpack_touch(body[25:70])))
    rotor = struct.unpack("<6h", body[25:37])
    return Reply(header, positions, currents_a=tuple(w / CURRENT_SCALE for w in second),
                 velocities_dps=tuple(w / VELOCITY_SCALE for w in rotor))
