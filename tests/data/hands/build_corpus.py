"""Write the import corpus: test hands in the styles real vendors publish, from published facts.

Run ``python tests/data/hands/build_corpus.py`` to regenerate every file of this directory except
``expected.toml`` (the expectations are written by hand from each model's facts, never from the
importer's output) and the hand-written ``.xacro``/``.xml`` inputs.

Each hand is described in the xlsdk palm frame (+X toward the little finger of a right hand, +Y the palm
normal, +Z wrist -> fingertips) and written in its vendor's own palm-link convention (``vendor`` maps
xlsdk axes to the palm link's axes), mirrored for left hands. Dimensions are the published ones rounded
(knuckle spacing, phalanx lengths, joint ranges); nothing is copied from any vendor file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

# columns: where the xlsdk X, Y, Z axes point in the vendor's palm link frame
FINGERS_Z_NORMAL_X = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # palm normal +X (allegro-like)
FINGERS_Z_NORMAL_MINUS_Y = np.array([[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]])  # palm normal -Y
FINGERS_X_NORMAL_Z = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # fingers +X, palm normal +Z
IDENTITY = np.eye(3)


def _fmt(values: np.ndarray | tuple[float, ...] | list[float]) -> str:
    return " ".join(f"{0.0 if abs(float(v)) < 1e-12 else float(v):.6g}" for v in values)


def _rpy(matrix: np.ndarray) -> tuple[float, float, float]:
    pitch = math.asin(-max(-1.0, min(1.0, float(matrix[2, 0]))))
    if abs(abs(float(matrix[2, 0])) - 1.0) < 1e-9:
        return 0.0, pitch, math.atan2(-float(matrix[0, 1]), float(matrix[1, 1]))
    return math.atan2(float(matrix[2, 1]), float(matrix[2, 2])), pitch, math.atan2(float(matrix[1, 0]), float(matrix[0, 0]))


def _unit(vector: np.ndarray | list[float] | tuple[float, ...]) -> np.ndarray:
    vector = np.asarray(vector, dtype=float)
    return vector / np.linalg.norm(vector)


@dataclass
class Robot:
    """A URDF under construction: links and joints as XML strings, in insertion order."""

    name: str
    links: list[str] = field(default_factory=list)
    joints: list[str] = field(default_factory=list)

    def link(self, name: str, geometry: str = "") -> None:
        self.links.append(f'<link name="{name}">{geometry}</link>' if geometry else f'<link name="{name}"/>')

    def joint(self, name: str, kind: str, parent: str, child: str, xyz=(0.0, 0.0, 0.0), rpy=(0.0, 0.0, 0.0),
              axis=None, limit: tuple[float, float] | None = None, mimic: tuple[str, float, float] | None = None,
              xyz_text: str | None = None) -> None:
        text = (f'<joint name="{name}" type="{kind}"><parent link="{parent}"/><child link="{child}"/>'
                f'<origin xyz="{xyz_text or _fmt(xyz)}" rpy="{_fmt(rpy)}"/>')
        if axis is not None:
            text += f'<axis xyz="{_fmt(axis)}"/>'
        if limit is not None:
            text += f'<limit lower="{limit[0]:.6g}" upper="{limit[1]:.6g}" effort="1" velocity="3"/>'
        if mimic is not None:
            text += f'<mimic joint="{mimic[0]}" multiplier="{mimic[1]:.6g}" offset="{mimic[2]:.6g}"/>'
        self.joints.append(text + "</joint>")

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "\n  ".join(self.links + self.joints)
        path.write_text(f'<?xml version="1.0"?>\n<robot name="{self.name}">\n  {body}\n</robot>\n', encoding="utf-8")


def box(size, xyz=(0.0, 0.0, 0.0)) -> str:
    return f'<visual><origin xyz="{_fmt(xyz)}"/><geometry><box size="{_fmt(size)}"/></geometry></visual>'


def cylinder(radius: float, length: float) -> str:
    """A phalanx along the link's +Z from its origin (collision geometry, as many vendors ship)."""
    return (f'<collision><origin xyz="0 0 {length / 2:.6g}"/><geometry><cylinder radius="{radius:.6g}" '
            f'length="{length:.6g}"/></geometry></collision>')


def mesh(filename: str, scale: float | None = None) -> str:
    scale_text = f' scale="{scale:g} {scale:g} {scale:g}"' if scale is not None else ""
    return f'<visual><geometry><mesh filename="{filename}"{scale_text}/></geometry></visual>'


