"""Trajectory files and `xlsdk retarget` on .npy, .npz, .csv and a real LeRobot dataset on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import xlsdk
from xlsdk.cli import main
from xlsdk.errors import DataFormatError
from xlsdk.trajectories import Trajectory, read_trajectory, write_trajectory


@pytest.fixture
def inspire_poses() -> np.ndarray:
    return xlsdk.load_hand("inspire").sample(12, torch.Generator().manual_seed(0), dtype=torch.float64).numpy()


def test_npy_round_trip(tmp_path: Path, inspire_poses: np.ndarray, capsys: pytest.CaptureFixture) -> None:
    np.save(tmp_path / "in.npy", inspire_poses)
    assert main(["retarget", "--from", "inspire", "--to", "xhand", str(tmp_path / "in.npy"), str(tmp_path / "out.npy")]) == 0
    out = np.load(tmp_path / "out.npy")
    np.testing.assert_allclose(out, xlsdk.retarget(inspire_poses, "inspire", "xhand"), atol=1e-6)


def test_csv_keeps_timestamps_and_names_columns(tmp_path: Path, inspire_poses: np.ndarray) -> None:
    inspire = xlsdk.load_hand("inspire")
    times = np.arange(12) * 0.05 + 3.0
    # columns in a shuffled order: read by name
    order = list(reversed(inspire.joint_names))
    rows = ["timestamp," + ",".join(order)]
    for t, q in zip(times, inspire_poses, strict=True):
        values = dict(zip(inspire.joint_names, q, strict=True))
        rows.append(f"{t}," + ",".join(repr(float(values[name])) for name in order))
    (tmp_path / "in.csv").write_text("\n".join(rows) + "\n")
    assert main(["retarget", "--from", "inspire", "--to", "paxini", str(tmp_path / "in.csv"), str(tmp_path / "out.csv")]) == 0
    written = read_trajectory(tmp_path / "out.csv", xlsdk.load_hand("paxini").joint_names)
    np.testing.assert_allclose(written.timestamps, times)
    np.testing.assert_allclose(written.q, xlsdk.retarget(inspire_poses, "inspire", "paxini"), atol=1e-6)
    header = (tmp_path / "out.csv").read_text().splitlines()[0].split(",")
    assert header == ["timestamp", *xlsdk.load_hand("paxini").joint_names]


def test_the_library_retargets_a_file_and_the_cli_prints_it(tmp_path: Path, inspire_poses: np.ndarray,
                                                             capsys: pytest.CaptureFixture) -> None:
    """retarget_joint_file is `xlsdk retarget` without the printing: the same file, the same --json summary;
    it counts the poses outside the source's limits and leaves the warning to the caller."""
    import json

    from xlsdk.retarget_files import retarget_joint_file

    inspire, xhand = xlsdk.load_hand("inspire"), xlsdk.load_hand("xhand")
    poses = inspire_poses.copy()
    poses[:3, 0] = inspire.spec.upper[0] + 0.25
    np.save(tmp_path / "in.npy", poses)
    result = retarget_joint_file(tmp_path / "in.npy", tmp_path / "library.npy", inspire, xhand)
    assert result.poses_checked == 12 and result.summary["poses"] == 12 and result.summary["kind"] == "npy"
    outside = result.summary["outside_source_limits"]
    assert outside["poses"] == 3 and outside["joints"] == [inspire.joint_names[0]]
    assert outside["worst"] == pytest.approx(0.25)
    assert capsys.readouterr().err == "", "the library prints nothing"
    assert main(["retarget", "--from", "inspire", "--to", "xhand", "--json", str(tmp_path / "in.npy"),
                 str(tmp_path / "cli.npy")]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out) == result.summary | {"output": str(tmp_path / "cli.npy")}
    assert "3 of 12 pose(s) lie outside the inspire limits" in " ".join(printed.err.split())
    np.testing.assert_array_equal(np.load(tmp_path / "library.npy"), np.load(tmp_path / "cli.npy"))


