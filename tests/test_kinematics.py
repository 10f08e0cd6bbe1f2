"""FK on pytorch-kinematics (with our mimic expansion) against independent FK implementations.

* every installed hand (and the canonical one) against yourdfpy's own FK on 1000 random poses: 1e-6 m;
* a generated hand with mimic-of-mimic chains (which yourdfpy cannot follow) against a plain numpy
  walk of the URDF written here;
* gradients against finite differences, float32/float64, CPU and CUDA when present.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yourdfpy
from synthetic_hands import SyntheticHand, write_synthetic_hand

import xlsdk
from xlsdk.errors import ShapeError
from xlsdk.hand import Hand
from xlsdk.hand_spec import load_hand_spec
from xlsdk.kinematics import rpy_matrix

ALL_HANDS = [*xlsdk.hands(), "canonical"]


def _yourdfpy_tips(hand: Hand, q: np.ndarray) -> np.ndarray:
    """Fingertips in the xlsdk palm frame computed by yourdfpy (it applies single-level mimic itself)."""
    model = yourdfpy.URDF.load(str(hand.urdf_path), load_meshes=False, build_scene_graph=True)
    manifest = hand.spec.manifest
    rotation = rpy_matrix(manifest.palm_frame.rpy)
    translation = np.asarray(manifest.palm_frame.xyz)
    out = np.empty((q.shape[0], len(hand.fingers), 3))
    for row, pose in enumerate(q):
        model.update_cfg(dict(zip(hand.joint_names, pose, strict=True)))
        for column, tip in enumerate(manifest.fingers.values()):
            transform = model.get_transform(tip.link, manifest.palm_link)
            point = transform[:3, :3] @ np.asarray(tip.offset) + transform[:3, 3]
            out[row, column] = rotation.T @ (point - translation)
    return out


@pytest.mark.parametrize("name", ALL_HANDS)
def test_fk_matches_yourdfpy_on_1000_random_poses(name: str) -> None:
    hand = xlsdk.load_hand(name)
    generator = torch.Generator().manual_seed(7)
    q = hand.sample(1000, generator, dtype=torch.float64)
    ours = hand.fk(q).numpy()
    reference = _yourdfpy_tips(hand, q.numpy())
    assert ours.shape == (1000, len(hand.fingers), 3)
    assert np.abs(ours - reference).max() < 1e-6


def _walk(urdf_path: str, palm: str, link: str, values: dict[str, float]) -> np.ndarray:
    """Transform palm <- link by multiplying joint origins and rotations along the chain (numpy only)."""
    model = yourdfpy.URDF.load(urdf_path, load_meshes=False, build_scene_graph=False)
    by_child = {joint.child: joint for joint in model.robot.joints}
    chain = []
    current = link
    while current != palm:
        joint = by_child[current]
        chain.append(joint)
        current = joint.parent
    transform = np.eye(4)
    for joint in reversed(chain):
        transform = transform @ joint.origin
        if joint.type == "revolute":
            axis = joint.axis / np.linalg.norm(joint.axis)
            angle = values[joint.name]
            skew = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
            rotation = np.eye(4)
            rotation[:3, :3] = np.eye(3) + np.sin(angle) * skew + (1 - np.cos(angle)) * skew @ skew
            transform = transform @ rotation
    return transform


def _joint_values(urdf_path: str, actuated: dict[str, float]) -> dict[str, float]:
    """Follow <mimic> tags recursively, written independently of xlsdk's resolver."""
    model = yourdfpy.URDF.load(urdf_path, load_meshes=False, build_scene_graph=False)
    joints = {joint.name: joint for joint in model.robot.joints}

    def value(name: str) -> float:
        if name in actuated:
            return actuated[name]
        mimic = joints[name].mimic
        if mimic is None:
            return 0.0
        return (mimic.multiplier or 1.0) * value(mimic.joint) + (mimic.offset or 0.0)

    return {name: value(name) for name in joints}


