"""``xlsdk teleop``: the camera front-end's keypoint lines drive every hand; what goes wrong is one clear line."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

import xlsdk
from xlsdk.cli import main
from xlsdk.human import HumanStream
from xlsdk.keypoints import MEDIAPIPE_LANDMARKS
from xlsdk.teleop import TELEOP_ENV
from xlsdk.tip_kinematics import TipKinematics

ROOT = Path(__file__).resolve().parents[1]


def _lines(frames: int, *, seed: int, unseen: tuple[int, ...] = ()) -> tuple[list[str], np.ndarray]:
    """Front-end lines of a hand closing in a rotated, metric frame (as MediaPipe's world landmarks), some frames without a hand."""
    human = xlsdk.load_hand("human")
    lower, upper = np.array(human.spec.lower), np.array(human.spec.upper)
    q = lower + (upper - lower) * np.linspace(0.1, 0.7, frames)[:, None]
    points = TipKinematics(human, links=list(MEDIAPIPE_LANDMARKS)).evaluate(q, jacobian=False)[0]
    rng = np.random.default_rng(seed)
    keypoints = 1.08 * points @ Rotation.random(random_state=seed).as_matrix().T
    keypoints = keypoints + rng.normal(scale=0.002, size=keypoints.shape)
    lines = [json.dumps({"frame": i, "keypoints": None if i in unseen else keypoints[i].tolist(), "handedness": "Right"})
             for i in range(frames)]
    return [*lines, json.dumps({"end": True, "frames": frames})], keypoints


def test_recorded_keypoint_lines_drive_every_hand_as_the_stream_does(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    lines, keypoints = _lines(12, seed=4, unseen=(3, 7))
    recorded = tmp_path / "kp.jsonl"
    recorded.write_text("\n".join(lines) + "\n")
    out = tmp_path / "run.npz"
    assert main(["teleop", "--keypoints", str(recorded), "--hand", "inspire", "--hand", "xhand",
                 "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["with_hand"] == 10 and summary["without_hand"] == 2
    run = np.load(out)
    assert list(run["frame"]) == [i for i in range(12) if i not in (3, 7)]
    human = xlsdk.load_hand("human")
    targets = [xlsdk.load_hand("inspire"), xlsdk.load_hand("xhand")]
    stream = HumanStream(human, targets)
    expected = [stream(keypoints[i]) for i in run["frame"]]
    for hand in targets:
        np.testing.assert_allclose(run[f"joints_{hand.name}"], np.stack([e[hand.name] for e in expected]), atol=1e-9)
        assert run[f"joints_{hand.name}"].shape == (10, hand.dof)
    assert run["latent"].shape[0] == 10


def test_bad_teleop_inputs_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    lines, _ = _lines(3, seed=1)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(lines[0] + "\n{not json\n")
    short = tmp_path / "short.jsonl"
    short.write_text(json.dumps({"frame": 0, "keypoints": [[0.0, 0.0, 0.0]] * 19}) + "\n")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n".join(json.dumps({"frame": i, "keypoints": None}) for i in range(5)) + "\n")
    video = tmp_path / "clip.avi"
    video.write_bytes(b"not really a video")
    monkeypatch.setenv("XLSDK_TELEOP_PYTHON", str(tmp_path / "nowhere" / "python"))
    cases = [
        (["--keypoints", str(broken), "--hand", "inspire"], "line 2: not JSON"),
        (["--keypoints", str(short), "--hand", "inspire"], "21 finite [x, y, z]"),
        (["--keypoints", str(tmp_path / "missing.jsonl"), "--hand", "inspire"], "no such file"),
        (["--keypoints", str(short), "--video", str(video), "--hand", "inspire"], "exactly one of"),
        (["--video", str(video), "--hand", "inspire"], "make teleop-env"),
        (["--camera", "0", "--hand", "inspire"], "make teleop-env"),
        (["--keypoints", str(short), "--hand", "no-such-hand"], "no-such-hand"),
        (["--keypoints", str(short), "--hand", "inspire", "--low-pass", "0"], "low_pass"),
    ]
    for args, message in cases:
        capsys.readouterr()
        assert main(["teleop", *args]) == 1, args
        err = capsys.readouterr().err
        assert message in " ".join(err.split()) and "Traceback" not in err, (args, err)
    assert main(["teleop", "--keypoints", str(blank), "--hand", "inspire"]) == 0
    assert "no hand detected" in capsys.readouterr().out


def _teleop_python() -> Path:
    """The teleop env, built by its make target when missing; skipped only when PyPI cannot be reached."""
    python = ROOT / TELEOP_ENV / "bin" / "python"
    if (ROOT / TELEOP_ENV / ".installed").is_file():
        return python
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError:
        pytest.skip("PyPI is unreachable, so `make teleop-env` cannot install mediapipe")
    if shutil.which("make") is None:
        pytest.fail("make is needed to build the teleop env (`make teleop-env`)")
    subprocess.run(["make", "teleop-env"], cwd=ROOT, check=True, timeout=900)
    return python


def test_a_video_without_a_hand_reports_no_hand_detected(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The real front-end (MediaPipe in .venv-teleop) on a short video made here: grey noise, no hand."""
    cv2 = pytest.importorskip("cv2")
    python = _teleop_python()
    video = tmp_path / "no_hand.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    rng = np.random.default_rng(0)
    for _ in range(8):
        writer.write(rng.integers(90, 160, size=(120, 160, 3), dtype=np.uint8))
    writer.release()
    assert video.stat().st_size > 0
    monkeypatch.setenv("XLSDK_TELEOP_PYTHON", str(python))
    assert main(["teleop", "--video", str(video), "--hand", "inspire", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["with_hand"] == 0 and summary["without_hand"] == 8
    capsys.readouterr()
    assert main(["teleop", "--video", str(video), "--hand", "inspire"]) == 0
    assert "no hand detected" in capsys.readouterr().out
    assert os.access(python, os.X_OK)


def test_record_writes_a_lerobot_dataset_of_latent_chunks_and_each_hands_joints(tmp_path: Path) -> None:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    lines, _ = _lines(10, seed=9, unseen=(0,))
    recorded = tmp_path / "kp.jsonl"
    recorded.write_text("\n".join(lines) + "\n")
    out, dataset_dir = tmp_path / "run.npz", tmp_path / "demo"
    assert main(["teleop", "--keypoints", str(recorded), "--hand", "paxini", "--hand", "ability", "--out", str(out),
                 "--record", str(dataset_dir), "--chunk", "4", "--fps", "15"]) == 0
    run = np.load(out)
    dataset = LeRobotDataset(repo_id="xlsdk/teleop_demo", root=dataset_dir)
    assert dataset.meta.total_frames == 9 and dataset.meta.total_episodes == 1 and dataset.fps == 15
    k = run["latent"].shape[1]
    first, last = dataset[0], dataset[8]
    np.testing.assert_allclose(first["action"].numpy().reshape(4, k), run["latent"][:4], atol=1e-5)
    np.testing.assert_allclose(last["action"].numpy().reshape(4, k), np.repeat(run["latent"][8:], 4, axis=0), atol=1e-5)
    np.testing.assert_allclose(first["action.paxini"].numpy(), run["joints_paxini"][0], atol=1e-5)
    assert first["observation.keypoints"].shape == (63,)
    assert main(["teleop", "--keypoints", str(recorded), "--hand", "paxini", "--record", str(dataset_dir)]) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".xlsdk-")]  # no staging left behind


def test_teleop_drives_each_hand_in_mujoco_as_frames_come(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines, _ = _lines(15, seed=2)
    recorded = tmp_path / "kp.jsonl"
    recorded.write_text("\n".join(lines) + "\n")
    assert main(["teleop", "--keypoints", str(recorded), "--hand", "inspire", "--hand", "xhand", "--driver", "mujoco",
                 "--fps", "30", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["driver"] == "mujoco" and set(summary["tracking_rad"]) == {"inspire", "xhand"}
    assert all(0.0 <= value < 0.2 for value in summary["tracking_rad"].values()), summary
    capsys.readouterr()
    assert main(["teleop", "--keypoints", str(recorded), "--hand", "inspire", "--driver", "no-such-driver"]) == 1
    assert "no-such-driver" in capsys.readouterr().err
