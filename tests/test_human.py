"""A person's hand as the source: keypoint files, the landmark fit, handedness, streaming and the CLI.

Keypoints are generated from the human hand's own kinematics at random poses, then moved into frames
and sizes the fit was not written for (a random rotation, translation and scale, millimetres of
noise, MANO's order, a mirror image), and written in the shapes recorders write.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

import xlsdk
from xlsdk.cli import main
from xlsdk.errors import DataFormatError
from xlsdk.human import HumanStream, KeypointFit, retarget_keypoints
from xlsdk.keypoints import MANO_TO_MEDIAPIPE, MEDIAPIPE_LANDMARKS, read_keypoints
from xlsdk.latent.retarget import retarget
from xlsdk.tip_kinematics import TipKinematics


@pytest.fixture(scope="module")
def human() -> xlsdk.Hand:
    return xlsdk.load_hand("human")


def _recording(human: xlsdk.Hand, frames: int, *, seed: int, scale: float = 1.0, noise: float = 0.0,
               smooth: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Joints ``(T, d)`` and their keypoints ``(T, 21, 3)`` in a random camera-like frame."""
    rng = np.random.default_rng(seed)
    lower, upper = np.array(human.spec.lower), np.array(human.spec.upper)
    if smooth:
        ends = lower + (upper - lower) * rng.random((2, human.dof))
        q = ends[0] + (ends[1] - ends[0]) * np.linspace(0, 1, frames)[:, None]
    else:
        q = lower + (upper - lower) * rng.random((frames, human.dof))
    points = TipKinematics(human, links=list(MEDIAPIPE_LANDMARKS)).evaluate(q, jacobian=False)[0]
    rotation = Rotation.random(random_state=seed).as_matrix()
    keypoints = scale * points @ rotation.T + rng.normal(size=3)
    return q, keypoints + rng.normal(scale=noise, size=keypoints.shape)


def test_the_fit_recovers_landmarks_and_size_in_any_frame(human: xlsdk.Hand) -> None:
    q, keypoints = _recording(human, 40, seed=1, scale=1.15)
    fit = KeypointFit(human)
    fitted = fit.fit(keypoints)
    assert np.median(fitted.error) < 1e-4 and fitted.error.max() < 2e-3, "exact keypoints are fitted exactly"
    assert fit.model_length == pytest.approx(0.18, abs=1e-4), "wrist to middle fingertip: the model's hand length"
    np.testing.assert_allclose(fitted.hand_length, 1.15 * fit.model_length, rtol=1e-6)
    close = np.abs(fitted.q - q).max(axis=1) < 1e-3
    assert close.mean() > 0.9, "joints come back where landmarks determine them"
    _, noisy = _recording(human, 40, seed=1, scale=1.15, noise=0.003)
    sequence = KeypointFit(human).fit_sequence(noisy)
    assert np.median(sequence.error) < 0.006, "3 mm of jitter leaves a few millimetres of landmark error"
    assert np.ptp(sequence.hand_length) == 0 and abs(sequence.hand_length[0] - 0.207) < 0.01


def test_a_known_hand_length_fixes_the_size(human: xlsdk.Hand) -> None:
    _, keypoints = _recording(human, 5, seed=2, scale=0.19 / 0.18)
    fitted = KeypointFit(human, hand_length=0.19).fit(keypoints)
    np.testing.assert_allclose(fitted.hand_length, 0.19)
    assert fitted.error.max() < 2e-3
    with pytest.raises(DataFormatError, match="positive"):
        KeypointFit(human, hand_length=-1.0)


def test_a_left_hand_is_mirrored_and_refused_as_a_right_one(human: xlsdk.Hand) -> None:
    q, keypoints = _recording(human, 20, seed=3, noise=0.002)
    left = keypoints * np.array([-1.0, 1.0, 1.0])  # a mirror image: no rotation maps it onto a right hand
    right_fit = KeypointFit(human).fit(keypoints)
    left_fit = KeypointFit(human, handedness="left").fit(left)
    np.testing.assert_allclose(left_fit.q, right_fit.q, atol=1e-6)
    KeypointFit(human, handedness="left").check_handedness(left)
    with pytest.raises(DataFormatError, match="look like a left hand.*--left"):
        KeypointFit(human).check_handedness(left)
    with pytest.raises(DataFormatError, match="look like a right hand"):
        KeypointFit(human, handedness="left").check_handedness(keypoints)


