"""Writing files so that nothing is ever half-written: temp file in the same directory, then rename.

Temporary files and staging folders are named ``.xlsdk-<pid>-<random>`` (``.tmp`` for files): short, so
a destination with a legal 255-byte name still gets a legal temporary name beside it, and owned, so a run
killed with SIGKILL (which no ``finally`` survives) leaves something the next run in that folder can tell
apart: an entry whose process is gone is removed before new staging is made there. A process that is
alive (this one included) keeps its entries; pids are those of this machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


_STAGING = re.compile(r"^\.xlsdk-(\d+)-[A-Za-z0-9_]+(\.tmp)?$")


def _staging_prefix() -> str:
    return f".xlsdk-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_staging(folder: Path | str) -> list[Path]:
    """Remove ``.xlsdk-<pid>-*`` entries of ``folder`` whose process no longer runs; returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _STAGING.match(entry.name)
        if match is None or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue  # not ours to force: leave it
        removed.append(entry)
    return removed


def staging_dir(destination: Path | str) -> Path:
    """A new, empty staging folder beside ``destination`` (stale ones of dead runs there removed first)."""
    folder = Path(destination).parent
    remove_stale_staging(folder)
    return Path(tempfile.mkdtemp(prefix=_staging_prefix(), dir=folder))


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` in one rename.

    On any error the temporary file is removed and ``path`` is left exactly as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=_staging_prefix(), suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; the final file gets ordinary permissions
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes_atomic(path: Path | str, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: Path | str, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path | str, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_with_atomic(path: Path | str, writer: Callable[[Path], None]) -> None:
    """Let ``writer`` produce the file at a temporary path, then move it into place."""
    with atomic_path(path) as tmp:
        writer(tmp)
