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

def numbered16(name: str = "numbered16", palm: str = "palm_link", vendor: np.ndarray = FINGERS_Z_NORMAL_X,
               left: bool = False) -> Robot:
    robot = Robot(name)
    hand = Hand(robot, palm, vendor=vendor, left=left)
    size, centre = FINGERS_Z_NORMAL_X.T @ (0.0408, 0.113, 0.095), FINGERS_Z_NORMAL_X.T @ (-0.0093, 0.0, -0.0475)
    robot.link(palm, box(np.abs(hand.vec(size)), xyz=hand.vec(centre)))  # the palm block, in the vendor's axes
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


# ---------------------------------------------------------------------------------------------------------------------
# leap16: a 16-DOF low-cost research hand (leap-like): joints joint_0 .. joint_15 (the abduction joint of each
# finger comes before its MCP in the chain), links named mcp_joint/pip/dip/fingertip with _2/_3 suffixes (only the
# thumb's links say "thumb"), every link carries only a mesh (package:// URIs, millimetre meshes scaled by 0.001,
# no tip frames), fingers along -Y with the palm normal -Z, and a 1e-40 in one origin (a value that once broke
# another parser).

LEAP_FRAME = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, -1.0, 0.0]])
LEAP_PHALANX = "package://leap16/meshes/phalanx.stl"
LEAP_TIP = "package://leap16/meshes/fingertip.stl"
LEAP_TIP_LENGTH = 0.048  # fingertip.stl extends 48 mm from the DIP axis


def leap16() -> Robot:
    robot = Robot("leap16")
    robot.link("palm_lower", mesh("package://leap16/meshes/palm.stl", 0.001))
    hand = Hand(robot, "palm_lower", vendor=LEAP_FRAME)
    lengths = [0.012, 0.038, 0.036, LEAP_TIP_LENGTH]
    limits = [(-1.047, 1.047), (-0.314, 2.23), (-0.506, 1.885), (-0.366, 2.042)]
    names = [("mcp_joint", "pip", "dip", "fingertip"), ("mcp_joint_2", "pip_2", "dip_2", "fingertip_2"),
             ("mcp_joint_3", "pip_3", "dip_3", "fingertip_3")]
    for f, x in enumerate((-0.045, 0.0, 0.045)):
        ids = [4 * f + 1, 4 * f, 4 * f + 2, 4 * f + 3]
        segments = [Segment(f"joint_{ids[k]}", names[f][k], "abd" if k == 0 else "flex", limits[k], lengths[k],
                            geometry=mesh(LEAP_TIP if k == 3 else LEAP_PHALANX, 0.001)) for k in range(4)]
        hand.finger((x, 0.0, 0.0), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), segments,
                    base_xyz_text="0.045 1e-40 0" if f == 0 else None)
    thumb_links = ("pip_4", "thumb_pip", "thumb_dip", "thumb_fingertip")
    thumb_limits = [(-0.349, 2.094), (-0.47, 2.443), (-1.2, 1.9), (-1.34, 1.88)]
    kinds = ("palm_z", "abd", "flex", "flex")
    thumb_lengths = (0.015, 0.014, 0.045, LEAP_TIP_LENGTH)
    hand.finger((-0.02, 0.015, -0.03), (-0.55, 0.45, 0.7), (1.0, 0.4, 0.0), [
        Segment(f"joint_{12 + k}", thumb_links[k], kinds[k], thumb_limits[k], thumb_lengths[k],
                geometry=mesh(LEAP_TIP if k == 3 else LEAP_PHALANX, 0.001)) for k in range(4)])
    return robot


def _leap_meshes() -> None:
    """Millimetre STL meshes: the fingertip's long axis along the mesh's +Z (the link's finger direction)."""
    import trimesh

    folder = HERE / "leap16" / "meshes"
    folder.mkdir(parents=True, exist_ok=True)
    tip = trimesh.creation.box(extents=(16.0, 14.0, LEAP_TIP_LENGTH * 1000.0))
    tip.apply_translation((0.0, 0.0, LEAP_TIP_LENGTH * 500.0))
    tip.export(folder / "fingertip.stl")
    phalanx = trimesh.creation.box(extents=(16.0, 14.0, 30.0))
    phalanx.apply_translation((0.0, 0.0, 15.0))
    phalanx.export(folder / "phalanx.stl")
    trimesh.creation.box(extents=(100.0, 30.0, 90.0)).export(folder / "palm.stl")


