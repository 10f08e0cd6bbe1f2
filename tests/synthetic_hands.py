"""Generated hands for tests: URDF + hand.toml written to a directory, no reference hand involved.

``write_synthetic_hand`` builds an anthropomorphic hand with any subset of the canonical fingers,
vendor-style joint names, a mimic *chain* on each finger (a DIP follows the PIP and a fingertip joint
follows the DIP: mimic of a mimic), primitive geometry, and optionally a vendor palm frame (fingers
along +X, palm normal +Z) that differs from the xlsdk convention, declared in the manifest's
``[palm_frame]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xlsdk.kinematics import rpy_matrix

# vendor palm frame: +X toward the fingertips, +Z palm normal, +Y toward the little finger
VENDOR_FRAME = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # p_vendor = A @ p_xlsdk

_FINGERS = {
    # finger: (knuckle xyz in the xlsdk palm frame, segment lengths, splay)
    "index": ((-0.025, 0.0, 0.095), (0.045, 0.027, 0.022), 0.05),
    "middle": ((-0.006, 0.0, 0.099), (0.048, 0.029, 0.023), 0.0),
    "ring": ((0.013, 0.0, 0.096), (0.045, 0.028, 0.022), -0.04),
    "little": ((0.030, 0.0, 0.089), (0.036, 0.022, 0.020), -0.09),
}


@dataclass(frozen=True)
class SyntheticHand:
    name: str
    directory: Path
    urdf: Path
    manifest: Path
    joints: tuple[str, ...]
    fingers: tuple[str, ...]


def _fmt(values: np.ndarray | tuple[float, ...]) -> str:
    return " ".join(f"{float(v):.12g}" for v in values)


def _rpy_of(matrix: np.ndarray) -> tuple[float, float, float]:
    pitch = float(np.arcsin(-np.clip(matrix[2, 0], -1.0, 1.0)))
    roll = float(np.arctan2(matrix[2, 1], matrix[2, 2]))
    yaw = float(np.arctan2(matrix[1, 0], matrix[0, 0]))
    assert np.allclose(rpy_matrix((roll, pitch, yaw)), matrix, atol=1e-9)
    return roll, pitch, yaw


def write_synthetic_hand(directory: Path, *, name: str = "synth", fingers: tuple[str, ...] = ("thumb", "index", "middle"),
                         vendor_frame: bool = True, scale: float = 1.0, mimic_chain: bool = True,
                         missing_mesh: bool = False, with_manifest: bool = True) -> SyntheticHand:
    """Write ``<name>.urdf`` (+ ``hand.toml``) into ``directory``; see the module docstring."""
    directory.mkdir(parents=True, exist_ok=True)
    rotation = VENDOR_FRAME if vendor_frame else np.eye(3)
    rpy = _rpy_of(rotation)
    links: list[str] = ['<link name="base_link"/>']
    joints: list[str] = []
    actuated: list[str] = []
    tips: dict[str, tuple[str, np.ndarray]] = {}
    palm_visual = '<visual><geometry><box size="0.08 0.02 0.1"/></geometry></visual>'
    if missing_mesh:
        palm_visual += '<visual><geometry><mesh filename="package://synthetic_description/meshes/palm.stl"/></geometry></visual>'
    links.append(f'<link name="palm">{palm_visual}</link>')
    joints.append('<joint name="mount" type="fixed"><parent link="base_link"/><child link="palm"/>'
                  '<origin xyz="0 0 0.02" rpy="0 0 0"/></joint>')

    def revolute(joint: str, parent: str, child: str, xyz: np.ndarray, axis: np.ndarray, lower: float, upper: float,
                 first: bool = False, mimic: tuple[str, float, float] | None = None) -> None:
        origin_xyz = rotation @ xyz if first else xyz
        origin_rpy = rpy if first else (0.0, 0.0, 0.0)
        text = (f'<joint name="{joint}" type="revolute"><parent link="{parent}"/><child link="{child}"/>'
                f'<origin xyz="{_fmt(origin_xyz)}" rpy="{_fmt(origin_rpy)}"/><axis xyz="{_fmt(axis)}"/>'
                f'<limit lower="{lower}" upper="{upper}" effort="1" velocity="5"/>')
        if mimic:
            text += f'<mimic joint="{mimic[0]}" multiplier="{mimic[1]}" offset="{mimic[2]}"/>'
        joints.append(text + "</joint>")

    def segment_link(link: str, vector: np.ndarray) -> None:
        length = float(np.linalg.norm(vector))
        direction = vector / length
        pitch, yaw = float(np.arccos(np.clip(direction[2], -1, 1))), float(np.arctan2(direction[1], direction[0]))
        links.append(f'<link name="{link}"><visual><origin xyz="{_fmt(vector / 2)}" rpy="0 {pitch:.12g} {yaw:.12g}"/>'
                     f'<geometry><cylinder radius="0.008" length="{length:.12g}"/></geometry></visual></link>')

    flex = np.array([-1.0, 0.0, 0.0])
    for finger in fingers:
        if finger == "thumb":
            continue
        knuckle, lengths, splay = _FINGERS[finger]
        direction = np.array([-np.sin(splay), 0.0, np.cos(splay)])
        l1, l2, l3 = (scale * v for v in lengths)
        prefix = f"f{'imrl'['index middle ring little'.split().index(finger)]}"
        names = [f"{prefix}_abd", f"{prefix}_mcp", f"{prefix}_pip"]
        links.append(f'<link name="{prefix}_base"/>')
        segment_link(f"{prefix}_l1", direction * l1)
        segment_link(f"{prefix}_l2", direction * l2 * 0.6)
        segment_link(f"{prefix}_l2b", direction * l2 * 0.4)
        segment_link(f"{prefix}_l3", direction * l3)
        revolute(names[0], "palm", f"{prefix}_base", scale * np.array(knuckle), np.array([0.0, 1.0, 0.0]), -0.3, 0.3,
                 first=True)
        revolute(names[1], f"{prefix}_base", f"{prefix}_l1", np.zeros(3), flex, -0.1, 1.6)
        revolute(names[2], f"{prefix}_l1", f"{prefix}_l2", direction * l1, flex, 0.0, 1.7)
        if mimic_chain:
            # the DIP follows the PIP, and a small distal joint follows the DIP: a mimic of a mimic
            revolute(f"{prefix}_dip", f"{prefix}_l2", f"{prefix}_l2b", direction * l2 * 0.6, flex, 0.0, 1.4,
                     mimic=(names[2], 0.7, 0.0))
            revolute(f"{prefix}_dip2", f"{prefix}_l2b", f"{prefix}_l3", direction * l2 * 0.4, flex, -0.1, 1.0,
                     mimic=(f"{prefix}_dip", 0.5, 0.02))
        else:
            joints.append(f'<joint name="{prefix}_dip" type="fixed"><parent link="{prefix}_l2"/>'
                          f'<child link="{prefix}_l2b"/><origin xyz="{_fmt(direction * l2 * 0.6)}"/></joint>')
            joints.append(f'<joint name="{prefix}_dip2" type="fixed"><parent link="{prefix}_l2b"/>'
                          f'<child link="{prefix}_l3"/><origin xyz="{_fmt(direction * l2 * 0.4)}"/></joint>')
        actuated += names
        tips[finger] = (f"{prefix}_l3", direction * l3)
    if "thumb" in fingers:
        d0 = np.array([-0.75, 0.25, 0.6])
        d0 = d0 / np.linalg.norm(d0)
        flex_axis = np.cross(d0, [1.0, 0.0, 0.0])
        flex_axis /= np.linalg.norm(flex_axis)
        lengths = [scale * v for v in (0.045, 0.034, 0.028)]
        links.append('<link name="th_base"/>')
        segment_link("th_l1", d0 * lengths[0])
        segment_link("th_l2", d0 * lengths[1])
        segment_link("th_l3", d0 * lengths[2])
        revolute("th_rot", "palm", "th_base", scale * np.array([-0.022, 0.012, 0.03]), np.array([0.0, 0.0, -1.0]),
                 0.0, 1.6, first=True)
        revolute("th_flex", "th_base", "th_l1", np.zeros(3), flex_axis, -0.3, 0.9)
        revolute("th_mcp", "th_l1", "th_l2", d0 * lengths[0], flex_axis, 0.0, 1.0)
        revolute("th_ip", "th_l2", "th_l3", d0 * lengths[1], flex_axis, -0.2, 1.3)
        actuated = ["th_rot", "th_flex", "th_mcp", "th_ip", *actuated]
        tips["thumb"] = ("th_l3", d0 * lengths[2])
    urdf = directory / f"{name}.urdf"
    urdf.write_text(f'<?xml version="1.0"?>\n<robot name="{name}">\n  ' + "\n  ".join(links + joints) + "\n</robot>\n")
    manifest = directory / "hand.toml"
    ordered = [f for f in ("thumb", "index", "middle", "ring", "little") if f in fingers]
    if with_manifest:
        lines = [
            "schema = 1", f'name = "{name}"', 'version = "0.1.0"', f'title = "Synthetic {name}"',
            f'urdf = "{urdf.name}"', 'palm_link = "palm"',
            "joints = [" + ", ".join(f'"{j}"' for j in actuated) + "]", 'drivers = ["sim"]', "",
        ]
        if vendor_frame:
            lines += ["[palm_frame]", f"rpy = [{', '.join(f'{v:.12g}' for v in rpy)}]", ""]
        for finger in ordered:
            link, offset = tips[finger]
            lines += [f"[fingers.{finger}]", f'link = "{link}"', f"offset = [{', '.join(f'{v:.12g}' for v in offset)}]",
                      ""]
        manifest.write_text("\n".join(lines))
    return SyntheticHand(name=name, directory=directory, urdf=urdf, manifest=manifest, joints=tuple(actuated),
                         fingers=tuple(ordered))
