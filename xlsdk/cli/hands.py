"""``xlsdk hands``: the installed hands, their plugins, heads and drivers; broken plugins with reasons."""

from __future__ import annotations

import typer
from rich.markup import escape  # reasons quote TOML tables like [limits.j]

from xlsdk.cli.app import app, console, print_json


@app.command("hands")
def hands_command(
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    include_core: bool = typer.Option(False, "--all", help="Also list the core's canonical hand."),
) -> None:
    """List installed hands: plugin, DOF, fingers, head status and drivers; broken plugins with reasons."""
    from xlsdk.catalog import hands_listing

    listing = hands_listing(include_core=include_core)
    if json_output:
        print_json(listing.model_dump(mode="json"))
        return
    from rich.table import Table

    table = Table(title="xlsdk hands", title_justify="left")
    for column in ("hand", "distribution", "DOF", "fingers", "head", "heads for core", "drivers"):
        table.add_column(column, overflow="fold")
    installed = _installed_fingerprint()
    for row in listing.hands:
        dist = f"{row.distribution or row.plugin} {row.version or ''}".strip()
        head_style = {"fitted": "green", "none": "yellow"}.get(row.head, "red")
        carried = ", ".join(f"{fp[:12]}*" if fp == installed else fp[:12] for fp in row.head_fingerprints)
        table.add_row(row.name, dist, str(row.dof), ", ".join(row.fingers), f"[{head_style}]{row.head}[/]",
                      carried or "-", ", ".join(row.drivers))
    console.print(table)
    if installed and any(row.head_fingerprints for row in listing.hands):
        console.print(f"* the installed core latent ({installed[:12]})")
    for problem in listing.broken:
        who = problem.name or problem.plugin
        console.print(f"[red]broken[/] {escape(f'{who} (plugin {problem.plugin}): {problem.error}')}", soft_wrap=True)
    if not listing.hands:
        console.print("no hands installed: `pip install xlsdk-inspire` or scaffold one with `xlsdk new-hand`")


def _installed_fingerprint() -> str | None:
    """The installed core latent's fingerprint (manifest only, no torch), None without one."""
    from xlsdk.errors import LatentError
    from xlsdk.latent.head_loading import installed_core_manifest

    try:
        return installed_core_manifest().fingerprint
    except LatentError:
        return None
