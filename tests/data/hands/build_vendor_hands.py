"""Write the corpus hands of the physics styles that failed (issue 25): vendor collision models and weak servos.

Run ``python tests/data/hands/build_vendor_hands.py``; it uses :mod:`build_corpus`'s builders (the same
frames, fingers and segments), so these two files are generated like the rest of the corpus:

* ``prim22.urdf``: a 22-DOF five-finger hand in the style of a vendor's published *primitive collision
  model*: every phalanx carries its own spheres, cylinders or boxes in ``<collision>`` (a sphere on each
  joint, a cylinder or a box along the phalanx, a sphere on the fingertip), the palm two boxes, and every
  link a ``package://`` visual mesh that is not shipped (the primitives are all a simulator has). Palm
  normal +Z, fingers +X; joints named ``r_<finger>_j<k>``, a little-finger metacarpal and a five-joint thumb.
* ``weak20.urdf``: a 20-DOF five-finger hand whose servos are small, as published for compact hands:
  2 N m on the finger flexion joints, 0.5 N m on spreads and distal joints; fingers +Z with palm normal -Y,
  cylinder collisions.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from build_corpus import FINGERS_X_NORMAL_Z, FINGERS_Z_NORMAL_MINUS_Y, Hand, Robot, Segment, box  # noqa: E402


def _collision(*shapes: str) -> str:
    return "".join(f"<collision>{shape}</collision>" for shape in shapes)


def _sphere(radius: float, z: float) -> str:
    return f'<origin xyz="0 0 {z:.6g}"/><geometry><sphere radius="{radius:.6g}"/></geometry>'


def _cylinder(radius: float, length: float) -> str:
    return f'<origin xyz="0 0 {length / 2:.6g}"/><geometry><cylinder radius="{radius:.6g}" length="{length:.6g}"/></geometry>'


def _box(width: float, depth: float, length: float) -> str:
    return f'<origin xyz="0 0 {length / 2:.6g}"/><geometry><box size="{width:.6g} {depth:.6g} {length:.6g}"/></geometry>'


def _visual(part: str) -> str:
    return f'<visual><geometry><mesh filename="package://prim22_description/meshes/{part}.dae"/></geometry></visual>'


def _phalanx(kind: str, length: float, radius: float = 0.0095, tip: bool = False) -> str:
    """A phalanx's collision model: a sphere on its joint, a cylinder or box along it, a sphere at a fingertip."""
    if length <= 0:
        return _collision(_sphere(radius, 0.0)) + _visual("knuckle")
    along = _cylinder(radius, length) if kind == "cylinder" else _box(2 * radius, 1.7 * radius, length)
    shapes = [_sphere(radius, 0.0), along] + ([_sphere(radius * 0.95, length - 0.3 * radius)] if tip else [])
    return _collision(*shapes) + _visual("distal" if tip else "phalanx")


