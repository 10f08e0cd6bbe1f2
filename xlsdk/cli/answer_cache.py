"""Answers of ``xlsdk hands`` and ``xlsdk info HAND``, kept per user and keyed by every file behind them.

Why a cache: those commands are what a user types first and what a script calls in a loop, and the
answer is a pure function of files on disk, yet computing it costs about 4x ``import pydantic`` before
any of xlsdk's work (numpy and lxml for the URDF reader, pydantic's first model scanning every installed
distribution, the entry-point scan), measured in docs/benchmarks/startup.md. A run that finds its answer
here prints it without importing pydantic models, numpy, lxml or the plugins.

Why it cannot go stale. The key is everything the answer was computed from, observed rather than
listed by hand, so a new reader of a new file is covered without touching this module:

* the context: the command and its options, xlsdk's and Python's version, the interpreter, ``sys.path``,
  the working directory and every ``XLSDK_*`` variable;
* every file and folder the computation opened or listed (a :func:`sys.addaudithook` hook sees the
  ``open``/``os.listdir``/``os.scandir`` events: manifests, URDFs, head files, the core latent, each
  distribution's ``entry_points.txt`` and ``METADATA`` and the ``site-packages`` folders, so a plugin
  installed or removed changes the key), the folder holding each (a file created where one was looked
  for), and the source of every module loaded (a plugin's code edited in place);
* every path an ``XLSDK_*`` variable names, and its folder (a path only probed with ``is_file()``, which
  no audit event reports, is seen where a variable points: the core latent of ``XLSDK_CORE_LATENT``);
* each as (size, mtime_ns, ctime_ns, inode), compared on every hit (a few hundred ``stat`` calls).

What the hook cannot see is a file a C extension opens by itself; on this path every file is read
through Python (the URDF reader hands lxml bytes, safetensors gets bytes), and a new reader that is
not must add its files here.

A file changed within :data:`RACY_NS` before the computation started may change again within the same
timestamp tick, so such an answer is not stored (git's "racy" rule); nor is one whose computation
wrote to stdout or stderr (a warning a stored answer would swallow), nor one computed while a plugin
host already exists in the process (in-memory plugins no file records). The entry file is plain JSON,
checked by hand rather than by a pydantic model because importing pydantic's model machinery is the
cost being avoided; anything unexpected in it is a miss, never an error. Errors are never stored.

Switches: ``XLSDK_CACHE_DIR`` (default ``$XDG_CACHE_HOME/xlsdk``, else ``~/.cache/xlsdk``) and
``XLSDK_NO_CACHE=1`` (compute every time).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

CACHE_DIR_ENV = "XLSDK_CACHE_DIR"
NO_CACHE_ENV = "XLSDK_NO_CACHE"
#: bump when the entry layout or what the key covers changes (old entries then miss)
FORMAT = 1
#: a file whose mtime or ctime is this close to the computation's start is "racy": the answer is not stored
RACY_NS = 2_000_000_000

Answer = dict[str, Any]
#: one recorded path: (path, size, mtime_ns, ctime_ns, inode), the four None when the path does not exist
Stamp = tuple[str, int | None, int | None, int | None, int | None]


def cache_dir() -> Path | None:
    """Where entries live, or None when ``XLSDK_NO_CACHE`` switches the cache off."""
    if os.environ.get(NO_CACHE_ENV, "") not in ("", "0"):
        return None
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "xlsdk"


def cached_answer(command: str, options: dict[str, Any], compute: Callable[[], Answer]) -> Answer:
    """``compute()``'s answer (a JSON-able dict), from the cache when nothing behind it changed.

    ``command`` and ``options`` name the question (they are part of the key); ``compute`` must be the
    whole computation, plugin loading included, so that every file it reads is seen.
    """
    where = _entry(command, options)
    if where is None:
        return compute()
    entry_path, context = where
    answer = _read_entry(entry_path, context)
    if answer is not None:
        return answer
    started = time.time_ns()
    before = set(sys.modules)
    with _Recording() as recording:
        answer = compute()
    stamps = recording.stamps(new_modules=set(sys.modules) - before)
    if recording.wrote_output or recording.failed or any(_racy(stamp, started) for stamp in stamps):
        return answer
    _write_entry(entry_path, {"format": FORMAT, "context": context, "files": stamps, "answer": answer})
    return answer


def stored_answer(command: str, options: dict[str, Any]) -> Answer | None:
    """The stored answer to ``command`` with ``options`` when nothing behind it changed, else None
    (what the command line prints before typer parses anything: see :mod:`xlsdk.cli.stored_commands`)."""
    where = _entry(command, options)
    return None if where is None else _read_entry(*where)


def _entry(command: str, options: dict[str, Any]) -> tuple[Path, dict[str, Any]] | None:
    """The entry file for this question in this context, and the context; None when the cache is not used."""
    folder = cache_dir()
    if folder is None or _plugin_host_exists():
        return None
    context = _context(command, options)
    digest = hashlib.sha256(json.dumps(context, sort_keys=True).encode()).hexdigest()[:24]
    return folder / f"{command}-{digest}.json", context


def _plugin_host_exists() -> bool:
    """A host built in this process may hold in-memory plugins (tests, notebooks) that no file records."""
    plugins = sys.modules.get("xlsdk.plugins")
    return plugins is not None and plugins.has_plugin_host()


def _context(command: str, options: dict[str, Any]) -> dict[str, Any]:
    from xlsdk.version import __version__

    return {
        "format": FORMAT,
        "command": command,
        "options": options,
        "xlsdk": __version__,
        "python": sys.version,
        "executable": sys.executable,
        "cwd": os.getcwd(),
        "sys_path": [os.path.abspath(entry) for entry in sys.path],
        "env": _xlsdk_variables(),
    }


def _xlsdk_variables() -> dict[str, str]:
    """The ``XLSDK_*`` variables an answer may depend on (the cache's own two are not among them)."""
    return {name: value for name, value in sorted(os.environ.items())
            if name.startswith("XLSDK_") and name not in (CACHE_DIR_ENV, NO_CACHE_ENV)}


def _stamp(path: str) -> Stamp:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return (path, None, None, None, None)
    return (path, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _racy(stamp: Stamp, started_ns: int) -> bool:
    _, _, mtime, ctime, _ = stamp
    return any(t is not None and t >= started_ns - RACY_NS for t in (mtime, ctime))


def _read_entry(path: Path, context: dict[str, Any]) -> Answer | None:
    """The stored answer when the entry is well-formed, for this context, and every stamp still holds."""
    try:
        entry = json.loads(path.read_bytes())
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("context") != context:
            return None
        answer, stamps = entry["answer"], entry["files"]
        if not isinstance(answer, dict) or not isinstance(stamps, list) or not stamps:
            return None
        for stamp in stamps:
            if not isinstance(stamp, list) or len(stamp) != 5 or not isinstance(stamp[0], str):
                return None
            if _stamp(stamp[0]) != tuple(stamp):
                return None
        return answer
    except (OSError, ValueError, KeyError, TypeError):  # missing, unreadable, truncated, not ours: a miss
        return None


def _write_entry(path: Path, entry: dict[str, Any]) -> None:
    """Temp file + rename (a reader never sees half an entry); an unwritable cache costs speed, not the answer."""
    from xlsdk.files import write_text_atomic

    try:
        write_text_atomic(path, json.dumps(entry, separators=(",", ":")))
    except OSError:
        pass


class _Output:
    """Passes writes through to the real stream and notes that there were some."""

    def __init__(self, stream: TextIO, recording: _Recording) -> None:
        self._stream = stream
        self._recording = recording

    def write(self, text: str) -> int:
        if text:
            self._recording.wrote_output = True
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _Recording:
    """Within ``with``: the paths opened or listed (through the audit hook) and whether anything was printed."""

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.folders: set[str] = set()
        self.wrote_output = False
        self.failed = False  # a path the hook could not note: the answer is not stored

    def __enter__(self) -> _Recording:
        global _active
        _install_audit_hook()
        self._streams = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = _Output(sys.stdout, self), _Output(sys.stderr, self)  # type: ignore[assignment]
        _active = self
        return self

    def __exit__(self, *exc: object) -> None:
        global _active
        _active = None
        sys.stdout, sys.stderr = self._streams

    def note(self, event: str, path: object) -> None:
        if path is None and event != "open":
            path = "."  # os.listdir() / os.scandir() of the working directory
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str | os.PathLike):
            return  # a file descriptor: its path was seen when it was opened
        path = os.path.abspath(path)
        if "__pycache__" in path or path.startswith(_VIRTUAL):
            return  # bytecode is derived (the module's source is recorded instead); /proc and the like are no files
        (self.files if event == "open" else self.folders).add(path)

    def stamps(self, new_modules: set[str]) -> list[Stamp]:
        """Every recorded path, each file's folder, the source of every module loaded, and every path an
        ``XLSDK_*`` variable names with its folder, stamped now."""
        paths = set(self.files) | self.folders
        # a path only probed (``is_file()``, no audit event) where a variable points: XLSDK_CORE_LATENT=DIR
        # that does not exist yet answers "no core latent" until DIR appears
        for value in _xlsdk_variables().values():
            for part in filter(None, value.split(os.pathsep) if os.sep in value else []):
                paths.update({os.path.abspath(part), os.path.dirname(os.path.abspath(part))})
        # a file's folder too: a sibling probed without opening (``is_file()``) may appear there; not for
        # sys.path entries probed as zip archives (``__editable__...`` finder names), which the context keys
        entries = {os.path.abspath(entry) for entry in sys.path}
        paths.update(os.path.dirname(path) for path in self.files if path not in entries)
        for name in new_modules | {name for name in sys.modules if name.split(".")[0] == "xlsdk"}:
            source = getattr(sys.modules.get(name), "__file__", None)
            if isinstance(source, str):
                paths.add(os.path.abspath(source))
        return [_stamp(path) for path in sorted(paths)]


#: the recording in progress; audit hooks cannot be removed, so one hook is installed per process and
#: forwards to whichever recording is active (none, most of the time: then it returns at once)
_active: _Recording | None = None
_hook_installed = False
_EVENTS = ("open", "os.listdir", "os.scandir")
#: kernel views (torch reads /proc/self/...): their times are the process's own, not a file's edit
_VIRTUAL = ("/proc/", "/sys/", "/dev/")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    recording = _active
    if recording is not None and event in _EVENTS:
        try:
            if event != "open" or _reads_existing(*args[1:3]):
                recording.note(event, args[0] if args else None)
        except Exception:  # never break the open being audited; an incomplete record is just not stored
            recording.failed = True


def _reads_existing(mode: object, flags: object) -> bool:
    """Whether an ``open`` reads what was there: not a file opened only to be written or newly created
    (``tempfile`` probing its folder, say), which is output, not something the answer was computed from."""
    if isinstance(mode, str):
        return "r" in mode
    return not (flags if isinstance(flags, int) else 0) & (os.O_WRONLY | os.O_TRUNC | os.O_EXCL)


def _install_audit_hook() -> None:
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)
        _hook_installed = True