def _write_shapes(keypoints: np.ndarray, folder: Path) -> dict[str, Path]:
    """The same recording as a recorder of each kind writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / name for name in ("kp.npy", "tasks.json", "legacy.json", "wide.csv", "long.csv", "mano.npy")}
    np.save(paths["kp.npy"], keypoints)
    frames = [{"timestampMs": 40 * i, "handedness": [[{"categoryName": "Right", "score": 0.98}]],
               "handWorldLandmarks": [[{"x": x, "y": y, "z": z, "visibility": 0.0} for x, y, z in frame]]}
              for i, frame in enumerate(keypoints.tolist())]
    frames.insert(1, {"timestampMs": 20, "handWorldLandmarks": []})  # a frame where no hand was detected
    paths["tasks.json"].write_text(json.dumps(frames))
    paths["legacy.json"].write_text(json.dumps({"frames": [[[x, y, z] for x, y, z in f] for f in keypoints.tolist()]}))
    with open(paths["wide.csv"], "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frame", "time", *(f"{name.upper()}_{axis}" for name in MEDIAPIPE_LANDMARKS for axis in "xyz")])
        writer.writerows([i, i / 25, *frame.reshape(-1)] for i, frame in enumerate(keypoints))
    with open(paths["long.csv"], "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frame", "landmark_id", "x", "y", "z"])
        writer.writerows([i, j, *point] for i, frame in enumerate(keypoints) for j, point in enumerate(frame))
    np.save(paths["mano.npy"], keypoints[:, list(MANO_TO_MEDIAPIPE)])
    return paths


def test_every_file_shape_reads_the_same_keypoints(human: xlsdk.Hand, tmp_path: Path) -> None:
    _, keypoints = _recording(human, 6, seed=4)
    paths = _write_shapes(keypoints, tmp_path)
    for name in ("kp.npy", "tasks.json", "legacy.json", "wide.csv", "long.csv"):
        np.testing.assert_allclose(read_keypoints(paths[name]).points, keypoints, err_msg=name)
    tasks = read_keypoints(paths["tasks.json"])
    assert tasks.skipped_frames == 1 and tasks.timestamps is not None
    np.testing.assert_allclose(tasks.timestamps, 0.04 * np.arange(6))
    np.testing.assert_allclose(read_keypoints(paths["wide.csv"]).timestamps, np.arange(6) / 25)
    np.testing.assert_allclose(read_keypoints(paths["mano.npy"], order="mano").points, keypoints)


@pytest.mark.parametrize(("content", "message"), [
    (np.zeros((3, 20, 3)), "20 landmarks per frame; a hand has 21"),
    (np.zeros((0, 21, 3)), "holds no frames"),
    (np.zeros((3, 21, 2)), "need their depth z"),
    ("nan", "non-finite value nan at frame 1, landmark 8 \\(index_finger_tip\\) z"),
    ("inf", "non-finite value inf"),
    ("json-empty", "holds no frames"),
    ("json-nohand", "no frame holds a hand"),
    ("csv-missing", "names 20 of 21 landmarks"),
    ("csv-text", "'oops' is not a number"),
])
def test_malformed_keypoint_files_are_refused_by_name(human: xlsdk.Hand, tmp_path: Path, content: object,
                                                      message: str) -> None:
    _, keypoints = _recording(human, 3, seed=5)
    if isinstance(content, np.ndarray):
        path = tmp_path / "bad.npy"
        np.save(path, content)
    elif content in ("nan", "inf"):
        keypoints[1, 8, 2] = float(content)
        path = tmp_path / "bad.npy"
        np.save(path, keypoints)
    elif content == "json-empty":
        path = tmp_path / "bad.json"
        path.write_text("[]")
    elif content == "json-nohand":
        path = tmp_path / "bad.json"
        path.write_text(json.dumps([{"hand_landmarks": []}, {"hand_landmarks": []}]))
    else:
        path = tmp_path / "bad.csv"
        header = [f"{n}_{a}" for n in MEDIAPIPE_LANDMARKS[:-1] for a in "xyz"] if content == "csv-missing" \
            else [f"x{i}" if a == "x" else f"{a}{i}" for i in range(21) for a in "xyz"]
        row = ["oops" if content == "csv-text" else "0.1"] + ["0.1"] * (len(header) - 1)
        path.write_text(",".join(header) + "\n" + ",".join(row) + "\n")
    with pytest.raises(DataFormatError, match=message) as caught:
        read_keypoints(path)
    assert str(path) in str(caught.value)


def test_the_stream_gives_every_hand_what_the_batch_gives(human: xlsdk.Hand) -> None:
    _, keypoints = _recording(human, 12, seed=6, noise=0.002, smooth=True)
    targets = [xlsdk.load_hand(name) for name in ("inspire", "xhand")]
    stream = HumanStream(human, [*targets, human], hand_length=0.18)
    for frame in keypoints:
        answers = stream(frame)
    assert set(answers) == {"inspire", "xhand", "human"} and stream.latent.shape == (32,)
    for target in targets:
        np.testing.assert_allclose(answers[target.name], retarget(answers["human"], human, target), atol=1e-5)
    fitted, batch = retarget_keypoints(keypoints, human, targets, hand_length=0.18)
    assert stream.error < 1.5 * fitted.error[-1] + 5e-4, "the warm-started stream fits about as well as the batch"
    assert stream.error < 0.005
    refined = HumanStream(human, targets, refine=True, hand_length=0.18)
    for frame in keypoints:
        polished = refined(frame)
    assert all(np.isfinite(v).all() for v in polished.values())
    with pytest.raises(DataFormatError, match="one frame"):
        stream(keypoints[:2])


def test_cli_retargets_keypoints_to_several_hands_and_refuses_bad_files(human: xlsdk.Hand, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    _, keypoints = _recording(human, 8, seed=7, scale=1.05, noise=0.002)
    paths = _write_shapes(keypoints, tmp_path / "in")
    for name in ("kp.npy", "tasks.json", "wide.csv"):
        out = tmp_path / name.replace(".", "_")
        assert main(["retarget", "--from", "human", str(paths[name]), "--to", "inspire", "--to", "paxini",
                     str(out / "{hand}.csv")]) == 0
        for target in ("inspire", "paxini"):
            with open(out / f"{target}.csv") as handle:
                rows = list(csv.reader(handle))
            assert rows[0][-len(xlsdk.load_hand(target).joint_names):] == list(xlsdk.load_hand(target).joint_names)
            assert len(rows) == 9
    capsys.readouterr()
    assert main(["retarget", "--from", "human", str(paths["mano.npy"]), "--order", "mano", "--to", "ability",
                 str(tmp_path / "m.npy"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 8 and abs(summary["hand_length"] - 0.189) < 0.01
    left = tmp_path / "left.npy"
    np.save(left, keypoints * np.array([-1.0, 1.0, 1.0]))
    bad = tmp_path / "bad.npy"
    np.save(bad, keypoints[:, :19])
    for args, message in (([str(left)], "look like a left hand"), ([str(bad)], "19 landmarks"),
                          ([str(paths["kp.npy"]), "--to", "xhand"], "put {hand} in OUT")):
        out = tmp_path / "refused.csv"
        assert main(["retarget", "--from", "human", *args, "--to", "inspire", str(out)]) == 1
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and not out.exists()
    assert main(["retarget", "--from", "human", str(left), "--left", "--to", "inspire", str(tmp_path / "l.csv")]) == 0


def test_the_stream_low_pass_smooths_jitter_and_follows_a_held_pose(human: xlsdk.Hand) -> None:
    """A still hand seen with 2.5 mm jitter: the filtered stream moves less per frame and ends where the unfiltered one does."""
    rng = np.random.default_rng(11)
    pose = np.asarray(human.mid_pose())
    points = TipKinematics(human, links=list(MEDIAPIPE_LANDMARKS)).evaluate(pose[None], jacobian=False)[0][0]
    frames = points[None] + rng.normal(scale=0.0025, size=(80, 21, 3))
    inspire = xlsdk.load_hand("inspire")
    plain = np.stack([answer["inspire"] for answer in map(HumanStream(human, [inspire]), frames)])
    smooth = np.stack([answer["inspire"] for answer in map(HumanStream(human, [inspire], low_pass=0.2), frames)])
    step = lambda q: float(np.abs(np.diff(q, axis=0)).mean())  # noqa: E731
    assert step(smooth) < 0.5 * step(plain)
    np.testing.assert_allclose(smooth[40:].mean(axis=0), plain[40:].mean(axis=0), atol=0.05)
    with pytest.raises(DataFormatError, match="low_pass"):
        HumanStream(human, [inspire], low_pass=0.0)


def test_the_tracker_splits_the_hand_into_fingers_and_fits_a_moving_hand(human: xlsdk.Hand) -> None:
    """The stream's fit: five independent parts (one per finger), exact landmarks fitted, a lost finger recovered."""
    fit = KeypointFit(human)
    tracker = fit.tracker()
    parts = {tuple(np.flatnonzero(tracker._joint_part == part)) for part in np.unique(tracker._joint_part)}
    assert len(parts) == 5 and sorted(map(len, parts)) == [4, 4, 4, 4, 5], "four fingers of 4 joints, a thumb of 5"
    q, keypoints = _recording(human, 30, seed=12, smooth=True)
    stream = HumanStream(human, [human], hand_length=0.18)
    errors = [stream(frame) and stream.error for frame in keypoints]
    assert max(errors) < 1e-4 and np.abs(stream.previous - q[-1]).max() < 5e-3, "exact keypoints are followed closely"
    bent = q[-1].copy()
    bent[5:9] = np.asarray(human.spec.lower)[5:9]  # the index finger jumps to the other end of its range
    bent[6:9] = np.asarray(human.spec.upper)[6:9]
    points = TipKinematics(human, links=list(MEDIAPIPE_LANDMARKS)).evaluate(bent[None], jacobian=False)[0][0]
    for _ in range(6):
        stream(points)
    assert stream.error < 2e-3 and np.abs(stream.previous[9:] - bent[9:]).max() < 1e-3, "the other fingers stay put"


