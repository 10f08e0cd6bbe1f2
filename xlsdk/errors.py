"""Error types of xlsdk.

Every error a user can cause is an :class:`XlsdkError`. Its message names the file, the field or the
joint/link at fault and says what to do; the CLI prints it as one red line and exits with code 1, never
with a traceback. Code that catches errors catches these types, not ``Exception``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


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


class HeadError(XlsdkError):
    """A hand's encoder/decoder head is missing, corrupt or belongs to another latent."""


class FingerprintMismatchError(HeadError):
    """A head was fitted against a core latent with a different fingerprint than the installed one."""


class LatentError(XlsdkError):
    """The core latent artifact is missing, corrupt or inconsistent."""


class DataFormatError(XlsdkError):
    """A trajectory or dataset file has a shape, column or type xlsdk cannot use."""


class DriverError(XlsdkError):
    """A hardware or simulated driver failed (connection, protocol, device fault)."""


class SafetyError(DriverError):
    """A command was refused by the safety layer (NaN/inf, wrong shape, hand stopped by the watchdog)."""
