"""Every hand of the import corpus (tests/data/hands/), scaffolded, fitted at default settings, checked.

For each URDF/xacro/MJCF file of the corpus: ``xlsdk new-hand NAME --urdf FILE --yes`` into a
temporary directory, the scaffolded plugin registered in-process from its folder (no pip install, the
way the tests register hands), ``fit_head`` with the default :class:`~xlsdk.latent.fit.FitConfig`,
then every ``xlsdk check`` conformance check. Prints one line per hand: DOF, fit seconds (wall and
CPU), steps, held-out reconstruction, the check's geometry error (and the hand's reachable floor where
the check measured it), and the check's pass/fail with the failing checks.

``--physics`` adds ``xlsdk check HAND --physics`` (issue 25) for every hand the geometry allows
(:func:`physics_eligible`: a thumb and two or more fingers, the handedness decided; jaw2 and gripper3 are
left out): per object, held or dropped, the grasp that held it and the check's diagnosis, and the
check's seconds. ``--workdir DIR``
keeps the scaffolded, fitted plugins there and reuses a hand whose head is already fitted (so the physics
check can be rerun after a change to the grasp synthesis without refitting). ``--save-heads DIR`` copies
each hand's head files, byte for byte as the fit wrote them, to ``DIR/<hand>/``: the suite's shipped
default fits (tests/data/corpus_heads/, read by tests/test_physics_corpus.py) are regenerated with
``--physics --physics-only --save-heads tests/data/corpus_heads``.

Run: ``.venv/bin/python benchmarks/corpus_fit.py [--hands numbered16 five22 ...] [--physics] [--workdir DIR]
[--save-heads DIR] [--json PATH]``.
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


def physics_eligible(name: str) -> bool:
    """The suite's rule (tests/test_physics_corpus.py): a thumb, two or more fingers, a decided handedness."""
    from test_physics_corpus import physics_eligible as rule

    return rule(name)


def register(manifests: list[Path], plugin_name: str = "benchmark-corpus") -> None:
    """Make the scaffolded hands loadable by name in this process."""
    from conftest import HandPlugin  # the suite's in-memory plugin: what `pip install -e` would register

    from xlsdk.plugins import get_plugin_host

    get_plugin_host().register(HandPlugin(*manifests), name=plugin_name)


def physics_row(name: str, out_dir: Path | None = None) -> dict[str, Any]:
    """``xlsdk check NAME --physics`` on a fitted hand: objects held, per-object verdict, seconds."""
    from xlsdk.conformance import _check_physics

    started = time.perf_counter()
    result = _check_physics(name, out_dir)
    seconds = time.perf_counter() - started
    objects = {key: value for key, value in result.details.items() if isinstance(value, dict)}
    return {"physics_passed": result.passed, "physics_s": round(seconds, 1),
            "held": sorted(key for key, value in objects.items() if value.get("held")),
            "objects": {key: {"held": value["held"], "grasp": value["grasp"], "lifted_mm": value["lifted_mm"],
                              "diagnosis": value["diagnosis"], "attempts": value["attempts"]}
                        for key, value in objects.items()}}


def fit_and_check(name: str, *, physics: bool = False, reuse: bool = False,
                  out_dir: Path | None = None) -> dict[str, Any]:
    """Fit ``name`` at default settings (unless ``reuse`` and it has a fitted head), run every conformance
    check on it, and with ``physics`` the physics check where the geometry allows it."""
    import xlsdk
    from xlsdk.conformance import run_checks
    from xlsdk.latent.fit import FitConfig, fit_head
    from xlsdk.latent.head_loading import head_status

    hand = xlsdk.load_hand(name)
    cpu = time.process_time()
    fit: dict[str, Any] = {"fit_s": 0.0, "steps": 0, "recon_rad": float("nan")}
    if not (reuse and head_status(hand).state == "fitted"):
        result = fit_head(hand, core_hands=xlsdk.load_core_hands(), config=FitConfig(), progress=False)
        fit = {"fit_s": round(result.seconds, 1), "steps": result.steps,
               "recon_rad": round(result.metrics["recon_rad"], 4)}
    cpu = time.process_time() - cpu
    report = run_checks(name)
    failed = {r.check: r.message for r in report.results if not r.passed}
    latent = next((r.details for r in report.results if r.check == "latent"), {})
    row = {"hand": name, "dof": hand.dof, **fit, "fit_cpu_s": round(cpu, 1),
           "check_recon_rad": latent.get("recon_rad"), "check_geometry": latent.get("geometry_error"),
           "check_floor": latent.get("reachable_floor"),
           "passed": report.passed, "failed": failed}
    if physics and physics_eligible(name):
        row.update(physics_row(name, out_dir))
    return row


