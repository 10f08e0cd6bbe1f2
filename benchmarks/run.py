"""`make bench`: every benchmark, each printing ratios against the peer measured in the same run.

1. benchmarks/retarget.py: latent retargeting vs dex-retargeting vs the naive mapping (updates
   docs/benchmarks/retarget.md);
2. benchmarks/latent_metrics.py: the shipped latent's held-out metrics vs the naive mapping (updates
   the "Shipped latent" block of docs/benchmarks/latent.md);
3. benchmarks/budgets.py: `xlsdk fit` of a new hand vs a joint retrain, and `xlsdk demo`, against their
   time budgets (updates "Fitting a new hand" in docs/benchmarks/latent.md);
4. benchmarks/crosshand/run.py (quick): the same policy trained on latent chunks vs padded raw joints,
   seen and held-out hand x task combinations (updates docs/benchmarks/crosshand.md).
5. benchmarks/startup.py: `xlsdk --help`, `hands`, `hands --json` and `info` in fresh processes vs
   `import typer` / `import pydantic, tomllib`, medians of interleaved rounds (target: within 3x).
6. benchmarks/import_speed.py: `new-hand`'s proposal on 500-2000-joint URDFs (time per joint stays flat).
7. benchmarks/driver_soak.py: 10,000 hostile commands through every driver, counted at transport and device.

The latent ablation (benchmarks/latent_ablation.py) trains six latents and is run on its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    steps = [
        [sys.executable, str(ROOT / "benchmarks" / "retarget.py"), "--write-docs",
         "--json", str(ROOT / "out" / "bench" / "retarget.json")],
        [sys.executable, str(ROOT / "benchmarks" / "latent_metrics.py"), "--write-docs",
         "--json", str(ROOT / "out" / "bench" / "latent_metrics.json")],
        [sys.executable, str(ROOT / "benchmarks" / "budgets.py"), "--write-docs",
         "--json", str(ROOT / "out" / "bench" / "budgets.json")],
        [sys.executable, str(ROOT / "benchmarks" / "crosshand" / "run.py"), "--write-docs"],
        [sys.executable, str(ROOT / "benchmarks" / "startup.py"), "--json", str(ROOT / "out" / "bench" / "startup.json")],
        [sys.executable, str(ROOT / "benchmarks" / "import_speed.py")],
        [sys.executable, str(ROOT / "benchmarks" / "driver_soak.py")],
    ]
    failed = 0
    for command in steps:
        print(f"\n$ {' '.join(str(Path(c).relative_to(ROOT)) if c.endswith('.py') else c for c in command[1:])}",
              flush=True)
        failed += subprocess.run(command, cwd=ROOT).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