# ---------------------------------------------------------------------------------------------------------------------
# inspire_mimic: a 6-motor five-finger humanoid hand (inspire-like): R_ prefixes, "pinky" for the little finger,
# each intermediate phalanx a <mimic> of its proximal joint, thumb yaw + pitch with two mimic joints, fingers along
# +X with the palm normal +Z, and the distal links carrying only an OBJ mesh (relative path) whose long axis is the
# mesh's +X, turned onto the finger by the visual origin.

INSPIRE_TIP_LENGTH = 0.046


def _inspire_tip_mesh() -> str:
    return ('<visual><origin xyz="0 0 0" rpy="0 -1.5707963267949 0"/><geometry>'
            '<mesh filename="meshes/inspire_distal.obj"/></geometry></visual>')


def inspire_mimic() -> Robot:
    robot = Robot("inspire_mimic")
    robot.link("R_hand_base_link", box((0.02, 0.08, 0.11), xyz=(0.055, 0.0, 0.0)))
    hand = Hand(robot, "R_hand_base_link", vendor=FINGERS_X_NORMAL_Z)
    for name, x, z, length in (("index", -0.032, 0.118, 0.032), ("middle", -0.011, 0.121, 0.034),
                               ("ring", 0.010, 0.118, 0.032), ("pinky", 0.029, 0.112, 0.028)):
        hand.finger((x, 0.0, z), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), [
            Segment(f"R_{name}_proximal_joint", f"R_{name}_proximal", "flex", (0.0, 1.7), length),
            Segment(f"R_{name}_intermediate_joint", f"R_{name}_intermediate", "flex", (0.0, 1.92), INSPIRE_TIP_LENGTH,
                    geometry=_inspire_tip_mesh(), mimic=(f"R_{name}_proximal_joint", 1.13, 0.0)),
        ], radius=0.008)
    hand.finger((-0.025, 0.02, 0.02), (-0.7, 0.4, 0.6), (1.0, 0.5, 0.0), [
        Segment("R_thumb_proximal_yaw_joint", "R_thumb_proximal_base", "palm_z", (0.0, 1.308), 0.0),
        Segment("R_thumb_proximal_pitch_joint", "R_thumb_proximal", "flex", (0.0, 0.6), 0.042),
        Segment("R_thumb_intermediate_joint", "R_thumb_intermediate", "flex", (0.0, 0.8), 0.016,
                mimic=("R_thumb_proximal_pitch_joint", 1.334, 0.0)),
        Segment("R_thumb_distal_joint", "R_thumb_distal", "flex", (0.0, 1.2), INSPIRE_TIP_LENGTH,
                geometry=_inspire_tip_mesh(), mimic=("R_thumb_proximal_pitch_joint", 0.667, 0.0)),
    ], radius=0.009)
    return robot


def _inspire_meshes() -> None:
    import trimesh

    folder = HERE / "meshes"
    folder.mkdir(parents=True, exist_ok=True)
    tip = trimesh.creation.box(extents=(INSPIRE_TIP_LENGTH, 0.014, 0.012))
    tip.apply_translation((INSPIRE_TIP_LENGTH / 2, 0.0, 0.0))
    tip.export(folder / "inspire_distal.obj")


# ---------------------------------------------------------------------------------------------------------------------
# svh_palm_mimic: a 9-motor five-finger hand (svh-like): single-letter link names (right_hand_a ...), the fingers
# named only in the actuated joints' names (mimic joints are right_hand_j3 ...), and a spread joint on the palm,
# on no finger chain, driving the index, ring and little spread joints through <mimic>.

