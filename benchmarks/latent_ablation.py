"""Ablation of the core latent's design choices, measured with the same evaluation as `xlsdk latent eval`.

Variants (each trained from scratch with the same seed and step budget as the baseline):
  baseline        k = 32, every loss term
  no-retarget     without the cross-hand geometry loss (and its cycle term)
  k=8 / k=16 / k=64   other latent sizes
  uniform-only    no grasp-like samples (uniform joint samples only)

Run: ``.venv/bin/python benchmarks/latent_ablation.py [--steps N] [--variants a,b] [--write-docs]``.
It trains in out/ablation/<variant> (resumable) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import xlsdk
from docs_tables import replace_marked_block
from xlsdk.latent.evaluate import evaluate_latent
from xlsdk.latent.train import REFERENCE_HANDS, LatentTrainConfig, train_core_latent

ROOT = Path(__file__).resolve().parents[1]
DOCS_PAGE = ROOT / "docs" / "benchmarks" / "latent.md"
VARIANTS: dict[str, dict] = {
    "baseline": {},
    "no-retarget": {"retarget_weight": 0.0, "cycle_weight": 0.0},
    "k=8": {"latent_dim": 8},
    "k=16": {"latent_dim": 16},
    "k=64": {"latent_dim": 64},
    "uniform-only": {"mix": {"uniform": 1.0, "pinch": 0.0, "tripod": 0.0, "close": 0.0}},
}
EVAL_HANDS = ("inspire", "ability", "xhand", "paxini")


def run_variant(name: str, steps: int, out: Path) -> dict:
    config = LatentTrainConfig.model_validate({**LatentTrainConfig().model_dump(), "steps": steps, **VARIANTS[name]})
    hands = {hand: xlsdk.load_hand(hand) for hand in REFERENCE_HANDS}
    started = time.perf_counter()
    core = train_core_latent(config, hands=hands, out_dir=out / name, checkpoint_dir=out / name / "checkpoints",
                             progress=False, evaluate=False)
    seconds = time.perf_counter() - started
    selected = {hand: hands[hand] for hand in EVAL_HANDS}
    report = evaluate_latent(selected, {hand: core.heads[hand] for hand in EVAL_HANDS}, n=1024, seed=12345)
    return {"variant": name, "seconds": round(seconds, 1), "recon_rad": float(np.mean([h.recon_rad for h in report.hands])),
            **{key: value for key, value in report.summary().items() if key != "recon_rad"}}


def markdown(rows: list[dict]) -> str:
    lines = ["| variant | recon (rad) | geometry error | error (mm) | naive error | pinch kept | smoothness |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['variant']} | {row['recon_rad']:.4f} | {row['geometry_error']:.3f} | "
                     f"{row['geometry_error_mm']:.1f} | {row['naive_error']:.3f} | {row['pinch_kept']:.2f} | "
                     f"{row['smoothness']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "ablation")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    rows = []
    for name in args.variants.split(","):
        rows.append(run_variant(name, args.steps, args.out))
        print(json.dumps(rows[-1]), flush=True)
    table = markdown(rows)
    print(table)
    (args.out / "ablation.json").write_text(json.dumps(rows, indent=2))
    if args.write_docs:
        stamp = f"_Measured {time.strftime('%Y-%m-%d')}, {args.steps} steps per variant, seed 0, CPU._"
        replace_marked_block(DOCS_PAGE, "ablation-table", f"{stamp}\n\n{table}")


if __name__ == "__main__":
    main()
