"""Rotations between the forms URDF, MJCF and the kinematics use: one home, so the conventions cannot drift.

URDF writes orientations as fixed-axis roll-pitch-yaw, MJCF as unit quaternions, joints as an axis and
an angle. The reader (:mod:`xlsdk.urdf`), the MJCF writer (:mod:`xlsdk.robot_description`), the importer
(:mod:`xlsdk.manifest_proposal`), the FK (:mod:`xlsdk.kinematics`, :mod:`xlsdk.tip_kinematics`), the palm-side
check, the MuJoCo hand model and world (:mod:`xlsdk.physics`) and the viewer all convert between them;
each used to carry its own copy, and a copy that differs in the last bit changes a hand's kinematic digest.
Only numpy here: this module is imported on start-up paths.
"""

from __future__ import annotations

import math

import numpy as np


def rpy_matrix(rpy: tuple[float, float, float] | np.ndarray) -> np.ndarray:
    """URDF fixed-axis roll-pitch-yaw to a 3x3 rotation: ``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)``."""
    return rpy_matrices(np.array([float(v) for v in rpy]))


def rpy_matrices(rpy: np.ndarray) -> np.ndarray:
    """:func:`rpy_matrix` of every row of an ``(..., 3)`` array at once: ``(..., 3, 3)``.

    The products are grouped as yourdfpy groups them, so every entry (signed zeros included) is the
    number the kinematic digest of a hand was first computed from; do not "simplify" the expressions.
    One batch serves a URDF origin and 30,000 recorded wrist poses alike (the physics benchmark's grasp frame).
    """
    rpy = np.asarray(rpy, dtype=np.float64)
    roll, pitch, yaw = rpy[..., 0], rpy[..., 1], rpy[..., 2]
    sr, sp, sy = np.sin(roll), np.sin(pitch), np.sin(yaw)
    cr, cp, cy = np.cos(roll), np.cos(pitch), np.cos(yaw)
    rotation = np.empty(rpy.shape[:-1] + (3, 3))
    top, middle, bottom = rotation[..., 0, :], rotation[..., 1, :], rotation[..., 2, :]
    top[..., 0], top[..., 1], top[..., 2] = cp * cy, sp * (sr * cy) - cr * sy, sp * (cr * cy) + sr * sy
    middle[..., 0], middle[..., 1], middle[..., 2] = cp * sy, sp * (sr * sy) + cr * cy, sp * (cr * sy) - sr * cy
    bottom[..., 0], bottom[..., 1], bottom[..., 2] = -sp, cp * sr, cp * cr
    return rotation