def save_head(name: str, destination: Path) -> list[Path]:
    """Copy ``name``'s head files (the installed core latent's) unchanged into ``destination/<name>/``.

    Unchanged because the copy is what the suite installs into a fresh scaffold: ``head.json`` checksums
    the weights and records the hand's kinematic digest and the core latent's fingerprint, so a copy of
    a head fitted for another version of the scaffold or of the core latent is refused as stale there.
    """
    import shutil

    import xlsdk
    from xlsdk.latent.head_loading import head_files, installed_core_manifest

    folder = destination / name
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for path in head_files(xlsdk.load_hand(name), installed_core_manifest().fingerprint):
        copied.append(Path(shutil.copyfile(path, folder / path.name)))
    return copied


def physics_line(row: dict[str, Any]) -> str:
    """One line per hand: objects held of three, and each dropped object's diagnosis."""
    if "physics_passed" not in row:
        return f"{row['hand']:16s} physics: not asked (the geometry has no thumb and two fingers)"
    verdicts = "; ".join(f"{obj} {'held (' + v['grasp'] + ')' if v['held'] else 'dropped: ' + v['diagnosis']}"
                         for obj, v in row["objects"].items())
    return (f"{row['hand']:16s} physics {'PASS' if row['physics_passed'] else 'FAIL'} "
            f"{len(row['held'])}/{len(row['objects'])} in {row['physics_s']:.0f} s: {verdicts}")


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
    parser.add_argument("--physics", action="store_true", help="add `check --physics` where the geometry allows it")
    parser.add_argument("--workdir", type=Path, help="keep the fitted plugins here; reuse fitted heads found there")
    parser.add_argument("--save-heads", type=Path, metavar="DIR",
                        help="copy each fitted hand's head.safetensors + head.json to DIR/<hand>/ (the suite's shipped heads)")
    parser.add_argument("--physics-only", action="store_true",
                        help="only the hands the physics check applies to (with --physics)")
    args = parser.parse_args()
    from xlsdk.files import write_json_atomic

    files = corpus_files()
    chosen = args.hands or list(files)
    if args.physics_only:
        chosen = [name for name in chosen if physics_eligible(name)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="xlsdk-corpus-") as tmp:
        workdir = args.workdir or Path(tmp)
        manifests = {}
        for name in chosen:
            found = sorted((workdir / name).rglob("hand.toml")) if args.workdir else []
            manifests[name] = found[0] if found else scaffold(name, files[name], workdir)
        register(list(manifests.values()))
        for name in chosen:
            try:
                row = fit_and_check(name, physics=args.physics, reuse=args.workdir is not None,
                                    out_dir=workdir if args.workdir else None)
            except Exception as exc:  # noqa: BLE001 - a benchmark reports every hand, whatever breaks
                row = {"hand": name, "dof": 0, "fit_s": 0.0, "fit_cpu_s": 0.0, "steps": 0, "recon_rad": float("nan"),
                       "check_recon_rad": None, "check_geometry": None, "check_floor": None, "passed": False,
                       "failed": {"fit": f"{type(exc).__name__}: {exc}"}}
            if args.save_heads and row["failed"].get("fit") is None:
                save_head(name, args.save_heads)
            rows.append(row)
            print(line(row), flush=True)
            if args.physics:
                print(physics_line(row), flush=True)
            if args.json:  # after every hand: a long run leaves what it measured even when stopped
                write_json_atomic(args.json, rows)
    print(f"{sum(r['passed'] for r in rows)}/{len(rows)} corpus hands pass `xlsdk check` after a default fit")
    if args.physics:
        from xlsdk.conformance.physics import CHECK_OBJECTS, MIN_HELD

        asked = [r for r in rows if "physics_passed" in r]
        print(f"{sum(r['physics_passed'] for r in asked)}/{len(asked)} hands the geometry allows pass "
              f"`xlsdk check --physics` (hold {MIN_HELD} of {len(CHECK_OBJECTS)} standard objects)")


if __name__ == "__main__":
    main()
