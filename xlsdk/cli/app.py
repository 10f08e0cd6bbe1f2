"""The typer application and the consoles every command prints through."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console

app = typer.Typer(
    name="xlsdk",
    help="Cross-hand latent action space for dexterous robot hands (XL-VLA).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console(highlight=False)
console_err = Console(stderr=True, highlight=False)


def _print_version(value: bool) -> None:
    if value:
        from xlsdk import __version__

        typer.echo(f"xlsdk {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print xlsdk's version and exit."),
) -> None:
    """Options of ``xlsdk`` itself (before the command)."""


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, nothing else."""
    typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
