"""Human keypoints -> robot hands: xlsdk's human hand in the latent vs dex-retargeting, in the same run.

Keypoints are made from the human hand's own kinematics: a sequence through random and grasp-like
poses (uniform in the joint limits; pinches, tripods, closing), 30 frames from one pose to the next,
at three hand sizes (0.85, 1.0 and 1.15 x the model's 0.18 m), seen from a random camera pose, with
MediaPipe-like jitter (Gaussian, 2.5 mm per coordinate). For each robot hand:

(a) xlsdk          keypoints -> human joints (palm alignment + LM) -> latent -> the robot's decoder
(b) xlsdk+refine   (a) polished by LM steps on the fingertip geometry (batched: up to 2 from the decode;
                   single-stream: 1 from the better of the decode and the previous frame's answer)
(c) dex-retargeting its vector optimizer configured for the same robot: palm->tip and thumb->tip
                   vectors of the keypoints (palm-aligned by the same alignment, scaled to the robot's
                   reach), one optimisation per frame warm-started from the previous one, as in its
                   teleoperation loop; also with its low-pass filter (alpha 0.2) for smoothness
(d) xlsdk, low-pass (a) streamed with HumanStream's output filter of the same strength

Error: fingertip geometry of the result against the *true* human pose's (before noise), mean
normalised-fingertip distance on the fingers both hands have (reach units; mm at the robot's size).
Speed: frames per second, batched (the whole recording in one call) and single-stream (one frame per
call, each call timed on its own by ``benchmarks/timing.py``); dex-retargeting has no batched mode.
"4 hands" times one frame to all four robot hands through one `HumanStream`. Smoothness: mean joint
step and mean jerk (third difference) per frame on the noisy sequence. Every ratio is against
dex-retargeting in the same run.

Run: ``.venv/bin/python benchmarks/human_retarget.py [--frames N] [--write-docs]`` (dex-retargeting
comes with the bench extra: ``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation

import xlsdk
from docs_tables import replace_marked_block
from retarget import _tip_urdf
from timing import one_at_a_time, rate, sessions, timed
from xlsdk.geometry import shared_fingers
from xlsdk.hand import Hand
from xlsdk.human import HumanStream, KeypointFit, retarget_keypoints
from xlsdk.keypoints import MEDIAPIPE_LANDMARKS
from xlsdk.latent.objectives import tip_error
from xlsdk.latent.sampling import PoseSampler
from xlsdk.tip_kinematics import TipKinematics

ROBOTS = ("inspire", "ability", "xhand", "paxini")
SIZES = (0.85, 1.0, 1.15)
JITTER = 0.0025  # metres per coordinate, at the person's size
FRAMES_BETWEEN = 30
LOW_PASS = 0.2  # the output filter of both tools' smoothed rows (dex-retargeting's teleoperation examples use 0.2)
TIP_LANDMARKS = {"thumb": 4, "index": 8, "middle": 12, "ring": 16, "little": 20}
DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "human.md"


def recording(human: Hand, key_poses: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True joints ``(T, d)``, clean and noisy keypoints ``(T, 21, 3)`` over the sizes, in a camera frame."""
    sampler = PoseSampler(human, seed=seed)
    keys = torch.cat([sampler.uniform(key_poses // 2), sampler.grasps(key_poses - key_poses // 2)]).double().numpy()
    keys = keys[np.random.default_rng(seed).permutation(len(keys))]
    steps = np.linspace(0.0, 1.0, FRAMES_BETWEEN, endpoint=False)[:, None]
    q = np.concatenate([a + (b - a) * steps for a, b in zip(keys[:-1], keys[1:], strict=True)])
    points = TipKinematics(human, links=list(MEDIAPIPE_LANDMARKS)).evaluate(q, jacobian=False)[0]
    rng = np.random.default_rng(seed + 1)
    rotation = Rotation.random(random_state=seed).as_matrix()
    clean = np.concatenate([size * points @ rotation.T + np.array([0.05, -0.1, 0.45]) for size in SIZES])
    noisy = clean + rng.normal(scale=JITTER, size=clean.shape) * np.repeat(SIZES, len(q))[:, None, None]
    return np.tile(q, (len(SIZES), 1)), clean, noisy


class DexKeypoints:
    """dex-retargeting's vector retargeting from human keypoints to one robot, warm-started frame to frame.

    Its keypoints are palm-aligned by the same alignment as xlsdk's (``fit``), at the size :meth:`start`
    gives (each person's, measured as :class:`~xlsdk.human.HumanStream` measures it).
    """

    def __init__(self, human: Hand, robot: Hand, directory: Path, fit: KeypointFit, *, low_pass: float = 1.0) -> None:
        from dex_retargeting.retargeting_config import RetargetingConfig

        self.fit, self.size = fit, 1.0
        self.fingers = shared_fingers(human.fingers, robot.fingers)
        urdf, links = _tip_urdf(robot, directory)
        palm = robot.spec.manifest.palm_link
        others = [f for f in self.fingers if f != "thumb"]
        origins = [palm] * len(self.fingers) + [links["thumb"]] * len(others)
        tasks = [links[f] for f in self.fingers] + [links[f] for f in others]
        config = RetargetingConfig(
            type="vector", urdf_path=str(urdf), target_origin_link_names=origins, target_task_link_names=tasks,
            target_link_human_indices=np.zeros((2, len(origins)), dtype=int), scaling_factor=1.0,
            low_pass_alpha=low_pass, target_joint_names=list(robot.joint_names))
        self.retargeting = config.build()
        self.columns = [self.retargeting.joint_names.index(j) for j in robot.joint_names]
        self.scale = robot.scale.reach / human.scale.reach
        self.center_human = np.asarray(human.scale.knuckle_center)
        self.center_robot = np.asarray(robot.scale.knuckle_center)
        self.landmarks = [TIP_LANDMARKS[f] for f in self.fingers]

    def start(self, size: float) -> None:
        """A new person: forget the previous frame (its warm start and filter), align at ``size`` from now on."""
        self.retargeting.reset()
        self.size = size

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """One frame of keypoints ``(21, 3)`` -> the robot's joints."""
        aligned = self.fit.align(frame[None], scale=self.size)[0][0]
        points = self.center_robot + self.scale * (aligned[self.landmarks] - self.center_human)
        vectors = np.concatenate([points, points[1:] - points[:1]], axis=0)
        return self.retargeting.retarget(vectors)[self.columns]


def _error(human: Hand, robot: Hand, q_true: np.ndarray, q_robot: np.ndarray) -> tuple[float, float]:
    fingers = shared_fingers(human.fingers, robot.fingers)
    with torch.no_grad():
        error = tip_error(robot.geometry(torch.as_tensor(q_robot, dtype=torch.float32)).select(fingers),
                          human.geometry(torch.as_tensor(q_true, dtype=torch.float32)).select(fingers))
    value = float(error.mean())
    return value, value * robot.scale.reach * 1000.0


def _smoothness(segments: list[np.ndarray], span: np.ndarray) -> tuple[float, float]:
    """Mean joint step and mean jerk per frame within each person's segment, in units of each joint's range."""
    steps = np.concatenate([np.abs(np.diff(q / span, axis=0)).reshape(-1) for q in segments])
    jerks = np.concatenate([np.abs(np.diff(q / span, n=3, axis=0)).reshape(-1) for q in segments])
    return float(steps.mean()), float(jerks.mean())


def _row(human: Hand, robot: Hand, q_true: np.ndarray, streamed: list[np.ndarray], single: float, *,
         batch: tuple[np.ndarray, float] | None = None) -> dict:
    """A table row from a method's streamed answers per person (and its batched answers and rate, if it has them)."""
    span = np.asarray(robot.spec.upper) - np.asarray(robot.spec.lower)
    step, jerk = _smoothness(streamed, span)
    stream_error = _error(human, robot, q_true, np.concatenate(streamed))
    error, batched = (_error(human, robot, q_true, batch[0]), batch[1]) if batch is not None else (stream_error, single)
    return {"error": error, "stream_error": stream_error, "batched": batched, "single": single, "step": step,
            "jerk": jerk}


def _streamed(stream: HumanStream, robot: Hand, people: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
    """``stream`` one frame per call, restarted at each person: its answers for ``robot`` and frames per second."""
    return sessions(lambda frame: stream(frame)[robot.name], people, lambda _: stream.reset())


def _batched(human: Hand, robot: Hand, people: list[np.ndarray], refine: bool) -> np.ndarray:
    """Each person's recording in one call (``retarget_keypoints``), the answers concatenated."""
    answers = [retarget_keypoints(person, human, [robot], refine=refine, check_handedness=False)[1][robot.name]
               for person in people]
    return np.concatenate(answers)


def benchmark_robot(human: Hand, robot: Hand, q_true: np.ndarray, noisy: np.ndarray, workdir: Path) -> dict:
    """Every method on the whole recording; streams restart at each person (hand size), as a new session would."""
    rows: dict[str, dict] = {}
    people = np.split(noisy, len(SIZES))
    for refine in (False, True):
        retarget_keypoints(noisy[:8], human, [robot], refine=refine, check_handedness=False)  # warm caches
        batch, seconds = timed(partial(_batched, human, robot, people, refine))
        streamed, single = _streamed(HumanStream(human, [robot], refine=refine), robot, people)
        rows["xlsdk+refine" if refine else "xlsdk"] = _row(human, robot, q_true, streamed, single,
                                                           batch=(batch, rate(len(noisy), seconds)))
    # the output filter, as dex-retargeting's below
    streamed, single = _streamed(HumanStream(human, [robot], low_pass=LOW_PASS), robot, people)
    rows[f"xlsdk, low-pass {LOW_PASS}"] = _row(human, robot, q_true, streamed, single)
    fit = KeypointFit(human)
    scales = [float(np.median(fit.align(person[:30])[1])) for person in people]  # each person's first second
    for alpha, name in ((1.0, "dex-retargeting"), (LOW_PASS, f"dex-retargeting, low-pass {LOW_PASS}")):
        dex = DexKeypoints(human, robot, workdir, fit, low_pass=alpha)
        streamed, single = sessions(dex, people, lambda index, dex=dex: dex.start(scales[index]))
        rows[name] = _row(human, robot, q_true, streamed, single)
    return rows


def four_hands_latency(human: Hand, robots: list[Hand], noisy: np.ndarray, frames: int) -> dict[str, float]:
    """Milliseconds per frame, one keypoint frame to all four robot hands (median of the per-frame times)."""
    result = {}
    for refine in (False, True):
        stream = HumanStream(human, robots, refine=refine)
        for frame in noisy[:5]:
            stream(frame)
        stream.reset()
        result["refine" if refine else "plain"] = one_at_a_time(stream, noisy[:frames]).median_ms
    return result


def run(key_poses: int) -> dict:
    torch.set_num_threads(1)
    human = xlsdk.load_hand("human")
    robots = [xlsdk.load_hand(name) for name in ROBOTS]
    q_true, _, noisy = recording(human, key_poses, seed=7)
    per_robot = {}
    with tempfile.TemporaryDirectory() as workdir:
        for robot in robots:
            per_robot[robot.name] = benchmark_robot(human, robot, q_true, noisy, Path(workdir))
            print(f"  human -> {robot.name:8s} " + "  ".join(f"{m} {v['error'][0]:.3f}"
                                                            for m, v in per_robot[robot.name].items()), file=sys.stderr)
    methods = list(next(iter(per_robot.values())))
    summary = {}
    for method in methods:
        values = [per_robot[r][method] for r in per_robot]
        summary[method] = {"error": float(np.mean([v["error"][0] for v in values])),
                           "error_mm": float(np.mean([v["error"][1] for v in values])),
                           "stream_error": float(np.mean([v["stream_error"][0] for v in values])),
                           **{k: float(np.mean([v[k] for v in values])) for k in ("batched", "single", "step", "jerk")}}
    peer = summary["dex-retargeting"]  # streamed rows (the low-pass ones) have no batched mode: batched = single
    for values in summary.values():
        values["error_vs_dex"] = values["error"] / peer["error"]
        values["batched_vs_dex"] = values["batched"] / peer["batched"]
        values["single_vs_dex"] = values["single"] / peer["single"]
    latency = four_hands_latency(human, robots, noisy, min(200, len(noisy)))
    targets = {
        "xlsdk+refine error <= dex-retargeting's": summary["xlsdk+refine"]["error_vs_dex"] <= 1.0,
        "xlsdk single-stream >= 10x dex": summary["xlsdk"]["single_vs_dex"] >= 10,
        "xlsdk+refine single-stream >= 10x dex": summary["xlsdk+refine"]["single_vs_dex"] >= 10,
        "one frame to 4 hands < 2 ms": latency["plain"] < 2.0,
    }
    return {"frames": len(noisy), "sizes": SIZES, "jitter_m": JITTER,
            "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s), {platform.python_version()}",
            "summary": summary, "four_hands_ms": latency, "targets": targets, "per_robot": per_robot}


def markdown(report: dict) -> str:
    lines = ["| method | geometry error (reach units) | error (mm) | error vs dex | streamed error | batched frames/s | "
             "vs dex | single-stream frames/s | vs dex | joint step | jerk |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for method, v in report["summary"].items():
        lines.append(f"| {method} | {v['error']:.3f} | {v['error_mm']:.1f} | {v['error_vs_dex']:.2f} | {v['stream_error']:.3f} | "
                     f"{v['batched']:,.0f} | {v['batched_vs_dex']:,.1f}x | {v['single']:,.0f} | "
                     f"{v['single_vs_dex']:,.1f}x | {v['step']:.4f} | {v['jerk']:.4f} |")
    four = report["four_hands_ms"]
    lines += ["", f"One keypoint frame to all four robot hands (`HumanStream`, median): {four['plain']:.2f} ms, "
              f"{four['refine']:.2f} ms with refine.", ""]
    lines += [f"- {'met' if ok else 'NOT met'}: {name}" for name, ok in report["targets"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key-poses", type=int, default=6, help="poses the sequence passes through (30 frames apart)")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--write-docs", action="store_true", help="update the table in docs/benchmarks/human.md")
    args = parser.parse_args()
    report = run(args.key_poses)
    table = markdown(report)
    print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    if args.write_docs:
        stamp = (f"_Measured {time.strftime('%Y-%m-%d')} on {report['machine']}: {report['frames']} frames "
                 f"({len(SIZES)} hand sizes) per robot hand._")
        replace_marked_block(DOCS_PAGE, "human-table", f"{stamp}\n\n{table}")


if __name__ == "__main__":
    main()
