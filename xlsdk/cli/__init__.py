"""The ``xlsdk`` command line: thin commands that parse, call the library and print.

Each command lives in its own module and registers itself on :data:`app`. Errors the user can cause
(:class:`xlsdk.XlsdkError`) become one red line on stderr and exit code 1; usage errors exit with 2.

Startup: every module here imports only typer and the app at module level; the library (and torch,
yourdfpy, lerobot, viser...) is imported inside the command that runs, so ``xlsdk --help`` and
``xlsdk hands`` answer at once (``benchmarks/startup.py`` measures it, ``tests/test_layers.py`` keeps it).
"""

from __future__ import annotations

import sys

from xlsdk.cli.app import app, console_err
from xlsdk.errors import XlsdkError

# importing the command modules registers them on `app`
from xlsdk.cli import hands as _hands  # noqa: E402,F401
from xlsdk.cli import info as _info  # noqa: E402,F401
from xlsdk.cli import latent as _latent  # noqa: E402,F401
from xlsdk.cli import fit as _fit  # noqa: E402,F401
from xlsdk.cli import retarget as _retarget  # noqa: E402,F401
from xlsdk.cli import new_hand as _new_hand  # noqa: E402,F401
from xlsdk.cli import check as _check  # noqa: E402,F401
from xlsdk.cli import publish as _publish  # noqa: E402,F401
from xlsdk.cli import demo as _demo  # noqa: E402,F401
from xlsdk.cli import view as _view  # noqa: E402,F401
from xlsdk.cli import drive as _drive  # noqa: E402,F401
from xlsdk.cli import policy as _policy  # noqa: E402,F401
from xlsdk.cli import bench as _bench  # noqa: E402,F401
from xlsdk.cli import plugins as _plugins  # noqa: E402,F401
from xlsdk.cli import teleop as _teleop  # noqa: E402,F401


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``xlsdk`` script; returns the exit code."""
    from xlsdk.cli.stored_commands import print_stored_answer

    if print_stored_answer(sys.argv[1:] if argv is None else list(argv)):
        return 0  # a listing whose files are unchanged since it was computed: printed without typer
    try:
        # without standalone mode click *returns* the code of a `typer.Exit` (and of --help) instead of
        # exiting; commands themselves return None
        code = app(args=argv, prog_name="xlsdk", standalone_mode=False)
    except XlsdkError as exc:
        from rich.markup import escape  # messages quote TOML tables ([limits.j]) and vectors ([nan, 1.0])

        console_err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        console_err.print("[yellow]interrupted[/]")
        return 130
    except SystemExit as exc:  # typer.Exit inside commands
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        # typer vendors its own copy of click, so recognise its exceptions by shape, not by class
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            return exc.exit_code
        if type(exc).__name__ == "Abort":
            console_err.print("[yellow]aborted[/]")
            return 1
        raise
    return code if isinstance(code, int) else 0


def run() -> None:
    sys.exit(main())


__all__ = ["app", "main", "run"]