def svh_palm_mimic() -> Robot:
    robot = Robot("svh_palm_mimic")
    robot.link("right_hand_base_link")
    robot.link("right_hand_e1", box((0.09, 0.03, 0.1), xyz=(0.0, 0.0, 0.05)))
    robot.joint("right_hand_mount", "fixed", "right_hand_base_link", "right_hand_e1", xyz=(0.0, 0.0, 0.01))
    hand = Hand(robot, "right_hand_e1", vendor=FINGERS_Z_NORMAL_X)
    spread = "right_hand_Finger_Spread"
    hand.finger((-0.03, 0.01, 0.03), (-0.7, 0.35, 0.6), (1.0, 0.5, 0.0), [
        Segment("right_hand_Thumb_Opposition", "right_hand_a", "palm_z", (0.0, 0.9879), 0.0),
        Segment("right_hand_Thumb_Flexion", "right_hand_b", "flex", (0.0, 0.9704), 0.044),
        Segment("right_hand_j3", "right_hand_c", "flex", (0.0, 0.98506), 0.032, mimic=("right_hand_Thumb_Flexion", 1.01511, 0.0)),
        Segment("right_hand_j4", "right_hand_d", "flex", (0.0, 1.406), 0.025, mimic=("right_hand_Thumb_Flexion", 1.44889, 0.0)),
    ])
    fingers = [
        # (knuckle x, z, spread mimic multiplier or None, proximal name, distal name, mimic name, letters)
        (-0.025, 0.110, -0.5, "right_hand_Index_Finger_Proximal", "right_hand_Index_Finger_Distal", "right_hand_j14", "jlpt"),
        (-0.003, 0.113, None, "right_hand_Middle_Finger_Proximal", "right_hand_Middle_Finger_Distal", "right_hand_j15", "kmqu"),
        (0.019, 0.105, 0.5, "right_hand_Ring_Finger", "right_hand_j12", "right_hand_j16", "inrv"),
        (0.040, 0.095, 1.0, "right_hand_Pinky", "right_hand_j13", "right_hand_j17", "hosw"),
    ]
    spread_names = {-0.5: "right_hand_index_spread", 0.5: "right_hand_j5", 1.0: "right_hand_j6"}
    for x, z, multiplier, proximal, distal, last, letters in fingers:
        segments = []
        if multiplier is not None:
            segments.append(Segment(spread_names[multiplier], f"right_hand_{letters[0]}", "abd", (-0.3, 0.3), 0.0,
                                    mimic=(spread, multiplier, 0.0)))
        distal_mimic = None if "Distal" in distal else (proximal, 1.3588, 0.0)
        segments += [Segment(proximal, f"right_hand_{letters[1]}", "flex", (0.0, 0.798), 0.048),
                     Segment(distal, f"right_hand_{letters[2]}", "flex", (0.0, 1.334), 0.028, mimic=distal_mimic),
                     Segment(last, f"right_hand_{letters[3]}", "flex", (0.0, 1.394), 0.022,
                             mimic=(distal if distal_mimic is None else proximal, 1.0450 if distal_mimic is None else 1.42093, 0.0))]
        hand.finger((x, 0.0, z), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), segments)
    robot.link("right_hand_spread_link")
    robot.joint(spread, "revolute", "right_hand_e1", "right_hand_spread_link", xyz=(0.01, 0.0, 0.08),
                axis=(1.0, 0.0, 0.0), limit=(0.0, 0.5829))
    return robot


# ---------------------------------------------------------------------------------------------------------------------
# arm_ability: a 7-joint arm with a six-motor five-finger hand (ability-like) on its flange: each finger's second
# joint a <mimic> of the first with an offset (bent at zero), thumb rotator + flexor, a camera frame on the arm.

ABILITY_FRAME = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def arm_ability() -> Robot:
    robot = Robot("arm_ability")
    robot.link("world")
    parent = "world"
    axes = [(0, 0, 1), (0, 1, 0), (0, 0, 1), (0, -1, 0), (0, 0, 1), (0, -1, 0), (0, 0, 1)]
    offsets = [0.333, 0.0, 0.316, 0.0825, 0.384, 0.0, 0.088]
    for k in range(7):
        child = f"arm_link{k + 1}"
        robot.link(child, cylinder(0.05, 0.1))
        robot.joint(f"arm_joint{k + 1}", "revolute", parent, child, xyz=(0.0, 0.0, offsets[k]), axis=axes[k],
                    limit=(-2.8973, 2.8973))
        parent = child
    robot.link("arm_camera_link")
    robot.joint("arm_camera_joint", "fixed", "arm_link5", "arm_camera_link", xyz=(0.05, 0.0, 0.1))
    robot.link("arm_flange")
    robot.joint("arm_flange_joint", "fixed", parent, "arm_flange", xyz=(0.0, 0.0, 0.107))
    robot.link("base", box((0.03, 0.085, 0.09), xyz=(0.045, 0.0, 0.0)))
    robot.joint("ability_mount", "fixed", "arm_flange", "base", rpy=(0.0, -1.5707963267949, 0.0))
    hand = Hand(robot, "base", vendor=ABILITY_FRAME)
    for name, x, z in (("index", -0.028, 0.097), ("middle", -0.0075, 0.1), ("ring", 0.0135, 0.097),
                       ("pinky", 0.033, 0.091)):
        hand.finger((x, 0.0, z), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), [
            Segment(f"{name}_q1", f"{name}_L1", "flex", (0.0, 2.0944), 0.0387),
            Segment(f"{name}_q2", f"{name}_L2", "flex", (0.0, 2.6586), 0.045, mimic=(f"{name}_q1", 1.05851, 0.72350)),
        ], radius=0.008)
    hand.finger((-0.022, 0.012, 0.025), (-0.85, 0.2, 0.45), (1.0, 0.6, 0.0), [
        Segment("thumb_q1", "thumb_L1", "palm_z", (-2.0944, 0.0), 0.028),
        Segment("thumb_q2", "thumb_L2", "flex", (0.0, 2.0944), 0.062),
    ], radius=0.009)
    return robot


