"""Every hand of the import corpus (tests/data/hands/), scaffolded, fitted at default settings, checked.

For each URDF/xacro/MJCF file of the corpus: ``xlsdk new-hand NAME --urdf FILE --yes`` into a
temporary directory, the scaffolded plugin registered in-process from its folder (no pip install, the
way the tests register hands), ``fit_head`` with the default :class:`~xlsdk.latent.fit.FitConfig`,
then every ``xlsdk check`` conformance check. Prints one line per hand: DOF, fit seconds (wall and
CPU), steps, held-out reconstruction, the check's geometry error (and the hand's reachable floor where
the check measured it), and the check's pass/fail with the failing checks.

Run: ``.venv/bin/python benchmarks/corpus_fit.py [--hands numbered16 five22 ...] [--json PATH]``.
``benchmarks/budgets.py`` uses the same functions for its 16- and 22-DOF rows.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "hands"
_SUFFIXES = (".urdf", ".xacro", ".xml")
sys.path.insert(0, str(ROOT / "tests"))


def corpus_files(corpus: Path = CORPUS) -> dict[str, Path]:
    """Hand name -> model file, for every hand model of the corpus (mesh folders and helpers skipped)."""
    files: dict[str, Path] = {}
    for path in sorted(corpus.rglob("*")):
        if path.suffix not in _SUFFIXES or "meshes" in path.parts or not path.is_file():
            continue
        name = re.sub(r"[^a-z0-9_]", "_", path.name.split(".")[0].lower())
        files.setdefault(name, path)
    return files


def scaffold(name: str, model: Path, workdir: Path) -> Path:
    """``xlsdk new-hand NAME --urdf MODEL --yes`` into ``workdir``; the scaffolded hand.toml."""
    out = workdir / name
    result = subprocess.run([sys.executable, "-m", "xlsdk", "new-hand", name, "--urdf", str(model), "--yes",
                             "--out", str(out)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"new-hand {name} failed:\n{result.stdout}\n{result.stderr}")
    return next(out.rglob("hand.toml"))


def register(manifests: list[Path], plugin_name: str = "benchmark-corpus") -> None:
    """Make the scaffolded hands loadable by name in this process."""
    from conftest import HandPlugin  # the suite's in-memory plugin: what `pip install -e` would register

    from xlsdk.plugins import get_plugin_host

    get_plugin_host().register(HandPlugin(*manifests), name=plugin_name)


def fit_and_check(name: str) -> dict[str, Any]:
    """Fit ``name`` at default settings, then run every conformance check on it."""
    import xlsdk
    from xlsdk.conformance import run_checks
    from xlsdk.latent.fit import FitConfig, fit_head

    hand = xlsdk.load_hand(name)
    cpu = time.process_time()
    result = fit_head(hand, config=FitConfig(), progress=False)
    cpu = time.process_time() - cpu
    report = run_checks(name)
    failed = {r.check: r.message for r in report.results if not r.passed}
    latent = next((r.details for r in report.results if r.check == "latent"), {})
    return {"hand": name, "dof": hand.dof, "fit_s": round(result.seconds, 1), "fit_cpu_s": round(cpu, 1),
            "steps": result.steps, "recon_rad": round(result.metrics["recon_rad"], 4),
            "check_recon_rad": latent.get("recon_rad"), "check_geometry": latent.get("geometry_error"),
            "check_floor": latent.get("reachable_floor"),
            "passed": report.passed, "failed": failed}


def line(row: dict[str, Any]) -> str:
    floor = f" (reachable floor {row['check_floor']})" if row.get("check_floor") is not None else ""
    verdict = "PASS" if row["passed"] else "FAIL " + "; ".join(f"{k}: {v}" for k, v in row["failed"].items())
    return (f"{row['hand']:16s} {row['dof']:3d} DOF  fit {row['fit_s']:6.1f} s wall ({row['fit_cpu_s']:6.1f} s CPU, "
            f"{row['steps']} steps, recon {row['recon_rad']:.4f})  check recon {row['check_recon_rad']} "
            f"geometry {row['check_geometry']}{floor}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hands", nargs="*", help="corpus hand names (default: all)")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args()
    files = corpus_files()
    chosen = args.hands or list(files)
    rows = []
    with tempfile.TemporaryDirectory(prefix="xlsdk-corpus-") as tmp:
        manifests = {name: scaffold(name, files[name], Path(tmp)) for name in chosen}
        register(list(manifests.values()))
        for name in chosen:
            try:
                row = fit_and_check(name)
            except Exception as exc:  # noqa: BLE001 - a benchmark reports every hand, whatever breaks
                row = {"hand": name, "dof": 0, "fit_s": 0.0, "fit_cpu_s": 0.0, "steps": 0, "recon_rad": float("nan"),
                       "check_recon_rad": None, "check_geometry": None, "check_floor": None, "passed": False,
                       "failed": {"fit": f"{type(exc).__name__}: {exc}"}}
            rows.append(row)
            print(line(row), flush=True)
    print(f"{sum(r['passed'] for r in rows)}/{len(rows)} corpus hands pass `xlsdk check` after a default fit")
    if args.json:
        from xlsdk.files import write_json_atomic

        write_json_atomic(args.json, rows)


if __name__ == "__main__":
    main()