def test_npz_with_timestamps(tmp_path: Path, inspire_poses: np.ndarray) -> None:
    np.savez(tmp_path / "in.npz", q=inspire_poses, timestamp=np.arange(12) / 20)
    assert main(["retarget", "--from", "inspire", "--to", "ability", str(tmp_path / "in.npz"), str(tmp_path / "out.npz")]) == 0
    with np.load(tmp_path / "out.npz") as archive:
        assert archive["q"].shape == (12, 6)
        np.testing.assert_allclose(archive["timestamp"], np.arange(12) / 20)


@pytest.mark.parametrize("content, fragment", [
    ("a,b\n1,2\n", "header must name the joints"),
    ("timestamp,pinky_mcp,ring_mcp,middle_mcp,index_mcp,thumb_cmc_pitch,thumb_cmc_yaw\n0,1,2,x,4,5,6\n",
     "line 2, column 'middle_mcp': 'x' is not a number"),
    ("timestamp,pinky_mcp,ring_mcp,middle_mcp,index_mcp,thumb_cmc_pitch,thumb_cmc_yaw\n0,1,2,nan,4,5,6\n",
     "non-finite value nan at line 2, joint 'middle_mcp'"),
])
def test_bad_csv_messages(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=fragment):
        read_trajectory(path, xlsdk.load_hand("inspire").joint_names)


def test_wrong_width_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    np.save(tmp_path / "wide.npy", np.zeros((4, 9)))
    assert main(["retarget", "--from", "inspire", "--to", "xhand", str(tmp_path / "wide.npy"), str(tmp_path / "o.npy")]) == 1
    err = capsys.readouterr().err
    assert "wide.npy: expected shape (T, 6)" in err
    assert not (tmp_path / "o.npy").exists(), "nothing is written on error"


def test_pickled_npy_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataFormatError, match="holds Python objects"):
        read_trajectory(tmp_path / "obj.npy", ("a",))


def test_write_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "keep.csv"
    target.write_text("original\n")
    with pytest.raises(DataFormatError):
        write_trajectory(tmp_path / "keep.xyz", Trajectory(q=np.zeros((1, 2)), joint_names=("a", "b")))
    assert target.read_text() == "original\n"
    assert list(tmp_path.iterdir()) == [target], "no temporary file is left behind"


def _write_lerobot_dataset(root: Path, hand: xlsdk.Hand, episodes: int = 2, frames: int = 6,
                           poses: np.ndarray | None = None) -> np.ndarray:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    names = [f"{n}.pos" for n in hand.joint_names]
    features = {
        "action": {"dtype": "float32", "shape": (hand.dof,), "names": names},
        "observation.state": {"dtype": "float32", "shape": (hand.dof,), "names": names},
        "observation.images.top": {"dtype": "image", "shape": (8, 8, 3), "names": ["height", "width", "channels"]},
    }
    dataset = LeRobotDataset.create(repo_id="local/inspire_grasps", fps=20, features=features, root=root,
                                    robot_type=hand.name, use_videos=False)
    generator = torch.Generator().manual_seed(5)
    actions = []
    for _ in range(episodes):
        for _ in range(frames):
            q = hand.sample(1, generator)[0].numpy() if poses is None else poses[len(actions)]
            actions.append(q)
            dataset.add_frame({"action": q, "observation.state": q, "task": "pinch the cube",
                               "observation.images.top": np.full((8, 8, 3), 127, dtype=np.uint8)})
        dataset.save_episode()
    dataset.finalize()
    return np.stack(actions)