# ---------------------------------------------------------------------------------------------------------------------
# dex3: a 7-DOF three-finger humanoid hand (dex3-like): thumb on its own edge of the palm, opposite the index and
# middle fingers (the thumb's knuckle between theirs across the palm), left_hand_/right_hand_ prefixes,
# numbered joints inside finger names (left_hand_thumb_0_joint); the left one sits on a 2-joint wrist.

def _dex3(left: bool, wrist: bool, palm: str | None = None, vendor: np.ndarray = FINGERS_Z_NORMAL_MINUS_Y,
          name: str | None = None) -> Robot:
    side = "left" if left else "right"
    robot = Robot(name or f"dex3_{side}")
    palm = palm or f"{side}_hand_palm_link"
    if wrist:
        robot.link(f"{side}_forearm_link", cylinder(0.03, 0.1))
        robot.link(f"{side}_wrist_pitch_link")
        robot.joint(f"{side}_wrist_pitch_joint", "revolute", f"{side}_forearm_link", f"{side}_wrist_pitch_link",
                    xyz=(0.0, 0.0, 0.1), axis=(0.0, 1.0, 0.0), limit=(-1.614, 1.614))
        robot.joint(f"{side}_wrist_yaw_joint", "revolute", f"{side}_wrist_pitch_link", palm, xyz=(0.0, 0.0, 0.02),
                    axis=(0.0, 0.0, 1.0), limit=(-1.614, 1.614))
    hand = Hand(robot, palm, vendor=vendor, left=left)
    robot.link(palm, box(np.abs(hand.vec((0.07, 0.03, 0.08))), xyz=hand.vec((0.0, 0.0, 0.04))))
    for name, x in (("index", -0.02), ("middle", 0.02)):
        hand.finger((x, -0.012, 0.085), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), [
            Segment(f"{side}_hand_{name}_0_joint", f"{side}_hand_{name}_0_link", "flex", (0.0, 1.57), 0.045),
            Segment(f"{side}_hand_{name}_1_joint", f"{side}_hand_{name}_1_link", "flex", (0.0, 1.75), 0.04),
        ], radius=0.009)
    hand.finger((-0.006, 0.02, 0.06), (-0.1, 0.0, 1.0), (0.0, -1.0, 0.0), [
        Segment(f"{side}_hand_thumb_0_joint", f"{side}_hand_thumb_0_link", "palm_z", (-1.047, 1.047), 0.0),
        Segment(f"{side}_hand_thumb_1_joint", f"{side}_hand_thumb_1_link", "flex", (-0.724, 1.047), 0.045),
        Segment(f"{side}_hand_thumb_2_joint", f"{side}_hand_thumb_2_link", "flex", (0.0, 1.745), 0.04),
    ], radius=0.009)
    return robot


def dex3_left_wrist() -> Robot:
    return _dex3(left=True, wrist=True)


def dex3_right() -> Robot:
    return _dex3(left=False, wrist=False)


# ---------------------------------------------------------------------------------------------------------------------
# gripper3: a three-finger gripper (barrett-like): fingers 1 and 2 side by side spread symmetrically about the
# palm normal (finger 2's spread a <mimic> of finger 1's), finger 3 fixed opposite them; every finger's distal joint
# a <mimic> of its proximal one; all three point away from the palm at zero. Numbered names only.