def test_fk_follows_mimic_chains(synthetic: SyntheticHand) -> None:
    hand = Hand(load_hand_spec(synthetic.manifest))
    q = hand.sample(50, torch.Generator().manual_seed(3), dtype=torch.float64)
    tips = hand.fk(q).numpy()
    rotation = rpy_matrix(hand.spec.manifest.palm_frame.rpy)
    for row in range(q.shape[0]):
        values = _joint_values(str(synthetic.urdf), dict(zip(hand.joint_names, q[row].tolist(), strict=True)))
        for column, tip in enumerate(hand.spec.manifest.fingers.values()):
            transform = _walk(str(synthetic.urdf), "palm", tip.link, values)
            point = rotation.T @ (transform[:3, :3] @ np.asarray(tip.offset) + transform[:3, 3])
            assert np.abs(point - tips[row, column]).max() < 1e-6


def test_mimic_multiplier_is_applied(synthetic: SyntheticHand) -> None:
    """The trap pytorch-kinematics sets: a mimic with multiplier != 1 must not move as if it were 1."""
    hand = Hand(load_hand_spec(synthetic.manifest))
    full = hand.kinematics.expand(torch.tensor(hand.mid_pose()[None], dtype=torch.float64))[0]
    names = hand.kinematics.full_joint_names
    pip = full[names.index("fi_pip")]
    assert full[names.index("fi_dip")] == pytest.approx(0.7 * float(pip))
    assert full[names.index("fi_dip2")] == pytest.approx(0.5 * 0.7 * float(pip) + 0.02)


def test_vendor_palm_frame_gives_the_same_fingertips_as_the_xlsdk_frame(tmp_path) -> None:  # noqa: ANN001
    vendor = Hand(load_hand_spec(write_synthetic_hand(tmp_path / "v", vendor_frame=True).manifest))
    plain = Hand(load_hand_spec(write_synthetic_hand(tmp_path / "p", vendor_frame=False).manifest))
    q = vendor.sample(20, torch.Generator().manual_seed(1), dtype=torch.float64)
    assert torch.allclose(vendor.fk(q), plain.fk(q), atol=1e-9)
    assert bool((vendor.fk(torch.tensor(vendor.zero_pose()))[1:, 2] > 0.1).all()), "+Z points to the fingertips"


@pytest.mark.parametrize("name", ALL_HANDS)
def test_fk_gradient_matches_finite_differences(name: str) -> None:
    hand = xlsdk.load_hand(name)
    q = hand.sample(3, torch.Generator().manual_seed(11), dtype=torch.float64).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: hand.kinematics.fingertips(x), (q,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtypes_and_shapes(dtype: torch.dtype) -> None:
    hand = xlsdk.load_hand("canonical")
    q = hand.sample(8, dtype=dtype)
    tips = hand.kinematics.fingertips(q)
    assert tips.dtype == dtype and tips.shape == (8, 5, 3)
    single = hand.fk(q[0])
    assert single.shape == (5, 3)
    assert isinstance(hand.fk(q[0].numpy().astype(np.float64)), np.ndarray)
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(hand.fk(q), tips, atol=tolerance)


def test_wrong_width_is_a_clear_error() -> None:
    hand = xlsdk.load_hand("canonical")
    with pytest.raises(ShapeError, match=r"canonical.fk\(q\): expected shape \(B, 17\)"):
        hand.fk(np.zeros((2, 5)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fk_on_cuda_matches_cpu() -> None:
    hand = xlsdk.load_hand("canonical")
    q = hand.sample(256, torch.Generator().manual_seed(5), dtype=torch.float64)
    on_gpu = hand.kinematics.fingertips(q.cuda())
    assert on_gpu.device.type == "cuda"
    assert torch.allclose(on_gpu.cpu(), hand.kinematics.fingertips(q), atol=1e-9)
