"""Error types of xlsdk.

Every error a user can cause is an :class:`XlsdkError`. Its message names the file, the field or the
joint/link at fault and says what to do; the CLI prints it as one red line and exits with code 1, never
with a traceback. Code that catches errors catches these types, not ``Exception``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal


class XlsdkError(Exception):
    """Base class of every error xlsdk raises on purpose.

    ``hint`` is the action that fixes the problem (a command to run, a field to edit); it is appended to
    the message so that a log line alone is enough to act on.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message)


class ManifestError(XlsdkError):
    """A hand manifest (``hand.toml``) is unreadable, malformed or contradicts its URDF."""

    def __init__(self, path: Path | str, problems: Sequence[str], *, hint: str | None = None) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        body = self.problems[0] if len(self.problems) == 1 else "\n".join(f"  - {p}" for p in self.problems)
        sep = " " if len(self.problems) == 1 else "\n"
        super().__init__(f"{self.path}:{sep}{body}", hint=hint)


class UrdfError(XlsdkError):
    """A URDF file is not XML, or its kinematic tree is broken. One entry of ``problems`` per problem."""

    def __init__(self, path: Path | str, problems: Sequence[str]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        if len(self.problems) == 1:
            text = f"{self.path}: {self.problems[0]}"
        else:
            text = f"{self.path}: {len(self.problems)} problems\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text)


class UnknownHandError(XlsdkError):
    """A hand name that no installed plugin provides."""

    def __init__(self, name: str, installed: Sequence[str]) -> None:
        self.name = name
        self.installed = list(installed)
        listing = ", ".join(self.installed) if self.installed else "none"
        super().__init__(
            f"unknown hand {name!r}; installed hands: {listing}",
            hint="run `xlsdk hands` to list them, or `pip install` the plugin that provides it",
        )


class PluginConflictError(XlsdkError):
    """Two plugins claim the same hand name (or driver name)."""


class BrokenPluginError(XlsdkError):
    """A hand was requested whose plugin failed to load; the message carries the plugin's reason."""


#: why a head was refused: a file is missing; unreadable or inconsistent; fitted for another version of
#: the hand; against another core latent; or it does not match the hand it is loaded for
HeadReason = Literal["missing", "corrupt", "stale", "fingerprint", "mismatch"]


class HeadError(XlsdkError):
    """A hand's encoder/decoder head is missing, corrupt, stale or belongs to another latent.

    ``reason`` says which (:data:`HeadReason`), so that callers such as ``head_status`` branch on it
    instead of on the message text.
    """

    def __init__(self, message: str, *, reason: HeadReason = "corrupt", hint: str | None = None) -> None:
        self.reason: HeadReason = reason
        super().__init__(message, hint=hint)


class FingerprintMismatchError(HeadError):
    """A head was fitted against a core latent with a different fingerprint than the installed one."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, reason="fingerprint", hint=hint)


class LatentError(XlsdkError):
    """The core latent artifact is missing, corrupt or inconsistent."""


class DataFormatError(XlsdkError):
    """A trajectory or dataset file has a shape, column or type xlsdk cannot use."""


class ShapeError(DataFormatError, ValueError):
    """An array handed to the Python API has the wrong rank or width (also a ValueError, as numpy's are)."""


class PolicyError(XlsdkError):
    """A policy does not fit what it is used with: its action width, the hand attached, the latent installed."""


class SlotLayoutError(PolicyError):
    """A hand has more joints on one finger than the fixed functional-slot layout holds (see xlsdk.joint_slots)."""


class PublishError(XlsdkError):
    """``xlsdk publish`` refuses a plugin (no or stale head, a mesh the package lacks, no license) or its wheel
    fails to build, install or pass ``xlsdk check`` in a clean environment."""


class NewHandError(XlsdkError):
    """``xlsdk new-hand`` cannot scaffold the plugin as asked (a name, a destination, an answer)."""


class UnknownCheckError(XlsdkError, ValueError):
    """A conformance check name that is not one of the checks."""


class UnknownTaskError(PolicyError, ValueError):
    """A cross-hand task name that is not one of the benchmark's tasks."""


class PolicyConfigError(PolicyError, ValueError):
    """A policy configuration holds impossible values (also a ValueError, which LeRobot's config parser expects)."""


class OutputExistsError(DataFormatError):
    """An output file already exists and replacing it was not asked for (``path`` is the file)."""

    def __init__(self, path: Path | str, *, hint: str | None = None) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: already exists; nothing was written", hint=hint)


class DriverError(XlsdkError):
    """A hardware or simulated driver failed (connection, protocol, device fault)."""


class SafetyError(DriverError):
    """A command was refused by the safety layer (NaN/inf, wrong shape, hand stopped by the watchdog)."""


class PhysicsError(XlsdkError):
    """The MuJoCo world cannot be built, stepped or rendered (compile error, divergence, no OpenGL)."""


class ListenAddressError(XlsdkError):
    """A host or port a local server (``xlsdk view``) cannot listen on: out of range, busy, not this machine's."""


class DeviceError(XlsdkError, ValueError):
    """A torch device was asked for that this machine does not have (or that is no device name)."""


def field_location(error: Mapping[str, Any]) -> str:
    """Where one pydantic error points, as the dotted path a user finds in the file (``palm_frame.rpy.0``)."""
    return ".".join(str(part) for part in error["loc"] if part != "[key]") or "(top level)"


def validation_problems(exc: Exception, *, limit: int | None = None,
                        describe: Callable[[Mapping[str, Any]], str | None] | None = None) -> list[str]:
    """pydantic's errors as "field `where`: message" lines, the one formatter every boundary uses.

    ``describe`` may word a kind of error better for its file (a manifest's "not a manifest field", a
    driver's "not an option"); it returns None for the errors it leaves to the plain wording. An
    exception without ``errors()`` (a plain ValueError from a JSON parser) is its first line.
    """
    errors = exc.errors() if callable(getattr(exc, "errors", None)) else None  # type: ignore[attr-defined]
    if not errors:
        text = str(exc).strip()
        return [text.splitlines()[0] if text else type(exc).__name__]
    lines: list[str] = []
    for error in errors[:limit]:
        better = describe(error) if describe is not None else None
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(better if better is not None else f"field `{field_location(error)}`: {message}")
    return lines
