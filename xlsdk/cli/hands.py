"""``xlsdk hands``: the installed hands, their plugins, heads and drivers; broken plugins with reasons."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from xlsdk.cli.app import app, console, print_json
from xlsdk.plugins import get_plugin_host


def hands_listing(*, include_core: bool = False) -> dict[str, Any]:
    """The data behind ``xlsdk hands --json`` (a documented contract; see docs/reference/cli-json.md)."""
    from xlsdk.latent.registry import head_status

    host = get_plugin_host()
    rows: list[dict[str, Any]] = []
    broken: list[dict[str, Any]] = []
    for record in host.hand_records(include_core=include_core):
        if record.error is not None:
            broken.append({"name": record.name, "plugin": record.plugin, "distribution": record.distribution,
                           "manifest": record.manifest_path, "error": record.error})
            continue
        hand = host.load_hand(record.name)
        status = head_status(hand)
        rows.append({
            "name": hand.name,
            "title": hand.title,
            "plugin": record.plugin,
            "distribution": record.distribution,
            "version": record.version,
            "dof": hand.dof,
            "fingers": list(hand.fingers),
            "head": status.state,
            "head_detail": status.detail,
            "drivers": [entry.name for entry in host.drivers_for(hand.name) if entry.name in _offered(hand)],
            "core": record.core,
        })
    for plugin in host.plugin_records():
        if plugin.error is not None:
            broken.append({"name": None, "plugin": plugin.name, "distribution": plugin.distribution,
                           "manifest": None, "error": plugin.error})
    return {"hands": rows, "broken": broken}


def _offered(hand: Any) -> set[str]:
    """Drivers a hand offers: those its manifest lists (``sim`` always works)."""
    return {"sim", *hand.drivers}


@app.command("hands")
def hands_command(
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    include_core: bool = typer.Option(False, "--all", help="Also list the core's canonical hand."),
) -> None:
    """List installed hands: plugin, DOF, fingers, head status and drivers; broken plugins with reasons."""
    listing = hands_listing(include_core=include_core)
    if json_output:
        print_json(listing)
        return
    table = Table(title="xlsdk hands", title_justify="left")
    for column in ("hand", "distribution", "DOF", "fingers", "head", "drivers"):
        table.add_column(column)
    for row in listing["hands"]:
        dist = f"{row['distribution'] or row['plugin']} {row['version'] or ''}".strip()
        head_style = {"fitted": "green", "none": "yellow"}.get(row["head"], "red")
        table.add_row(row["name"], dist, str(row["dof"]), ", ".join(row["fingers"]),
                      f"[{head_style}]{row['head']}[/]", ", ".join(row["drivers"]))
    console.print(table)
    for problem in listing["broken"]:
        who = problem["name"] or problem["plugin"]
        console.print(f"[red]broken[/] {who} (plugin {problem['plugin']}): {problem['error']}", soft_wrap=True)
    if not listing["hands"]:
        console.print("no hands installed: `pip install xlsdk-inspire` or scaffold one with `xlsdk new-hand`")