def gripper3() -> Robot:
    robot = Robot("gripper3")
    robot.link("bh_base_link", cylinder(0.045, 0.08))
    hand = Hand(robot, "bh_base_link")
    for f, (x, y, curl) in enumerate(((-0.025, -0.025, 1.0), (0.025, -0.025, 1.0), (0.0, 0.025, -1.0)), start=1):
        segments = []
        if f < 3:
            segments.append(Segment(f"bh_j{f}1_joint", f"bh_finger_{f}1_link", "palm_z",
                                    (0.0, 3.1416) if f == 1 else (-3.1416, 0.0), 0.0,
                                    mimic=None if f == 1 else ("bh_j11_joint", -1.0, 0.0)))
        segments += [Segment(f"bh_j{f}2_joint", f"bh_finger_{f}2_link", "flex", (0.0, 2.44), 0.07),
                     Segment(f"bh_j{f}3_joint", f"bh_finger_{f}3_link", "flex", (0.0, 0.84), 0.058,
                             mimic=(f"bh_j{f}2_joint", 0.3442, 0.0))]
        hand.finger((x, y, 0.08), (0.0, 0.0, 1.0), (0.0, curl, 0.0), segments, radius=0.01)
    return robot


# ---------------------------------------------------------------------------------------------------------------------
# numbered20 / numbered20_left: a 20-DOF five-finger hand (dg-5f-like) whose fingers are named only by number:
# rj_dg_1_1 .. rj_dg_5_4 (finger 1 the thumb, 2 index ... 5 little), links rl_dg_N_M and tip frames rl_dg_N_tip;
# the thumb's knuckle sits in front of the palm between the index and middle knuckles, its tip pointing out to the
# thumb's side. The left hand is the mirror image (lj_/ll_ prefixes).

def _numbered20(left: bool) -> Robot:
    j, l = ("lj", "ll") if left else ("rj", "rl")
    robot = Robot("numbered20_left" if left else "numbered20")
    palm = f"{l}_dg_palm"
    robot.link(f"{l}_dg_mount")
    robot.link(palm, box((0.085, 0.03, 0.1), xyz=(0.0, 0.0, 0.05)))
    robot.joint(f"{j}_dg_mount", "fixed", f"{l}_dg_mount", palm, xyz=(0.0, 0.0, 0.01))
    hand = Hand(robot, palm, vendor=FINGERS_Z_NORMAL_X, left=left)
    hand.finger((-0.018, 0.02, 0.025), (-0.9, 0.25, 0.35), (1.0, 0.5, 0.3), [
        Segment(f"{j}_dg_1_1", f"{l}_dg_1_1", "palm_z", (-0.384, 0.89), 0.0),
        Segment(f"{j}_dg_1_2", f"{l}_dg_1_2", "abd", (-3.14, 0.0), 0.04),
        Segment(f"{j}_dg_1_3", f"{l}_dg_1_3", "flex", (-1.57, 1.57), 0.035),
        Segment(f"{j}_dg_1_4", f"{l}_dg_1_4", "flex", (-1.57, 1.57), 0.03),
    ], tip=f"{l}_dg_1_tip")
    for f, (x, z) in enumerate(((-0.03, 0.1), (-0.01, 0.103), (0.01, 0.1), (0.03, 0.09)), start=2):
        hand.finger((x, 0.0, z), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), [
            Segment(f"{j}_dg_{f}_1", f"{l}_dg_{f}_1", "abd", (-0.42, 0.61), 0.0),
            Segment(f"{j}_dg_{f}_2", f"{l}_dg_{f}_2", "flex", (0.0, 2.0), 0.045),
            Segment(f"{j}_dg_{f}_3", f"{l}_dg_{f}_3", "flex", (-1.57, 1.57), 0.03),
            Segment(f"{j}_dg_{f}_4", f"{l}_dg_{f}_4", "flex", (-1.57, 1.57), 0.03),
        ], tip=f"{l}_dg_{f}_tip")
    return robot


def numbered20() -> Robot:
    return _numbered20(left=False)


def numbered20_left() -> Robot:
    return _numbered20(left=True)