@dataclass
class Segment:
    """One joint and the link it moves; ``length`` is the link's extent along the finger (next joint or tip)."""

    joint: str
    link: str
    kind: str  # "abd" (spread, about the palm normal), "flex" (curl), "palm_z" (about the palm's long axis)
    limit: tuple[float, float]
    length: float
    geometry: str | None = None  # None: a cylinder along the link; "" for none
    mimic: tuple[str, float, float] | None = None


@dataclass
class Hand:
    """A hand in the xlsdk frame, written into ``robot`` in the vendor frame ``vendor`` (mirrored if left)."""

    robot: Robot
    palm: str
    vendor: np.ndarray = field(default_factory=lambda: IDENTITY.copy())
    left: bool = False

    def vec(self, v) -> np.ndarray:
        """An xlsdk-frame vector of a right hand -> the vendor palm frame (mirrored for a left hand)."""
        v = np.asarray(v, dtype=float).copy()
        if self.left:
            v[0] = -v[0]
        return self.vendor @ v

    def finger(self, base: tuple[float, float, float], direction, normal, segments: list[Segment],
               tip: str | None = None, parent: str | None = None, radius: float = 0.008,
               base_xyz_text: str | None = None) -> None:
        """A chain from the palm: its first joint at ``base`` pointing along ``direction``, curling toward ``normal``."""
        c = _unit(self.vec(direction))
        n = self.vec(normal)
        n = _unit(n - (n @ c) * c)
        b = -n
        a = np.cross(b, c)
        frame = np.stack([a, b, c], axis=1)  # the finger's local frame in the palm link
        palm_z = frame.T @ self.vec((0.0, 0.0, 1.0)) * (-1.0 if self.left else 1.0)
        parent_link = parent or self.palm
        for k, seg in enumerate(segments):
            axis = {"abd": (0.0, 1.0, 0.0), "flex": (1.0, 0.0, 0.0), "palm_z": tuple(palm_z)}[seg.kind]
            if k == 0:
                self.robot.joint(seg.joint, "revolute", parent_link, seg.link, xyz=self.vec(base), rpy=_rpy(frame),
                                 axis=axis, limit=seg.limit, mimic=seg.mimic, xyz_text=base_xyz_text)
            else:
                self.robot.joint(seg.joint, "revolute", parent_link, seg.link, xyz=(0.0, 0.0, segments[k - 1].length),
                                 axis=axis, limit=seg.limit, mimic=seg.mimic)
            geometry = seg.geometry
            if geometry is None:
                geometry = cylinder(radius, seg.length) if seg.length > 0 else ""
            self.robot.link(seg.link, geometry)
            parent_link = seg.link
        if tip is not None:
            self.robot.link(tip)
            self.robot.joint(f"{tip}_joint", "fixed", parent_link, tip, xyz=(0.0, 0.0, segments[-1].length))


# ---------------------------------------------------------------------------------------------------------------------
# numbered16: a 16-DOF four-finger research hand (allegro-like): joints and links named only by number
# (joint_0.0 .. joint_15.0, link_0.0 .. link_15.0, link_3.0_tip ...), palm normal +X, fingers +Z,
# the thumb mounted below and behind the palm, its base between the index and middle knuckles.

def numbered16() -> Robot:
    robot = Robot("numbered16")
    robot.link("palm_link", box((0.0408, 0.113, 0.095), xyz=(-0.0093, 0.0, -0.0475)))
    hand = Hand(robot, "palm_link", vendor=FINGERS_Z_NORMAL_X)
    finger_lengths = [0.0164, 0.054, 0.0384, 0.0267]
    limits = [(-0.47, 0.47), (-0.196, 1.61), (-0.174, 1.709), (-0.227, 1.618)]
    for f, x in enumerate((-0.0435, 0.0, 0.0435)):  # index, middle, ring across the palm
        segments = [Segment(f"joint_{4 * f + k}.0", f"link_{4 * f + k}.0", "abd" if k == 0 else "flex", limits[k],
                            finger_lengths[k]) for k in range(4)]
        hand.finger((x, 0.0, 0.0007), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), segments, tip=f"link_{4 * f + 3}.0_tip",
                    radius=0.0098)
    thumb = [Segment("joint_12.0", "link_12.0", "palm_z", (0.263, 1.396), 0.0177),
             Segment("joint_13.0", "link_13.0", "abd", (-0.105, 1.163), 0.0384),
             Segment("joint_14.0", "link_14.0", "flex", (-0.189, 1.644), 0.0514),
             Segment("joint_15.0", "link_15.0", "flex", (-0.162, 1.719), 0.0423)]
    hand.finger((-0.0193, -0.0182, -0.0460), (-0.75, 0.3, 0.6), (1.0, 0.6, 0.0), thumb, tip="link_15.0_tip",
                radius=0.0098)
    return robot


