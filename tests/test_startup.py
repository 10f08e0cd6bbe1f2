"""The startup rule: what `xlsdk --help`, `--version`, `hands` and `plugins` load stays light.

Two checks. From the source (ast): the modules on the listing path import no heavy package at module
level (a lazy import inside the function that needs it is the rule). In a real process: running the
commands leaves none of the heavy packages in ``sys.modules``. Speed itself is measured, against peers,
by benchmarks/startup.py, never asserted here.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "xlsdk"
HEAVY = ("torch", "pytorch_kinematics", "yourdfpy", "trimesh", "lerobot", "mujoco", "matplotlib", "viser", "scipy")
LIGHT_MODULES = sorted([
    *(PACKAGE / name for name in ("__init__.py", "hand.py", "hand_spec.py", "manifest.py", "plugins.py", "urdf.py",
                                  "errors.py", "catalog.py", "listen.py", "builtin.py", "hookspecs.py")),
    *(PACKAGE / "cli").glob("*.py"),
    *(PACKAGE / "drivers").glob("*.py"),
])


def _module_level_imports(path: Path) -> set[str]:
    """Imports executed when ``path`` is imported: top-level statements, not functions or TYPE_CHECKING."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, (ast.Try, ast.With)):
                visit(node.body)
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    return found


@pytest.mark.parametrize("path", LIGHT_MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_heavy_import_at_module_level(path: Path) -> None:
    heavy = sorted(name for name in _module_level_imports(path) if name.split(".")[0] in HEAVY)
    assert heavy == [], f"{path.name} imports {heavy} at module level: import them inside the function"


def test_the_checker_sees_module_level_imports_only(tmp_path: Path) -> None:
    probe = tmp_path / "startup_probe.py"
    source = ("import torch\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import lerobot\n"
              "def f():\n    import mujoco\ntry:\n    import viser\nexcept ImportError:\n    pass\n")
    probe.write_text(source)
    assert _module_level_imports(probe) == {"torch", "typing", "viser"}


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["hands", "--json"], ["hands"], ["plugins", "--json"],
                                  ["info", "inspire"]])  # info: fingertips and slots on the numpy FK
def test_listing_commands_load_no_heavy_package(argv: list[str]) -> None:
    code = ("import sys; from xlsdk.cli import main; code = main(sys.argv[1:]); "
            f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}); "
            "sys.stderr.write('HEAVY ' + repr(heavy) + '\\n'); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stderr, result.stderr[-500:]
    if "--json" in argv:
        json.loads(result.stdout)
