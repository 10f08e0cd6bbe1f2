"""Retargeting benchmark: the same source poses retargeted four ways, measured in the same run.

(a) xlsdk latent decode      D_dst(E_src(q))
(b) latent + refinement      (a) polished by up to 2 Levenberg-Marquardt steps on the fingertip geometry
(c) dex-retargeting          its vector optimizer (nlopt SLSQP on pinocchio FK), pointed at our own URDFs
(d) naive joint-range map    normalised joint positions copied by finger and role

Geometry error is the mean distance between normalised fingertips of the result and of the source
(on the fingers both hands have), also in millimetres at the destination hand's scale. Speed is
poses/second, batched (one call for the whole set) and single-stream (one pose per call, as in a
teleoperation loop); every speed is also printed as a ratio to (c).

Run: ``make bench`` (or ``.venv/bin/python benchmarks/retarget.py [--poses N] [--json PATH]``).
dex-retargeting is installed for the benchmark only (``pip install dex-retargeting``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

import xlsdk
from docs_tables import replace_marked_block
from timing import one_at_a_time, rate, timed
from xlsdk.geometry import shared_fingers
from xlsdk.hand import Hand
from xlsdk.latent.head_loading import load_head
from xlsdk.latent.naive import naive_retarget
from xlsdk.latent.objectives import tip_error
from xlsdk.latent.retarget import StreamRetargeter, refine_retarget
from xlsdk.latent.sampling import PoseSampler

HANDS = ("inspire", "ability", "xhand", "paxini")
DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "retarget.md"


@dataclass
class MethodResult:
    method: str
    geometry_error: float
    geometry_error_mm: float
    batched_poses_per_s: float
    single_poses_per_s: float


def _tip_urdf(hand: Hand, directory: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the hand's URDF with one fixed link at each manifest fingertip (dex-retargeting needs links)."""
    from lxml import etree

    root = etree.fromstring(hand.urdf_path.read_bytes())
    links: dict[str, str] = {}
    for finger, tip in hand.spec.manifest.fingers.items():
        name = f"xlsdk_tip_{finger}"
        etree.SubElement(root, "link", name=name)
        joint = etree.SubElement(root, "joint", name=f"{name}_fixed", type="fixed")
        etree.SubElement(joint, "parent", link=tip.link)
        etree.SubElement(joint, "child", link=name)
        etree.SubElement(joint, "origin", xyz=" ".join(repr(v) for v in tip.offset), rpy="0 0 0")
        links[finger] = name
    path = directory / f"{hand.name}_tips.urdf"
    path.write_bytes(etree.tostring(root))
    return path, links


class DexRetargeter:
    """dex-retargeting's vector optimizer for one (source, target) pair, on the same geometry we use."""

    def __init__(self, source: Hand, target: Hand, directory: Path) -> None:
        from dex_retargeting.retargeting_config import RetargetingConfig

        self.source, self.target = source, target
        self.fingers = shared_fingers(source.fingers, target.fingers)
        urdf, links = _tip_urdf(target, directory)
        palm = target.spec.manifest.palm_link
        others = [f for f in self.fingers if f != "thumb"]
        origins = [palm] * len(self.fingers) + [links["thumb"]] * len(others)
        tasks = [links[f] for f in self.fingers] + [links[f] for f in others]
        config = RetargetingConfig(
            type="vector", urdf_path=str(urdf), target_origin_link_names=origins, target_task_link_names=tasks,
            target_link_human_indices=np.zeros((2, len(origins)), dtype=int), scaling_factor=1.0,
            low_pass_alpha=1.0, target_joint_names=list(target.joint_names))  # the actuated joints; mimics follow
        self.retargeting = config.build()
        names = self.retargeting.joint_names
        self.columns = [names.index(j) for j in target.joint_names]
        self.scale = target.scale.reach / source.scale.reach
        self.center_src = np.asarray(source.scale.knuckle_center)
        self.center_dst = np.asarray(target.scale.knuckle_center)
        self.index = [source.fingers.index(f) for f in self.fingers]

    def target_vectors(self, tips_src: np.ndarray) -> np.ndarray:
        """Palm->tip and thumb->tip vectors of the source, mapped into the target's palm frame and size."""
        points = self.center_dst + self.scale * (tips_src[self.index] - self.center_src)
        return np.concatenate([points, points[1:] - points[:1]], axis=0)

    def __call__(self, tips_src: np.ndarray) -> np.ndarray:
        self.retargeting.reset()
        qpos = self.retargeting.retarget(self.target_vectors(tips_src))
        return qpos[self.columns]


def _error(source: Hand, target: Hand, q_src: torch.Tensor, q_dst: torch.Tensor) -> tuple[float, float]:
    fingers = shared_fingers(source.fingers, target.fingers)
    with torch.no_grad():
        error = tip_error(target.geometry(q_dst.float()).select(fingers), source.geometry(q_src.float()).select(fingers))
    value = float(error.mean())
    return value, value * target.scale.reach * 1000.0