def prim22() -> Robot:
    robot = Robot("prim22")
    hand = Hand(robot, "r_palm", vendor=FINGERS_X_NORMAL_Z)
    palm = (f'<collision><origin xyz="0.045 0 0.005"/><geometry><box size="0.09 0.085 0.026"/></geometry></collision>'
            f'<collision><origin xyz="0.012 0.018 0.004"/><geometry><box size="0.03 0.04 0.024"/></geometry></collision>'
            + _visual("palm"))
    robot.link("r_palm", palm)
    for code, x, z, lengths in (("index", -0.031, 0.094, (0.046, 0.027, 0.025)),
                                ("middle", -0.01, 0.098, (0.05, 0.029, 0.026)),
                                ("ring", 0.011, 0.094, (0.047, 0.028, 0.025))):
        hand.finger((x, 0.0, z), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), [
            Segment(f"r_{code}_j0", f"r_{code}_knuckle", "abd", (-0.35, 0.35), 0.0, geometry=_phalanx("", 0.0)),
            Segment(f"r_{code}_j1", f"r_{code}_proximal", "flex", (-0.2, 1.57), lengths[0],
                    geometry=_phalanx("cylinder", lengths[0])),
            Segment(f"r_{code}_j2", f"r_{code}_middle", "flex", (0.0, 1.6), lengths[1],
                    geometry=_phalanx("box", lengths[1])),
            Segment(f"r_{code}_j3", f"r_{code}_distal", "flex", (0.0, 1.5), lengths[2],
                    geometry=_phalanx("cylinder", lengths[2], tip=True)),
        ], tip=f"r_{code}_tip")
    hand.finger((0.031, 0.0, 0.025), (0.1, 0.0, 1.0), (0.0, 1.0, 0.0), [
        Segment("r_little_j0", "r_little_metacarpal", "flex", (0.0, 0.7), 0.062, geometry=_phalanx("box", 0.05)),
        Segment("r_little_j1", "r_little_knuckle", "abd", (-0.35, 0.35), 0.0, geometry=_phalanx("", 0.0)),
        Segment("r_little_j2", "r_little_proximal", "flex", (-0.2, 1.57), 0.04, geometry=_phalanx("cylinder", 0.04)),
        Segment("r_little_j3", "r_little_middle", "flex", (0.0, 1.6), 0.024, geometry=_phalanx("box", 0.024)),
        Segment("r_little_j4", "r_little_distal", "flex", (0.0, 1.5), 0.023,
                geometry=_phalanx("cylinder", 0.023, tip=True)),
    ], tip="r_little_tip")
    hand.finger((-0.032, 0.01, 0.03), (-0.8, 0.3, 0.5), (1.0, 0.7, 0.2), [
        Segment("r_thumb_j0", "r_thumb_base", "palm_z", (-1.0, 1.0), 0.0, geometry=_phalanx("", 0.0)),
        Segment("r_thumb_j1", "r_thumb_proximal", "flex", (0.0, 1.2), 0.036,
                geometry=_phalanx("cylinder", 0.036, radius=0.0105)),
        Segment("r_thumb_j2", "r_thumb_hub", "abd", (-0.2, 0.2), 0.0, geometry=_phalanx("", 0.0)),
        Segment("r_thumb_j3", "r_thumb_middle", "abd", (-0.7, 0.7), 0.032, geometry=_phalanx("box", 0.032)),
        Segment("r_thumb_j4", "r_thumb_distal", "flex", (-0.26, 1.57), 0.028,
                geometry=_phalanx("cylinder", 0.028, radius=0.0105, tip=True)),
    ], tip="r_thumb_tip")
    return robot


def weak20() -> Robot:
    robot = Robot("weak20")
    hand = Hand(robot, "hand_base", vendor=FINGERS_Z_NORMAL_MINUS_Y)
    robot.link("hand_base", box((0.086, 0.024, 0.1), xyz=(0.0, 0.0, 0.05)))
    for f, (x, z, scale) in enumerate(((-0.03, 0.1, 1.0), (-0.01, 0.104, 1.05), (0.01, 0.1, 1.0), (0.03, 0.094, 0.85))):
        hand.finger((x, 0.0, z), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), [
            Segment(f"finger{f + 1}_spread", f"finger{f + 1}_base", "abd", (-0.3, 0.3), 0.0),
            Segment(f"finger{f + 1}_mcp", f"finger{f + 1}_proximal", "flex", (-0.1, 1.57), 0.044 * scale),
            Segment(f"finger{f + 1}_pip", f"finger{f + 1}_middle", "flex", (0.0, 1.6), 0.026 * scale),
            Segment(f"finger{f + 1}_dip", f"finger{f + 1}_distal", "flex", (0.0, 1.4), 0.024 * scale),
        ], tip=f"finger{f + 1}_tip", radius=0.0085)
    hand.finger((-0.03, 0.01, 0.025), (-0.8, 0.3, 0.5), (1.0, 0.7, 0.2), [
        Segment("thumb_rotation", "thumb_base", "palm_z", (-0.9, 1.1), 0.0),
        Segment("thumb_cmc", "thumb_metacarpal", "flex", (0.0, 1.2), 0.04),
        Segment("thumb_mcp", "thumb_proximal", "flex", (-0.2, 1.3), 0.032),
        Segment("thumb_ip", "thumb_distal", "flex", (-0.2, 1.5), 0.028),
    ], tip="thumb_tip", radius=0.0095)
    return robot


def _efforts(robot: Robot) -> Robot:
    """2 N m on flexion joints, 0.5 N m on spreads and distal joints (``build_corpus`` writes 1 N m everywhere)."""
    small = ("spread", "dip", "_ip", "rotation")
    robot.joints = [re.sub(r'effort="[0-9.]+"', 'effort="0.5"' if any(s in text.split('"')[1] for s in small)
                           else 'effort="2"', text) for text in robot.joints]
    return robot


def main() -> None:
    prim22().write(HERE / "prim22.urdf")
    _efforts(weak20()).write(HERE / "weak20.urdf")


if __name__ == "__main__":
    main()
