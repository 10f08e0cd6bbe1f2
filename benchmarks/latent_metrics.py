"""The shipped core latent, measured: `xlsdk latent eval` on the installed reference hands, as docs tables.

Per hand: held-out reconstruction error (rad, mean over joints; uniform and grasp-like poses). Per
ordered hand pair: cross-hand fingertip geometry error of the latent next to the naive joint-range
mapping measured on the same poses in the same run (and their ratio), pinch consistency, smoothness.

Run: ``make bench`` (or ``.venv/bin/python benchmarks/latent_metrics.py [--samples N] [--write-docs]``);
``--write-docs`` updates the "Shipped latent" block of docs/benchmarks/latent.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import xlsdk
from docs_tables import replace_marked_block
from xlsdk.files import write_json_atomic
from xlsdk.latent.evaluate import LatentReport, evaluate_latent
from xlsdk.latent.head_loading import installed_core_latent

ROOT = Path(__file__).resolve().parents[1]
DOCS_PAGE = ROOT / "docs" / "benchmarks" / "latent.md"
HANDS = ("inspire", "ability", "xhand", "paxini")


def markdown(report: LatentReport) -> str:
    lines = ["| hand | DOF | recon (rad) | uniform | grasp-like | worst joint |", "|---|---|---|---|---|---|"]
    for h in report.hands:
        lines.append(f"| {h.hand} | {h.dof} | {h.recon_rad:.4f} | {h.recon_rad_uniform:.4f} | "
                     f"{h.recon_rad_grasp:.4f} | {h.recon_rad_max_joint:.4f} |")
    lines += ["", "| source -> target | geometry error | mm | naive error | naive mm | latent / naive | pinch kept "
                  "| naive pinch kept | smoothness |", "|---|---|---|---|---|---|---|---|---|"]
    for p in report.pairs:
        lines.append(f"| {p.source} -> {p.target} | {p.geometry_error:.3f} | {p.geometry_error_mm:.1f} | "
                     f"{p.naive_error:.3f} | {p.naive_error_mm:.1f} | {p.geometry_error / p.naive_error:.2f} | "
                     f"{p.pinch_kept:.2f} | {p.naive_pinch_kept:.2f} | {p.smoothness:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1024, help="held-out poses per hand")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--write-docs", action="store_true", help="update the table in docs/benchmarks/latent.md")
    args = parser.parse_args()
    torch.set_num_threads(2)
    hands = {name: xlsdk.load_hand(name) for name in HANDS}
    report = evaluate_latent(hands, n=args.samples, seed=args.seed)
    table = markdown(report)
    print(table)
    if args.json:
        write_json_atomic(args.json, report.model_dump(mode="json"))
    if args.write_docs:
        fingerprint = installed_core_latent().fingerprint[:12]
        stamp = (f"_Measured {time.strftime('%Y-%m-%d')} by `benchmarks/latent_metrics.py` (the numbers of "
                 f"`xlsdk latent eval`), core latent `{fingerprint}`, {args.samples} held-out poses per hand "
                 f"(seed {args.seed}), naive mapping on the same poses._")
        replace_marked_block(DOCS_PAGE, "latent-metrics", f"{stamp}\n\n{table}")


if __name__ == "__main__":
    main()