def benchmark_pair(source: Hand, target: Hand, poses: int, stream_poses: int, workdir: Path) -> list[MethodResult]:
    sampler = PoseSampler(source, seed=2024)
    q_src = torch.cat([sampler.uniform(poses // 2), sampler.grasps(poses - poses // 2)])
    tips_src = source.fk(q_src.double()).numpy()
    results: list[MethodResult] = []
    source_head, target_head = load_head(source), load_head(target)  # load both heads before timing

    # (a) latent decode
    with torch.no_grad():
        big = q_src.repeat(max(1, 16384 // poses), 1)
        source_head.encode(big[:64])
        decoded_big, seconds = timed(lambda: target_head.decode(source_head.encode(big)))
        batched = rate(big.shape[0], seconds)
        decoded = decoded_big[: q_src.shape[0]]
    q_np = q_src.numpy()
    single = one_at_a_time(StreamRetargeter(source, target), q_np[:stream_poses]).per_second
    results.append(MethodResult("latent", *_error(source, target, q_src, decoded), batched, single))

    # (b) latent + refinement (up to REFINE_STEPS Levenberg-Marquardt steps): batched over the set, and one
    # pose at a time through a prepared StreamRetargeter (each frame starts from the better of its decode and
    # the previous frame's answer)
    refined, seconds = timed(lambda: refine_retarget(q_src, source, target, decoded))
    batched = rate(poses, seconds)
    refining = StreamRetargeter(source, target, refine=True)
    refining(q_np[0])
    refining.reset()
    calls = one_at_a_time(refining, q_np[:stream_poses])
    single, streamed = calls.per_second, np.stack(calls.answers)
    refined[: streamed.shape[0]] = torch.as_tensor(streamed)  # the error covers the streamed answers too
    results.append(MethodResult("latent+refine", *_error(source, target, q_src, refined), batched, single))

    # (c) dex-retargeting: one optimisation per pose (it has no batched mode: batched == single stream)
    calls = one_at_a_time(DexRetargeter(source, target, workdir), tips_src)
    solved, dex_rate = np.stack(calls.answers), calls.per_second
    results.append(MethodResult("dex-retargeting", *_error(source, target, q_src, torch.as_tensor(solved)), dex_rate,
                                dex_rate))

    # (d) naive joint-range mapping
    naive, seconds = timed(lambda: naive_retarget(q_src, source, target))
    batched = rate(poses, seconds)
    single = one_at_a_time(lambda row: naive_retarget(q_src[row:row + 1], source, target),
                           range(min(stream_poses, poses))).per_second
    results.append(MethodResult("naive", *_error(source, target, q_src, naive), batched, single))
    return results


def run(poses: int, stream_poses: int, hands: tuple[str, ...]) -> dict:
    torch.set_num_threads(1)  # one pose at a time: a second thread only adds synchronisation
    loaded = {name: xlsdk.load_hand(name) for name in hands}
    pairs = []
    with tempfile.TemporaryDirectory() as workdir:
        for source in hands:
            for target in hands:
                if source == target:
                    continue
                results = benchmark_pair(loaded[source], loaded[target], poses, stream_poses, Path(workdir))
                pairs.append({"source": source, "target": target, "results": [asdict(r) for r in results]})
                print(f"  {source:8s} -> {target:8s} " + "  ".join(
                    f"{r.method} {r.geometry_error:.3f}" for r in results), file=sys.stderr)
    methods = [r["method"] for r in pairs[0]["results"]]
    summary = {}
    for method in methods:
        rows = [next(r for r in p["results"] if r["method"] == method) for p in pairs]
        summary[method] = {key: float(np.mean([row[key] for row in rows])) for key in
                           ("geometry_error", "geometry_error_mm", "batched_poses_per_s", "single_poses_per_s")}
    peer = summary["dex-retargeting"]
    for values in summary.values():
        values["batched_vs_dex"] = values["batched_poses_per_s"] / peer["batched_poses_per_s"]
        values["single_vs_dex"] = values["single_poses_per_s"] / peer["single_poses_per_s"]
        values["error_vs_dex"] = values["geometry_error"] / peer["geometry_error"]
    targets = {
        "latent batched >= 1000x dex": summary["latent"]["batched_vs_dex"] >= 1000,
        "latent single-stream >= 20x dex": summary["latent"]["single_vs_dex"] >= 20,
        "latent+refine error within 10% of dex": summary["latent+refine"]["error_vs_dex"] <= 1.10,
        "latent+refine single-stream >= 5x dex": summary["latent+refine"]["single_vs_dex"] >= 5,
        "latent clearly better than naive": summary["latent"]["geometry_error"] < 0.8 * summary["naive"]["geometry_error"],
    }
    return {"poses_per_pair": poses, "stream_poses": stream_poses, "hands": list(hands),
            "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s), {platform.python_version()}",
            "summary": summary, "targets": targets, "pairs": pairs}


def markdown(report: dict) -> str:
    lines = ["| method | geometry error (reach units) | error (mm) | error vs dex | batched poses/s | vs dex |"
             " single-stream poses/s | vs dex |", "|---|---|---|---|---|---|---|---|"]
    for method, v in report["summary"].items():
        lines.append(f"| {method} | {v['geometry_error']:.3f} | {v['geometry_error_mm']:.1f} | {v['error_vs_dex']:.2f} | "
                     f"{v['batched_poses_per_s']:,.0f} | {v['batched_vs_dex']:,.1f}x | {v['single_poses_per_s']:,.0f} | "
                     f"{v['single_vs_dex']:,.1f}x |")
    lines.append("")
    lines += [f"- {'met' if ok else 'NOT met'}: {name}" for name, ok in report["targets"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poses", type=int, default=200, help="source poses per hand pair")
    parser.add_argument("--stream-poses", type=int, default=200, help="poses timed one at a time")
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--write-docs", action="store_true", help="update the table in docs/benchmarks/retarget.md")
    args = parser.parse_args()
    report = run(args.poses, args.stream_poses, HANDS)
    table = markdown(report)
    print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    if args.write_docs:
        _update_docs(table, report)


def _update_docs(table: str, report: dict) -> None:
    stamp = f"_Measured {time.strftime('%Y-%m-%d')} on {report['machine']}, {report['poses_per_pair']} poses per pair._"
    replace_marked_block(DOCS_PAGE, "retarget-table", f"{stamp}\n\n{table}")


if __name__ == "__main__":
    main()
