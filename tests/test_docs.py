"""The documentation cannot drift: it builds strictly, documents every hook, and its commands run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from docs_blocks import DOCS, command_blocks, commands

from xlsdk import hookspecs

ROOT = DOCS.parent
# pages whose blocks run here; add-your-hand.md and publish-your-hand.md run in test_vendor_journey.py (it
# installs a plugin)
EXECUTED_HERE = ["quickstart.md", "tutorials/retarget-a-trajectory.md", "tutorials/write-a-driver.md",
                 "tutorials/train-a-cross-hand-policy.md", "tutorials/from-your-hand.md"]


def test_mkdocs_builds_strictly(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    cli_page = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text()
    for command in ("xlsdk hands", "xlsdk new-hand", "xlsdk latent train", "xlsdk fit", "xlsdk check"):
        assert command in cli_page, f"{command} missing from the generated CLI reference"


def test_every_hook_is_in_the_hook_reference() -> None:
    page = (DOCS / "reference" / "hooks.md").read_text()
    hooks = [name for name in dir(hookspecs) if name.startswith("xlsdk_")]
    for name in hooks:
        assert name in page, f"hook {name} is not documented in docs/reference/hooks.md"


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in DOCS.rglob("*.md"):
        relative = page.relative_to(DOCS).as_posix()
        assert relative in nav, f"{relative} is not reachable from the navigation"


def _executed_elsewhere() -> dict[str, list[str]]:
    """Pages another test module executes, with the commands that module actually runs.

    The vendor journey (it installs a plugin) runs add-your-hand.md then publish-your-hand.md: its
    ``executed_pages()`` must be those pages' commands, read from the pages, not names in a comment.
    """
    import test_vendor_journey

    return test_vendor_journey.executed_pages()


def test_every_tutorial_block_is_executed_somewhere() -> None:
    elsewhere = _executed_elsewhere()
    assert elsewhere == {page: commands(DOCS / page)
                         for page in ("tutorials/add-your-hand.md", "tutorials/publish-your-hand.md")}
    assert all(elsewhere.values()), "the journey runs at least one command"
    covered = set(EXECUTED_HERE) | set(elsewhere)
    for page in [*(DOCS / "tutorials").glob("*.md"), DOCS / "quickstart.md"]:
        relative = page.relative_to(DOCS).as_posix()
        runnable = [b for b in command_blocks(page) if not b.illustrative]
        if runnable:
            assert relative in covered, f"the command blocks of {relative} are not executed by any test"
    for relative in EXECUTED_HERE:
        assert [b for b in command_blocks(DOCS / relative) if not b.illustrative], f"{relative} has nothing to run"


@pytest.mark.parametrize("page", EXECUTED_HERE)
def test_page_blocks_run(page: str, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for block in command_blocks(DOCS / page):
        if block.illustrative:
            continue
        if block.language == "python":
            argv = [sys.executable, "-c", block.text]
        else:
            argv = ["bash", "-euo", "pipefail", "-c", block.text]
        result = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{page}: block failed\n{block.text}\n{result.stdout}\n{result.stderr}"
