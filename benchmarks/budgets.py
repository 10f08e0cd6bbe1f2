"""Time budgets of the two user journeys, measured here rather than asserted in tests.

1. ``xlsdk demo`` (what ``make demo`` runs): wall time of the whole command in a fresh process
   against its budget of 60 s on two CPU cores.
2. ``xlsdk fit`` of a hand the core never saw (a generated four-finger hand with a vendor palm frame
   and mimic chains), at default settings, against its budget of 300 s — and against its peer, the
   authors' way of adding a hand: retraining every head jointly with the new one. The joint retrain is
   timed in the same run (short runs, cold and warm); its per-step cost and its fixed cost (grasp
   banks) are projected to its default step count, and the fit is reported as a ratio to that.
3. ``xlsdk fit`` + ``xlsdk check`` of the 16-DOF and the 22-DOF hands of the import corpus
   (tests/data/hands/numbered16.urdf, five22.urdf), scaffolded with ``new-hand --yes``, at default
   settings, against the 60 s target for a 22-DOF hand: wall and CPU seconds (the CPU seconds are what
   the fit costs when the two cores are not shared with other work), steps, reconstruction, verdict.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/budgets.py [--json PATH] [--write-docs]``);
``--write-docs`` updates the "Fitting a new hand" block of docs/benchmarks/latent.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import xlsdk
from docs_tables import replace_marked_block
from xlsdk.files import write_json_atomic
from xlsdk.hand import Hand
from xlsdk.hand_spec import load_hand_spec
from xlsdk.latent.fit import FitConfig, fit_head
from xlsdk.latent.train import REFERENCE_HANDS, LatentTrainConfig, train_core_latent

ROOT = Path(__file__).resolve().parents[1]
DOCS_PAGE = ROOT / "docs" / "benchmarks" / "latent.md"
DEMO_BUDGET_S = 60.0
FIT_BUDGET_S = 300.0
CORPUS_FIT_BUDGET_S = 60.0
CORPUS_HANDS = ("numbered16", "five22")
sys.path.insert(0, str(ROOT / "tests"))  # the generated hands of the test suite

from synthetic_hands import write_synthetic_hand  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from corpus_fit import corpus_files, fit_and_check, register, scaffold  # noqa: E402


def time_demo(out: Path) -> dict[str, float]:
    """``xlsdk demo`` in its own process, as ``make demo`` runs it."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "xlsdk", "demo", "--out", str(out), "--json"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"xlsdk demo failed:\n{result.stdout}\n{result.stderr}")
    report = json.loads(result.stdout)
    return {"wall_s": round(wall, 2), "reported_s": float(report["seconds"]), "budget_s": DEMO_BUDGET_S}


def time_fit(workdir: Path) -> tuple[Hand, dict[str, float]]:
    generated = write_synthetic_hand(workdir / "bench_hand", name="bench_hand",
                                     fingers=("thumb", "index", "middle", "ring"), scale=1.1)
    hand = Hand(load_hand_spec(generated.manifest), plugin="benchmark")
    result = fit_head(hand, core_hands=xlsdk.load_core_hands(), config=FitConfig(),
                      progress=False)  # head written next to its hand.toml
    return hand, {"fit_s": round(result.seconds, 2), "fit_steps": result.steps, "stopped_early": result.stopped_early,
                  "recon_rad": round(result.metrics["recon_rad"], 4), "budget_s": FIT_BUDGET_S}


def time_corpus_fits(workdir: Path, names: tuple[str, ...] = CORPUS_HANDS) -> list[dict]:
    """Scaffold, fit at defaults and check the named corpus hands (16 and 22 DOF)."""
    files = corpus_files()
    register([scaffold(name, files[name], workdir) for name in names])
    return [{**fit_and_check(name), "budget_s": CORPUS_FIT_BUDGET_S} for name in names]