# ---------------------------------------------------------------------------------------------------------------------
# split_palm: a five-finger hand whose palm is two links: the thumb hangs off palm_base, the four fingers off
# palm_upper (a fixed joint above it); CamelCase names (IndexMiddle is the index finger's middle phalanx), tactile
# pads hanging off the middle phalanges, a palm camera frame, and tip frames a few millimetres past the distal ends.

def split_palm() -> Robot:
    robot = Robot("split_palm")
    robot.link("HandRoot")
    robot.link("PalmBase", box((0.08, 0.03, 0.05), xyz=(0.0, 0.0, 0.025)))
    robot.link("PalmUpper", box((0.08, 0.03, 0.05), xyz=(0.0, 0.0, 0.025)))
    robot.link("PalmCamera")
    robot.joint("HandMount", "fixed", "HandRoot", "PalmBase", xyz=(0.0, 0.0, 0.02))
    robot.joint("PalmSplit", "fixed", "PalmBase", "PalmUpper", xyz=(0.0, 0.0, 0.05))
    robot.joint("PalmCameraMount", "fixed", "PalmBase", "PalmCamera", xyz=(0.0, 0.02, 0.03))
    hand = Hand(robot, "PalmUpper")
    for name, x, z in (("Index", -0.03, 0.05), ("Middle", -0.01, 0.053), ("Ring", 0.01, 0.05), ("Little", 0.03, 0.045)):
        hand.finger((x, 0.0, z), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), [
            Segment(f"{name}J4", f"{name}Knuckle", "abd", (-0.3, 0.3), 0.0),
            Segment(f"{name}J3", f"{name}Proximal", "flex", (-0.2, 1.6), 0.044),
            Segment(f"{name}J2", f"{name}Middle" if name != "Middle" else "MiddleMid", "flex", (0.0, 1.7), 0.026),
            Segment(f"{name}J1", f"{name}Distal", "flex", (0.0, 1.4), 0.022),
        ], radius=0.008)
        middle_link = f"{name}Middle" if name != "Middle" else "MiddleMid"
        robot.link(f"{name}Pad2")
        robot.joint(f"{name}Pad2Mount", "fixed", middle_link, f"{name}Pad2", xyz=(0.0, 0.008, 0.013))
        robot.link(f"{name}Tip")
        robot.joint(f"{name}TipMount", "fixed", f"{name}Distal", f"{name}Tip", xyz=(0.0, 0.002, 0.024))
    thumb = Hand(robot, "PalmBase")
    thumb.finger((-0.028, 0.012, 0.03), (-0.75, 0.3, 0.6), (1.0, 0.5, 0.0), [
        Segment("ThumbJ4", "ThumbBase", "palm_z", (0.0, 1.3), 0.0),
        Segment("ThumbJ3", "ThumbProximal", "flex", (-0.3, 0.9), 0.045),
        Segment("ThumbJ2", "ThumbMiddle", "flex", (0.0, 1.0), 0.034),
        Segment("ThumbJ1", "ThumbDistal", "flex", (-0.2, 1.3), 0.028),
    ], tip="ThumbTip", radius=0.009)
    return robot


# ---------------------------------------------------------------------------------------------------------------------
# thumb_palm5 / thumb_palm5_left: a six-motor five-finger hand (the hand of issue 27): every finger mounted on a palm
# link named after the thumb's base (``thumb_base``), palm axes unlike xlsdk's (fingers along the palm link's -X,
# palm normal +Y), and a two-joint thumb that rests at zero folded across the palm toward the little finger (its
# rotator swings it out to its own side). Its zero-pose thumb tip points to the wrong side: the side must come from
# where the thumb is mounted and how the hand curls, not from where the thumb rests.

THUMB_PALM_FRAME = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # fingers -X, palm normal +Y


def _thumb_palm5(left: bool) -> Robot:
    robot = Robot("thumb_palm5_left" if left else "thumb_palm5")
    robot.link("thumb_base", box((0.03, 0.085, 0.09), xyz=(-0.045, 0.0, 0.0)))
    hand = Hand(robot, "thumb_base", vendor=THUMB_PALM_FRAME, left=left)
    for name, x, z in (("index", -0.028, 0.097), ("middle", -0.0075, 0.1), ("ring", 0.0135, 0.097),
                       ("pinky", 0.033, 0.091)):
        hand.finger((x, 0.0, z), (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), [
            Segment(f"{name}_q1", f"{name}_L1", "flex", (0.0, 2.0944), 0.0387),
            Segment(f"{name}_q2", f"{name}_L2", "flex", (0.0, 2.6586), 0.045, mimic=(f"{name}_q1", 1.05851, 0.7235)),
        ], radius=0.008)
    hand.finger((-0.024, 0.014, 0.03), (0.7, 0.45, 0.55), (0.0, -1.0, 0.0), [
        Segment("thumb_q1", "thumb_L1", "palm_z", (0.0, 2.0944), 0.028),
        Segment("thumb_q2", "thumb_L2", "flex", (0.0, 2.0944), 0.062),
    ], radius=0.009)
    return robot