# ---------------------------------------------------------------------------------------------------------------------
# five22: a 22-DOF five-finger hand (shadow-like) with a 2-joint wrist above the palm: rh_ prefixes, two-letter
# finger codes (ff, mf, rf, lf, th) inside link names (rh_ffmiddle is the first finger's middle phalanx!),
# a little-finger metacarpal joint, five thumb joints, palm normal -Y, tip frames rh_fftip ...

def _five22(left: bool) -> Robot:
    side = "lh" if left else "rh"
    robot = Robot(f"five22_{'left' if left else 'right'}")
    hand = Hand(robot, f"{side}_palm", vendor=FINGERS_Z_NORMAL_MINUS_Y, left=left)
    robot.link(f"{side}_forearm", box((0.06, 0.04, 0.12), xyz=(0.0, 0.0, 0.06)))
    robot.link(f"{side}_wrist")
    robot.link(f"{side}_palm", box((0.084, 0.022, 0.096), xyz=(0.0, 0.0, 0.048)))
    robot.joint(f"{side}_WRJ2", "revolute", f"{side}_forearm", f"{side}_wrist", xyz=(0.0, -0.01, 0.213),
                axis=(0.0, 1.0, 0.0), limit=(-0.524, 0.175))
    robot.joint(f"{side}_WRJ1", "revolute", f"{side}_wrist", f"{side}_palm", xyz=(0.0, 0.0, 0.034),
                axis=(1.0, 0.0, 0.0), limit=(-0.698, 0.489))
    knuckles = {"ff": (-0.033, 0.095), "mf": (-0.011, 0.099), "rf": (0.011, 0.095)}
    for code, (x, z) in knuckles.items():
        up = code.upper()
        hand.finger((x, 0.0, z), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), [
            Segment(f"{side}_{up}J4", f"{side}_{code}knuckle", "abd", (-0.349, 0.349), 0.0),
            Segment(f"{side}_{up}J3", f"{side}_{code}proximal", "flex", (-0.262, 1.571), 0.045),
            Segment(f"{side}_{up}J2", f"{side}_{code}middle", "flex", (0.0, 1.571), 0.025),
            Segment(f"{side}_{up}J1", f"{side}_{code}distal", "flex", (0.0, 1.571), 0.026),
        ], tip=f"{side}_{code}tip", radius=0.009)
    hand.finger((0.033, 0.0, 0.0207), (0.12, 0.0, 1.0), (0.0, 1.0, 0.0), [
        Segment(f"{side}_LFJ5", f"{side}_lfmetacarpal", "flex", (0.0, 0.785), 0.0658, geometry=""),
        Segment(f"{side}_LFJ4", f"{side}_lfknuckle", "abd", (-0.349, 0.349), 0.0),
        Segment(f"{side}_LFJ3", f"{side}_lfproximal", "flex", (-0.262, 1.571), 0.045),
        Segment(f"{side}_LFJ2", f"{side}_lfmiddle", "flex", (0.0, 1.571), 0.025),
        Segment(f"{side}_LFJ1", f"{side}_lfdistal", "flex", (0.0, 1.571), 0.026),
    ], tip=f"{side}_lftip", radius=0.009)
    hand.finger((-0.034, 0.0085, 0.029), (-0.8, 0.25, 0.55), (1.0, 0.7, 0.2), [
        Segment(f"{side}_THJ5", f"{side}_thbase", "palm_z", (-1.047, 1.047), 0.0),
        Segment(f"{side}_THJ4", f"{side}_thproximal", "flex", (0.0, 1.222), 0.038),
        Segment(f"{side}_THJ3", f"{side}_thhub", "abd", (-0.209, 0.209), 0.0),
        Segment(f"{side}_THJ2", f"{side}_thmiddle", "abd", (-0.698, 0.698), 0.032),
        Segment(f"{side}_THJ1", f"{side}_thdistal", "flex", (-0.262, 1.571), 0.0275),
    ], tip=f"{side}_thtip", radius=0.01)
    return robot


def five22() -> Robot:
    return _five22(left=False)


def five22_left() -> Robot:
    return _five22(left=True)


CORPUS = {
    "numbered16.urdf": numbered16,
    "five22.urdf": five22,
    "five22_left.urdf": five22_left,
}


def main() -> None:
    for filename, build in CORPUS.items():
        build().write(HERE / filename)
        print("wrote", filename)


if __name__ == "__main__":
    main()