def test_independent_parts_join_joints_that_share_a_landmark() -> None:
    from xlsdk.human import _independent_parts

    depends = np.array([[1, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)  # joint 3 moves nothing
    joints, landmarks = _independent_parts(depends)
    assert joints[0] == joints[1] != joints[2] != joints[3] and landmarks[0] == landmarks[2] == joints[0]
    assert landmarks[1] == joints[2] and landmarks[3] not in joints, "a landmark no joint moves is a part of its own"
    assert len(set(_independent_parts(np.ones((3, 4), dtype=bool))[0])) == 1, "all joints shared: one part"


def test_the_stream_refinement_is_the_retargeting_refinement(human: xlsdk.Hand) -> None:
    """GeometryTracker (fed by the landmark fit, Jacobians kept) answers what StreamRetargeter's refinement does."""
    from xlsdk.latent.fast_head import NumpyHead
    from xlsdk.latent.head_loading import load_head
    from xlsdk.latent.retarget import StreamRetargeter

    _, keypoints = _recording(human, 25, seed=13, noise=0.002, smooth=True)
    for name in ("xhand", "inspire"):
        target = xlsdk.load_hand(name)
        stream = HumanStream(human, [target, human], refine=True, refine_steps=1, hand_length=0.18)
        reference = StreamRetargeter(human, target, refine=True, refine_steps=1)
        decoder = NumpyHead(load_head(target))
        for frame in keypoints:
            answers = stream(frame)
            expected = reference.from_decoded(decoder.decode(stream.latent[None]), answers["human"][None])
            np.testing.assert_allclose(answers[name], expected, atol=1e-9)
        plain = retarget(answers["human"], human, target)
        assert not np.allclose(answers[name], plain, atol=1e-4), "the refinement moved the decode"


def test_align_frame_is_the_batch_alignment_of_one_frame(human: xlsdk.Hand) -> None:
    _, keypoints = _recording(human, 4, seed=14, scale=0.9, noise=0.002)
    for handedness in ("right", "left"):
        fit = KeypointFit(human, handedness=handedness)
        aligned, measured = fit.align(keypoints)
        for frame, expected, scale in zip(keypoints, aligned, measured, strict=True):
            one, one_scale = fit.align_frame(frame)
            np.testing.assert_allclose(one, expected, atol=1e-12)
            assert one_scale == pytest.approx(scale, rel=1e-12)
            np.testing.assert_allclose(fit.align_frame(frame, scale=1.3)[0], fit.align(frame[None], scale=1.3)[0][0], atol=1e-12)
    with pytest.raises(DataFormatError, match="do not span a hand"):
        KeypointFit(human).align_frame(np.zeros((21, 3)))