def thumb_palm5() -> Robot:
    return _thumb_palm5(left=False)


def thumb_palm5_left() -> Robot:
    return _thumb_palm5(left=True)


# ---------------------------------------------------------------------------------------------------------------------
# numbered16_left: the 16-DOF four-finger hand's left twin, written in another convention (fingers along the palm
# link's -Y, palm normal -X) on a palm link named after the thumb's mount; its names say nothing about the side.
# dex3_thumb_palm / dex3_thumb_palm_left: the three-finger humanoid hand on a palm link named after the thumb's base
# (fingers along -Z, palm normal +Y: a hand hanging down).

FINGERS_MINUS_Y_NORMAL_MINUS_X = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
FINGERS_MINUS_Z_NORMAL_Y = np.array([[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]])


def numbered16_left() -> Robot:
    return numbered16("numbered16_left", palm="thumb_mount", vendor=FINGERS_MINUS_Y_NORMAL_MINUS_X, left=True)


def dex3_thumb_palm() -> Robot:
    return _dex3(left=False, wrist=False, palm="thumb_base", vendor=FINGERS_MINUS_Z_NORMAL_Y, name="dex3_thumb_palm")


def dex3_thumb_palm_left() -> Robot:
    return _dex3(left=True, wrist=False, palm="thumb_base", vendor=FINGERS_MINUS_Z_NORMAL_Y,
                 name="dex3_thumb_palm_left")


# ---------------------------------------------------------------------------------------------------------------------
# unbalanced16: the 16-DOF four-finger hand above with the <inertial> blocks of a CAD export (issue 22, item 16):
# masses from the parts, products of inertia, and on every phalanx a tensor no rigid body has: the moments
# about the two cross axes written as a thin disc's (m r^2 / 4) and the one along the finger as a rod's
# (m L^2 / 12), so izz > ixx + iyy (the triangle inequality A + B >= C broken, as in many published URDFs).

def unbalanced16() -> Robot:
    robot = numbered16(name="unbalanced16")
    for index, text in enumerate(robot.links):
        name = text.split('"', 2)[1]
        length = max(float(text.split('length="', 1)[1].split('"', 1)[0]) if 'length="' in text else 0.0, 0.01)
        if name.endswith("_tip"):
            continue
        mass = 0.4 if name == "palm_link" else 0.01 + 0.6 * length
        radius = 0.0098
        if name == "palm_link":  # a solid block: a valid tensor
            ixx, iyy, izz, z = mass * (0.113**2 + 0.095**2) / 12, mass * (0.0408**2 + 0.095**2) / 12, \
                mass * (0.0408**2 + 0.113**2) / 12, -0.0475
        elif length > 2.5 * radius:  # a phalanx: disc moments across, rod moment along the finger
            ixx = iyy = mass * radius**2 / 4
            izz, z = mass * length**2 / 12, length / 2
        else:  # a short knuckle link: a valid cylinder
            ixx = iyy = mass * (3 * radius**2 + length**2) / 12
            izz, z = mass * radius**2 / 2, length / 2
        inertial = (f'<inertial><origin xyz="0 0 {z:.6g}" rpy="0 0 0"/><mass value="{mass:.6g}"/>'
                    f'<inertia ixx="{ixx:.6e}" ixy="{-0.01 * ixx:.6e}" ixz="0" iyy="{iyy:.6e}" iyz="0" '
                    f'izz="{izz:.6e}"/></inertial>')
        if text.endswith("/>") and "</link>" not in text:
            robot.links[index] = f'<link name="{name}">{inertial}</link>'
        else:
            robot.links[index] = text.replace(">", ">" + inertial, 1)
    return robot