def origin_matrix(xyz: tuple[float, ...] | np.ndarray, rpy: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """A URDF ``<origin xyz rpy>`` as a 4x4 matrix: the translation, then the fixed-axis roll-pitch-yaw.

    Composed as ``I @ T @ R`` so that every entry (signed zeros included) is what yourdfpy computed: the
    kinematic digest of a hand is a hash of these numbers (:mod:`xlsdk.urdf`), and the MuJoCo hand model
    poses its shapes and inertials with the same matrices.
    """
    translation = np.identity(4)
    translation[:3, 3] = [float(v) for v in xyz]
    rotation = np.identity(4)
    rotation[:3, :3] = rpy_matrix(rpy)
    matrix = np.dot(np.dot(np.identity(4), translation), rotation)
    matrix /= matrix[3, 3]
    return matrix


def matrix_rpy(matrix: np.ndarray, *, gimbal_tolerance: float = 1e-9,
               snap: float = 0.0) -> tuple[float, float, float]:
    """A rotation matrix back to URDF roll-pitch-yaw (the inverse of :func:`rpy_matrix`).

    At gimbal lock (pitch +-90 degrees, ``|R[2,0]|`` within ``gimbal_tolerance`` of 1) roll and yaw turn
    about the same axis; the whole turn is put into yaw and roll is 0. Angles smaller than ``snap`` come
    back as exactly 0.0, so that an axis-aligned frame is written as ``0 0 0`` and not as round-off.
    """
    pitch = math.asin(-max(-1.0, min(1.0, float(matrix[2, 0]))))
    if abs(abs(float(matrix[2, 0])) - 1.0) < gimbal_tolerance:
        rpy = (0.0, pitch, math.atan2(-float(matrix[0, 1]), float(matrix[1, 1])))
    else:
        rpy = (math.atan2(float(matrix[2, 1]), float(matrix[2, 2])), pitch,
               math.atan2(float(matrix[1, 0]), float(matrix[0, 0])))
    return tuple(0.0 if abs(v) < snap else v for v in rpy)  # type: ignore[return-value]


def quaternion_matrix(quat: np.ndarray) -> np.ndarray:
    """MJCF's ``(w, x, y, z)`` quaternion (any length: it is normalised first) to a 3x3 rotation."""
    w, x, y, z = (float(v) for v in quat / np.linalg.norm(quat))
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def matrix_quaternion(rotation: np.ndarray) -> tuple[float, float, float, float]:
    """A 3x3 rotation to the ``(w, x, y, z)`` unit quaternion (the inverse of :func:`quaternion_matrix`).

    The one conversion in xlsdk: the viewer poses frames with it and the physics world poses MuJoCo's
    bodies, geoms, sites and cameras with it. Shepperd's method: the largest of the four components is taken
    from the diagonal (a square root well away from zero), the other three from sums and differences of the
    off-diagonal entries divided by it, so a half turn (``w`` near 0, where the antisymmetric part vanishes)
    keeps the signs of ``x, y, z`` right. The branches and their order are MuJoCo's ``mju_mat2Quat``, so the
    world's poses equal what MuJoCo's own conversion gives (tested bit for bit).
    """
    m = np.asarray(rotation, dtype=np.float64).reshape(3, 3)
    if m[0, 0] + m[1, 1] + m[2, 2] > 0:
        w = 0.5 * math.sqrt(1 + m[0, 0] + m[1, 1] + m[2, 2])
        quat = [w, 0.25 * (m[2, 1] - m[1, 2]) / w, 0.25 * (m[0, 2] - m[2, 0]) / w, 0.25 * (m[1, 0] - m[0, 1]) / w]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        x = 0.5 * math.sqrt(1 + m[0, 0] - m[1, 1] - m[2, 2])
        quat = [0.25 * (m[2, 1] - m[1, 2]) / x, x, 0.25 * (m[0, 1] + m[1, 0]) / x, 0.25 * (m[0, 2] + m[2, 0]) / x]
    elif m[1, 1] > m[2, 2]:
        y = 0.5 * math.sqrt(1 - m[0, 0] + m[1, 1] - m[2, 2])
        quat = [0.25 * (m[0, 2] - m[2, 0]) / y, 0.25 * (m[0, 1] + m[1, 0]) / y, y, 0.25 * (m[1, 2] + m[2, 1]) / y]
    else:
        z = 0.5 * math.sqrt(1 - m[0, 0] - m[1, 1] + m[2, 2])
        quat = [0.25 * (m[1, 0] - m[0, 1]) / z, 0.25 * (m[0, 2] + m[2, 0]) / z, 0.25 * (m[1, 2] + m[2, 1]) / z, z]
    norm = math.sqrt(sum(v * v for v in quat))
    if abs(norm - 1.0) > 1e-15:  # MuJoCo's normalisation leaves a unit quaternion untouched
        quat = [v / norm for v in quat]
    return float(quat[0]), float(quat[1]), float(quat[2]), float(quat[3])


def quaternion_yaw(quat: tuple[float, float, float, float] | np.ndarray) -> float:
    """The turn about the vertical (Z) of a ``(w, x, y, z)`` quaternion (MuJoCo's order), in radians."""
    w, x, y, z = quat
    return float(np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z)))


def skew(axis: np.ndarray) -> np.ndarray:
    """The cross-product matrix ``[k]x`` of a 3-vector: ``skew(k) @ v == cross(k, v)``."""
    x, y, z = (float(v) for v in axis)
    return np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])


def axis_angle_matrix(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' rotation by ``angle`` radians about the unit ``axis``: ``I + sin(a) K + (1 - cos(a)) K^2``.

    The axis is used as given (a URDF joint's axis is normalised when the file is read); a caller with
    an axis of any length normalises it first.
    """
    k = skew(axis)
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def joint_motion(joint_type: str, axis: tuple[float, float, float] | np.ndarray, value: float) -> np.ndarray:
    """The 4x4 motion a URDF joint adds after its origin at ``value``: a rotation about ``axis`` (revolute,
    continuous), a translation along it (prismatic), nothing (fixed). The axis is unit, as read."""
    out = np.eye(4)
    if joint_type in ("revolute", "continuous"):
        out[:3, :3] = axis_angle_matrix(np.asarray(axis, dtype=np.float64), value)
    elif joint_type == "prismatic":
        out[:3, 3] = np.asarray(axis, dtype=np.float64) * value
    return out