def project_joint_retrain(new_hand: Hand, short: int = 40, long: int = 120) -> dict[str, float]:
    """Seconds the authors' way would take: every head (reference + new) retrained jointly, default steps.

    Three timed runs: ``short`` steps from a cold start (it solves every hand's grasp banks, which a real
    retrain pays once), then ``short`` and ``long`` steps warm; their difference is the per-step cost.
    """
    hands = {name: xlsdk.load_hand(name) for name in REFERENCE_HANDS} | {new_hand.name: new_hand}
    default_steps = LatentTrainConfig().steps

    def timed(steps: int) -> float:
        config = LatentTrainConfig(hands=tuple(hands), steps=steps)
        started = time.perf_counter()
        train_core_latent(config, hands=hands, device="cpu", progress=False, evaluate=False)
        return time.perf_counter() - started

    cold, warm_short, warm_long = timed(short), timed(short), timed(long)
    per_step = (warm_long - warm_short) / (long - short)
    fixed = max(cold - short * per_step, 0.0)
    return {"joint_per_step_s": round(per_step, 4), "joint_fixed_s": round(fixed, 2),
            "joint_default_steps": default_steps, "joint_projected_s": round(fixed + per_step * default_steps, 1)}


def markdown(demo: dict, fit: dict, joint: dict, corpus: list[dict]) -> str:
    faster = joint["joint_projected_s"] / fit["fit_s"]
    rows = [
        f"| `xlsdk fit` corpus hand {row['hand']} ({row['dof']} DOF), default settings, then `xlsdk check` | "
        f"{row['fit_s']:.0f} s wall, {row['fit_cpu_s']:.0f} s CPU ({row['steps']} steps; recon "
        f"{row['recon_rad']:.4f} rad; check {'pass' if row['passed'] else 'FAIL: ' + ', '.join(row['failed'])}) | "
        f"{row['budget_s']:.0f} s | {row['fit_cpu_s'] / row['budget_s']:.2f} (CPU) | same joint retrain | "
        f"{joint['joint_projected_s'] / row['fit_s']:.1f}x |"
        for row in corpus
    ]
    return "\n".join([
        "| journey | measured | budget | measured / budget | peer (same run) | peer / measured |",
        "|---|---|---|---|---|---|",
        f"| `xlsdk fit` a new 4-finger hand, default settings | {fit['fit_s']:.0f} s wall ({fit['fit_steps']} steps"
        f"{', stopped early' if fit['stopped_early'] else ''}; recon {fit['recon_rad']:.4f} rad) | "
        f"{fit['budget_s']:.0f} s | {fit['fit_s'] / fit['budget_s']:.2f} | joint retrain of all 6 heads, "
        f"{joint['joint_default_steps']} steps: {joint['joint_projected_s']:.0f} s (projected from "
        f"{joint['joint_per_step_s'] * 1000:.0f} ms/step) | {faster:.1f}x |",
        *rows,
        f"| `xlsdk demo` (what `make demo` runs) | {demo['wall_s']:.1f} s | {demo['budget_s']:.0f} s | "
        f"{demo['wall_s'] / demo['budget_s']:.2f} | | |",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the measurements here")
    parser.add_argument("--write-docs", action="store_true", help="update the table in docs/benchmarks/latent.md")
    args = parser.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory(prefix="xlsdk-budgets-") as tmp:
        workdir = Path(tmp)
        demo = time_demo(workdir / "demo")
        hand, fit = time_fit(workdir)
        corpus = time_corpus_fits(workdir / "corpus")
        joint = project_joint_retrain(hand)
    table = markdown(demo, fit, joint, corpus)
    print(table)
    if args.json:
        write_json_atomic(args.json, {"demo": demo, "fit": fit, "joint": joint, "corpus": corpus})
    if args.write_docs:
        stamp = (f"_Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, "
                 f"{torch.get_num_threads()} torch threads, Python {platform.python_version()}._")
        replace_marked_block(DOCS_PAGE, "fit-timing", f"{stamp}\n\n{table}")


if __name__ == "__main__":
    main()
