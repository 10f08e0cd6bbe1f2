"""Startup of the ``xlsdk`` command line against its peers, measured side by side in one run.

The target (issue 14): ``xlsdk --help`` within 3x of ``python -c "import typer"`` (the framework it is
built on), and ``xlsdk hands``, ``xlsdk hands --json`` and ``xlsdk info HAND`` within 3x of
``python -c "import pydantic, tomllib"`` (what reading a manifest needs at the least). Each command runs
in a fresh process; the commands are interleaved round by round (so a busy machine slows peers and
subjects alike) and the median of ``--repeats`` rounds is reported, with the ratio to the peer.
A further column says whether the command imported torch, yourdfpy, trimesh or lerobot
(``python -X importtime``), which is what the target is really about. A last row, the *floor*, runs only
what those commands cannot do without (their third-party imports and one pydantic model), so the table
shows how much of a ratio is the dependencies' and how much xlsdk's own.

``hands`` and ``info`` keep their answers in a per-user cache keyed by every file behind them
(xlsdk/cli/answer_cache.py). Their rows are *warm*: a cache folder of the benchmark's own, filled by the
warm-up run, as a user's second and later runs find it. The *cold* rows run each time with a new, empty
cache folder: the first run after any change, which computes the answer and stores it. Cold rows are
shown with their ratio and, like the floor, not held to the target.

Run: ``.venv/bin/python benchmarks/startup.py [--repeats 7] [--hand inspire] [--json PATH] [--write-docs]``
(part of ``make bench``); ``--write-docs`` puts the table into docs/benchmarks/startup.md. Exit code 1
when a ratio is above ``--max-ratio`` (default 3).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[1]
DOCS_PAGE = ROOT / "docs" / "benchmarks" / "startup.md"
HEAVY = ("torch", "yourdfpy", "trimesh", "lerobot", "pytorch_kinematics", "mujoco", "viser", "matplotlib")


TYPER = "import typer"
PYDANTIC = "import pydantic, tomllib"
#: what `hands` and `info` cannot start without: their third-party imports and one pydantic model built and
#: used (the first model imports pydantic.main and scans every installed distribution for pydantic plugins,
#: which ``import pydantic`` alone does not). Shown with its ratio, as the floor; not held to the target.
FLOOR = "floor: their dependencies"
_FLOOR_CODE = ("import tomllib, numpy, lxml.etree, pluggy, typer, rich.console, rich.table, pydantic\n"
               "class Row(pydantic.BaseModel):\n    name: str\nRow(name='inspire')")


#: how a command meets the answer cache: the benchmark's own filled folder, a new empty one each run, or none
Cache = Literal["warm", "cold", ""]


def commands(hand: str) -> dict[str, tuple[list[str], str | None, Cache]]:
    """name -> (argv, the peer it is compared with, its cache); the peers themselves have no peer."""
    py = sys.executable
    return {
        TYPER: ([py, "-c", "import typer"], None, ""),
        PYDANTIC: ([py, "-c", "import pydantic, tomllib"], None, ""),
        "xlsdk --help": ([py, "-m", "xlsdk", "--help"], TYPER, ""),
        "xlsdk hands": ([py, "-m", "xlsdk", "hands"], PYDANTIC, "warm"),
        "xlsdk hands --json": ([py, "-m", "xlsdk", "hands", "--json"], PYDANTIC, "warm"),
        f"xlsdk info {hand}": ([py, "-m", "xlsdk", "info", hand], PYDANTIC, "warm"),
        "xlsdk hands (cold)": ([py, "-m", "xlsdk", "hands"], PYDANTIC, "cold"),
        f"xlsdk info {hand} (cold)": ([py, "-m", "xlsdk", "info", hand], PYDANTIC, "cold"),
        FLOOR: ([py, "-c", _FLOOR_CODE], PYDANTIC, ""),
    }


def _env(cache_dir: Path | None) -> dict[str, str]:
    """A user's environment: bytecode caches are written and used (``PYTHONDONTWRITEBYTECODE`` dropped,
    or every run would recompile xlsdk and the peers' sources and time the compiler); the answer cache in
    ``cache_dir`` (never the user's own)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONDONTWRITEBYTECODE", "XLSDK_NO_CACHE", "XLSDK_CACHE_DIR")}
    env = {**env, "COLUMNS": "100"}
    if cache_dir is not None:
        env["XLSDK_CACHE_DIR"] = str(cache_dir)
    return env


class _CacheFolders:
    """The warm rows' folder (kept for the whole run) and a new empty folder for every cold run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.warm = root / "warm"
        self._runs = 0

    def for_run(self, cache: Cache) -> Path | None:
        if cache == "warm":
            return self.warm
        if cache == "cold":
            self._runs += 1
            folder = self.root / f"cold-{self._runs}"
            shutil.rmtree(folder, ignore_errors=True)
            return folder
        return self.root / "unused"  # peers and the floor never read it


def run_once(argv: list[str], cache_dir: Path | None) -> float:
    env = _env(cache_dir)
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv[1:])} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed


def heavy_imports(argv: list[str], cache_dir: Path | None) -> list[str]:
    """Which heavy packages the command imports (top-level names seen by ``-X importtime``)."""
    result = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], cwd=ROOT, env=_env(cache_dir),
                            capture_output=True, text=True, timeout=600)
    seen = set()
    for line in result.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        module = line.rsplit("|", 1)[-1].strip()
        top = module.split(".")[0]
        if top in HEAVY:
            seen.add(top)
    return sorted(seen)


def measure(repeats: int, hand: str) -> dict[str, dict[str, object]]:
    table = commands(hand)
    with tempfile.TemporaryDirectory(prefix="xlsdk-startup-") as tmp:
        folders = _CacheFolders(Path(tmp))
        for argv, _, cache in table.values():  # warm the file and bytecode caches (and the warm answer cache)
            run_once(argv, folders.for_run(cache))
        samples: dict[str, list[float]] = {name: [] for name in table}
        for _ in range(repeats):
            for name, (argv, _, cache) in table.items():
                samples[name].append(run_once(argv, folders.for_run(cache)))
        medians = {name: statistics.median(values) for name, values in samples.items()}
        report: dict[str, dict[str, object]] = {}
        for name, (argv, peer_name, cache) in table.items():
            report[name] = {
                "median_s": round(medians[name], 4),
                "min_s": round(min(samples[name]), 4),
                "peer": peer_name,
                "ratio": round(medians[name] / medians[peer_name], 2) if peer_name else None,
                "heavy_imports": heavy_imports(argv, folders.for_run(cache)) if peer_name else [],
                "cache": cache,
            }
    return report


def markdown(report: dict[str, dict[str, object]]) -> str:
    """The docs table: one row per command, its median, its peer and the ratio, and what heavy it imported."""
    lines = ["| command | median s | peer | ratio | heavy imports |", "|---|---|---|---|---|"]
    for name, row in report.items():
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else ""
        peer = f"`{row['peer']}`" if row["peer"] else "(peer)"
        heavy = (", ".join(row["heavy_imports"]) or "none") if row["peer"] else ""  # type: ignore[arg-type]
        lines.append(f"| `{name}` | {row['median_s']:.3f} | {peer} | {ratio} | {heavy} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--hand", default="inspire")
    parser.add_argument("--max-ratio", type=float, default=3.0)
    parser.add_argument("--json", type=Path, help="Also write the report here.")
    parser.add_argument("--write-docs", action="store_true", help="update the table in docs/benchmarks/startup.md")
    args = parser.parse_args()
    report = measure(args.repeats, args.hand)
    print(f"{'command':28s} {'median s':>9s} {'min s':>7s}  {'ratio':>6s}  peer / heavy imports")
    over = []
    for name, row in report.items():
        ratio = f"{row['ratio']:.2f}x" if row["ratio"] is not None else ""
        extra = f"vs {row['peer']!r}; heavy: {', '.join(row['heavy_imports']) or 'none'}" if row["peer"] else "(peer)"
        print(f"{name:28s} {row['median_s']:9.3f} {row['min_s']:7.3f}  {ratio:>6s}  {extra}")
        if row["ratio"] is not None and row["ratio"] > args.max_ratio and name != FLOOR and row["cache"] != "cold":
            over.append(name)
    print(f"({args.repeats} rounds, medians; target: every ratio <= {args.max_ratio:g}x)")
    if args.json:
        from xlsdk.files import write_json_atomic

        write_json_atomic(args.json, {"repeats": args.repeats, "max_ratio": args.max_ratio, "commands": report})
    if args.write_docs:
        from docs_tables import replace_marked_block

        stamp = (f"_Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, Python {platform.python_version()}, "
                 f"{args.repeats} rounds, medians._")
        replace_marked_block(DOCS_PAGE, "startup-table", f"{stamp}\n\n{markdown(report)}")
    if over:
        print(f"over target: {', '.join(over)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
