"""``xlsdk hands``: the installed hands, their plugins, heads and drivers; broken plugins with reasons."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape  # reasons quote TOML tables like [limits.j]

from xlsdk.cli.app import app, console, print_json


@app.command("hands")
def hands_command(
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    include_core: bool = typer.Option(False, "--all", help="Also list the core's canonical hand."),
) -> None:
    """List installed hands: plugin, DOF, fingers, head status and drivers; broken plugins with reasons."""
    from xlsdk.cli.answer_cache import cached_answer

    # the answer as JSON data, from the cache when no file behind it changed (the table is drawn from it either way)
    answer = cached_answer("hands", hands_options(json_output=json_output, include_core=include_core),
                           lambda: _hands_answer(include_core=include_core, table=not json_output))
    print_hands(answer, json_output=json_output)


def hands_options(*, json_output: bool, include_core: bool) -> dict[str, bool]:
    """The question ``xlsdk hands`` asks, as the answer cache keys it (here and in :mod:`xlsdk.cli.stored_commands`)."""
    return {"all": include_core, "json": json_output}


def print_hands(answer: dict[str, Any], *, json_output: bool) -> None:
    """Print the listing (``_hands_answer``'s data) as JSON or as the table."""
    listing = answer["listing"]
    if json_output:
        print_json(listing)
        return
    from rich.table import Table

    table = Table(title="xlsdk hands", title_justify="left")
    for column in ("hand", "distribution", "DOF", "fingers", "head", "heads for core", "drivers"):
        table.add_column(column, overflow="fold")
    installed = answer["installed"]
    for row in listing["hands"]:
        dist = f"{row['distribution'] or row['plugin']} {row['version'] or ''}".strip()
        head_style = {"fitted": "green", "none": "yellow"}.get(row["head"], "red")
        carried = ", ".join(f"{fp[:12]}*" if fp == installed else fp[:12] for fp in row["head_fingerprints"])
        table.add_row(row["name"], dist, str(row["dof"]), ", ".join(row["fingers"]), f"[{head_style}]{row['head']}[/]",
                      carried or "-", ", ".join(row["drivers"]))
    console.print(table)
    if installed and any(row["head_fingerprints"] for row in listing["hands"]):
        console.print(f"* the installed core latent ({installed[:12]})")
    for problem in listing["broken"]:
        who, plugin, error = problem["name"] or problem["plugin"], problem["plugin"], problem["error"]
        console.print(f"[red]broken[/] {escape(f'{who} (plugin {plugin}): {error}')}", soft_wrap=True)
    if not listing["hands"]:
        console.print("no hands installed: `pip install xlsdk-inspire` or scaffold one with `xlsdk new-hand`")


def _hands_answer(*, include_core: bool, table: bool) -> dict[str, Any]:
    """The listing as JSON data, and for the table the installed core latent's fingerprint it stars."""
    from xlsdk.catalog import hands_listing

    listing = hands_listing(include_core=include_core).model_dump(mode="json")
    return {"listing": listing, "installed": _installed_fingerprint() if table else None}


def _installed_fingerprint() -> str | None:
    """The installed core latent's fingerprint (manifest only, no torch), None without one."""
    from xlsdk.errors import LatentError
    from xlsdk.latent.head_loading import installed_core_manifest

    try:
        return installed_core_manifest().fingerprint
    except LatentError:
        return None