def test_lerobot_dataset_round_trip(tmp_path: Path) -> None:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    inspire = xlsdk.load_hand("inspire")
    source = tmp_path / "inspire_grasps"
    actions = _write_lerobot_dataset(source, inspire)
    output = tmp_path / "xhand_grasps"
    assert main(["retarget", "--from", "inspire", "--to", "xhand", str(source), str(output)]) == 0
    before = LeRobotDataset(repo_id="local/inspire_grasps", root=source)
    after = LeRobotDataset(repo_id="local/inspire_grasps", root=output)
    assert after.meta.features["action"]["shape"] == [12] or tuple(after.meta.features["action"]["shape"]) == (12,)
    assert after.meta.features["action"]["names"][0] == "thumb_cmc_yaw.pos"
    assert after.num_frames == before.num_frames and after.num_episodes == 2
    table = after.hf_dataset.with_format("numpy")
    np.testing.assert_allclose(np.stack(table["action"]), xlsdk.retarget(actions, "inspire", "xhand"), atol=1e-5)
    np.testing.assert_allclose(np.stack(table["timestamp"]), np.stack(before.hf_dataset.with_format("numpy")["timestamp"]))
    assert "observation.images.top" in after.meta.features
    assert after[0]["task"] == "pinch the cube"


def test_lerobot_dataset_with_wrong_hand_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "inspire_grasps"
    _write_lerobot_dataset(source, xlsdk.load_hand("inspire"), episodes=1, frames=2)
    with pytest.raises(DataFormatError, match="column 'action' has shape \\(6,\\), the source hand has 12 joints"):
        from xlsdk.trajectories import retarget_lerobot_dataset

        retarget_lerobot_dataset(source, tmp_path / "out", lambda q: q, 12, ("a",) * 12)
    assert not (tmp_path / "out").exists()


def test_lerobot_dataset_with_nan_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    inspire = xlsdk.load_hand("inspire")
    poses = np.tile(inspire.mid_pose(), (2, 1)).astype(np.float32)
    poses[1, 3] = np.nan
    source = tmp_path / "nan_grasps"
    _write_lerobot_dataset(source, inspire, episodes=1, frames=2, poses=poses)
    assert main(["retarget", "--from", "inspire", "--to", "ability", str(source), str(tmp_path / "out")]) == 1
    assert "column 'action' holds a non-finite value nan at frame 1 (joint 3)" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_lerobot_dataset_into_a_folder_no_one_may_write_is_one_line(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    """Issue 22 item 11: a read-only output folder was a traceback. /sys refuses new entries even to root."""
    source = tmp_path / "inspire_grasps"
    _write_lerobot_dataset(source, xlsdk.load_hand("inspire"), episodes=1, frames=2)
    assert main(["retarget", "--from", "inspire", "--to", "ability", str(source), "/sys/xlsdk_grasps"]) == 1
    err = capsys.readouterr().err
    assert "/sys/xlsdk_grasps: cannot be created" in err and "Traceback" not in err


def test_lerobot_columns_read_whole_columns_and_refuse_a_ragged_one(tmp_path: Path) -> None:
    """The one-slice reader gives what row-by-row iteration gives, and names a column whose rows differ in length
    (a Hugging Face table, the one LeRobot keeps its frames in)."""
    from types import SimpleNamespace

    from datasets import Dataset

    from xlsdk.trajectories import lerobot_columns

    rng = np.random.default_rng(0)
    rows = {"action": rng.normal(size=(7, 3)).astype(np.float32).tolist(), "episode_index": [0, 0, 0, 1, 1, 1, 1]}
    table = SimpleNamespace(hf_dataset=Dataset.from_dict(rows), root=tmp_path)
    columns = lerobot_columns(table, ["action", "episode_index"])
    assert columns["action"].shape == (7, 3) and columns["action"].dtype == np.float32
    assert np.array_equal(columns["action"], np.stack(list(table.hf_dataset.with_format("numpy")["action"])))
    assert columns["episode_index"].tolist() == rows["episode_index"]
    ragged = SimpleNamespace(hf_dataset=Dataset.from_dict({"action": [[0.0, 1.0], [2.0], [3.0, 4.0]]}), root=tmp_path)
    with pytest.raises(DataFormatError, match="'action' holds rows of different lengths"):
        lerobot_columns(ragged, ["action"])
