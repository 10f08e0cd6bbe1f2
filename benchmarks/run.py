"""`make bench`: every benchmark, each printing ratios against the peer measured in the same run.

1. benchmarks/retarget.py: latent retargeting vs dex-retargeting vs the naive mapping (updates
   docs/benchmarks/retarget.md);
2. the cross-hand policy benchmark (`xlsdk bench crosshand --quick`): the same policy trained on latent
   chunks vs padded raw joints, seen and held-out hand x task combinations.

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
        [sys.executable, "-m", "xlsdk", "bench", "crosshand", "--quick"],
    ]
    failed = 0
    for command in steps:
        print(f"\n$ {' '.join(Path(c).name if c.endswith('.py') else c for c in command[1:])}", flush=True)
        failed += subprocess.run(command, cwd=ROOT).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
