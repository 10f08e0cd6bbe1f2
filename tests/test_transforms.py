"""The one home of rotation conversions agrees with itself and with the conventions it names."""

from __future__ import annotations

import numpy as np
import pytest

from xlsdk.transforms import (axis_angle_matrix, matrix_quaternion, matrix_rpy, origin_matrix, quaternion_matrix,
                              quaternion_yaw, rpy_matrices, rpy_matrix, skew)


@pytest.mark.parametrize("rpy", [(0.3, -0.7, 2.1), (-2.9, 1.2, -0.4), (0.0, 0.0, 0.0), (1.0, 0.0, -3.0)])
def test_rpy_round_trip_and_fixed_axis_order(rpy: tuple[float, float, float]) -> None:
    matrix = rpy_matrix(rpy)
    roll, pitch, yaw = rpy
    expected = axis_angle_matrix(np.array([0.0, 0.0, 1.0]), yaw) @ axis_angle_matrix(
        np.array([0.0, 1.0, 0.0]), pitch) @ axis_angle_matrix(np.array([1.0, 0.0, 0.0]), roll)
    np.testing.assert_allclose(matrix, expected, atol=1e-12)
    np.testing.assert_allclose(rpy_matrix(matrix_rpy(matrix)), matrix, atol=1e-12)


def test_a_batch_of_rotations_is_each_row_bit_for_bit() -> None:
    """The batch is what shifts 30,000 recorded wrist poses; each entry must be the single conversion's number
    (a hand's kinematic digest is hashed from them), signed zeros included."""
    rows = np.random.default_rng(3).uniform(-np.pi, np.pi, size=(64, 3))
    rows[0] = 0.0
    rows[1] = (-0.0, np.pi / 2, -0.0)
    batch = rpy_matrices(rows.reshape(8, 8, 3))
    assert batch.shape == (8, 8, 3, 3)
    for row, matrix in zip(rows, batch.reshape(64, 3, 3), strict=True):
        single = rpy_matrix(tuple(row))
        assert single.tobytes() == matrix.tobytes()


def test_gimbal_lock_puts_the_turn_into_yaw() -> None:
    matrix = rpy_matrix((0.4, np.pi / 2, 0.1))
    roll, pitch, yaw = matrix_rpy(matrix)
    assert roll == 0.0 and pitch == pytest.approx(np.pi / 2)
    np.testing.assert_allclose(rpy_matrix((roll, pitch, yaw)), matrix, atol=1e-9)


def test_snap_writes_round_off_as_exact_zero() -> None:
    assert matrix_rpy(rpy_matrix((1e-14, 0.0, 0.5)), snap=1e-12)[0] == 0.0
    assert matrix_rpy(rpy_matrix((1e-14, 0.0, 0.5)))[0] != 0.0


def test_quaternion_matches_axis_angle_and_is_normalised() -> None:
    axis, angle = np.array([1.0, -2.0, 0.5]) / np.linalg.norm([1.0, -2.0, 0.5]), 0.8
    quat = np.concatenate([[np.cos(angle / 2)], np.sin(angle / 2) * axis]) * 3.0  # any length
    np.testing.assert_allclose(quaternion_matrix(quat), axis_angle_matrix(axis, angle), atol=1e-12)
    vector = np.array([0.2, 0.3, -1.0])
    np.testing.assert_allclose(skew(axis) @ vector, np.cross(axis, vector))


@pytest.mark.parametrize("rpy", [(0.3, -0.7, 2.1), (-2.9, 1.2, -0.4), (0.0, 0.0, np.pi), (np.pi, 0.0, 0.0)])
def test_matrix_quaternion_inverts_quaternion_matrix(rpy: tuple[float, float, float]) -> None:
    """Including half turns, where the sign of a component comes from an off-diagonal difference of zero."""
    matrix = rpy_matrix(rpy)
    quat = np.array(matrix_quaternion(matrix))
    assert np.linalg.norm(quat) == pytest.approx(1.0)
    np.testing.assert_allclose(quaternion_matrix(quat), matrix, atol=1e-12)


@pytest.mark.parametrize("axis", [(1.0, -1.0, 0.0), (0.0, 1.0, -1.0), (-1.0, 0.0, 1.0), (1.0, -1.0, 1.0)])
def test_a_half_turn_about_a_mixed_sign_axis_keeps_its_axis(axis: tuple[float, float, float]) -> None:
    """At a half turn the antisymmetric part is zero, so signs read from it alone would turn the axis (1, -1, 0)
    into (1, 1, 0): a different rotation. The conversion takes them from the largest component instead."""
    unit = np.array(axis) / np.linalg.norm(axis)
    matrix = axis_angle_matrix(unit, np.pi)
    quat = np.array(matrix_quaternion(matrix))
    np.testing.assert_allclose(quaternion_matrix(quat), matrix, atol=1e-12)
    assert abs(float(quat[1:] @ unit)) == pytest.approx(1.0)


def test_matrix_quaternion_is_mujocos_conversion_bit_for_bit() -> None:
    """The physics world poses every body, geom and camera with it, so it must give what MuJoCo's own
    ``mju_mat2Quat`` gives, to the last bit, on random rotations and on the half and quarter turns."""
    import mujoco  # a core dependency: the engine the conversion serves

    rng = np.random.default_rng(0)
    matrices = [quaternion_matrix(rng.normal(size=4)) for _ in range(2000)]
    matrices += [axis_angle_matrix(np.array(axis) / np.linalg.norm(axis), angle)
                 for axis in [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, -1, 0), (0, 1, -1), (1, -1, 1)]
                 for angle in (np.pi, -np.pi, np.pi / 2, np.pi - 1e-9, 0.0)]
    for matrix in matrices:
        expected = np.zeros(4)
        mujoco.mju_mat2Quat(expected, np.ascontiguousarray(matrix, dtype=np.float64).reshape(-1))
        assert np.array_equal(np.array(matrix_quaternion(matrix)), expected), matrix


def test_quaternion_yaw_reads_the_turn_about_the_vertical() -> None:
    for yaw in (-2.5, -0.3, 0.0, 0.4, 3.0):
        quat = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
        assert quaternion_yaw(quat) == pytest.approx(yaw, abs=1e-12)
    tilted = matrix_quaternion(rpy_matrix((0.0, 0.2, 0.7)))  # a tilt does not change the heading
    assert quaternion_yaw(tilted) == pytest.approx(0.7, abs=1e-12)


def test_origin_matrix_is_translation_then_rotation() -> None:
    matrix = origin_matrix((0.1, -0.2, 0.3), (0.3, -0.7, 2.1))
    np.testing.assert_allclose(matrix[:3, :3], rpy_matrix((0.3, -0.7, 2.1)), atol=0)
    np.testing.assert_array_equal(matrix[:3, 3], [0.1, -0.2, 0.3])
    np.testing.assert_array_equal(matrix[3], [0.0, 0.0, 0.0, 1.0])
    point = np.array([0.01, 0.02, 0.03, 1.0])
    np.testing.assert_allclose(matrix @ point, np.r_[rpy_matrix((0.3, -0.7, 2.1)) @ point[:3] + [0.1, -0.2, 0.3], 1])