# ---------------------------------------------------------------------------------------------------------------------
# cupped_palm: a five-finger hand whose palm is two links (issue 22 item 17): the thumb, index and middle mount on
# ``palm``, the ring and little fingers on ``palm_outer``, which a revolute palm-cupping joint turns about an axis
# along the palm; one spread joint on the palm (a driver carrying nothing) moves the index, ring and little spread
# joints through <mimic>, and each distal joint is a <mimic> of its proximal one. Every chain from the palm to a tip
# link is a finger, also the two that share the cupping joint.

def cupped_palm() -> Robot:
    robot = Robot("cupped_palm")
    robot.link("palm", box((0.05, 0.03, 0.1), xyz=(-0.015, 0.0, 0.05)))
    robot.link("palm_outer", box((0.04, 0.03, 0.06), xyz=(0.02, 0.0, 0.02)))
    robot.joint("palm_cup", "revolute", "palm", "palm_outer", xyz=(0.002, 0.0, 0.035), axis=_unit((0.0, -0.15, 1.0)),
                limit=(0.0, 0.5))
    robot.link("spread_link")
    robot.joint("finger_spread", "revolute", "palm", "spread_link", xyz=(0.0, 0.0, 0.08), axis=(0.0, 1.0, 0.0),
                limit=(0.0, 0.5))
    inner, outer = Hand(robot, "palm"), Hand(robot, "palm_outer")
    fingers = [  # hand, knuckle (in that hand's link), name, spread multiplier
        (inner, (-0.03, 0.0, 0.1), "index", -0.5), (inner, (-0.009, 0.0, 0.103), "middle", None),
        (outer, (0.011, 0.0, 0.065), "ring", 0.5), (outer, (0.03, 0.0, 0.055), "little", 1.0)]
    for hand, knuckle, name, multiplier in fingers:
        segments = []
        if multiplier is not None:
            segments.append(Segment(f"{name}_spread", f"{name}_base", "abd", (-0.3, 0.3), 0.0,
                                    mimic=("finger_spread", multiplier, 0.0)))
        segments += [Segment(f"{name}_mcp", f"{name}_proximal", "flex", (0.0, 1.6), 0.045),
                     Segment(f"{name}_pip", f"{name}_middle", "flex", (0.0, 1.7), 0.026),
                     Segment(f"{name}_dip", f"{name}_distal", "flex", (0.0, 1.2), 0.022,
                             mimic=(f"{name}_pip", 0.7, 0.0))]
        hand.finger(knuckle, (0.0, 0.0, 1.0), (0.0, 1.0, 0.0), segments, tip=f"{name}_tip")
    inner.finger((-0.03, 0.015, 0.025), (-0.75, 0.3, 0.6), (1.0, 0.5, 0.0), [
        Segment("thumb_rotation", "thumb_base", "palm_z", (0.0, 1.3), 0.0),
        Segment("thumb_mcp", "thumb_proximal", "flex", (-0.2, 0.9), 0.045),
        Segment("thumb_ip", "thumb_distal", "flex", (0.0, 1.3), 0.032),
    ], tip="thumb_tip", radius=0.009)
    return robot


CORPUS = {
    "numbered16.urdf": numbered16,
    "five22.urdf": five22,
    "five22_left.urdf": five22_left,
    "leap16/urdf/leap16.urdf": leap16,
    "inspire_mimic.urdf": inspire_mimic,
    "svh_palm_mimic.urdf": svh_palm_mimic,
    "arm_ability.urdf": arm_ability,
    "dex3_left_wrist.urdf": dex3_left_wrist,
    "dex3_right.urdf": dex3_right,
    "gripper3.urdf": gripper3,
    "numbered20.urdf": numbered20,
    "numbered20_left.urdf": numbered20_left,
    "split_palm.urdf": split_palm,
    "thumb_palm5.urdf": thumb_palm5,
    "thumb_palm5_left.urdf": thumb_palm5_left,
    "numbered16_left.urdf": numbered16_left,
    "dex3_thumb_palm.urdf": dex3_thumb_palm,
    "dex3_thumb_palm_left.urdf": dex3_thumb_palm_left,
    "unbalanced16.urdf": unbalanced16,
    "cupped_palm.urdf": cupped_palm,
}


def main() -> None:
    _leap_meshes()
    _inspire_meshes()
    for filename, build in CORPUS.items():
        build().write(HERE / filename)
        print("wrote", filename)


if __name__ == "__main__":
    main()
