"""``xlsdk plugins``: every plugin with the hooks it implements, its version and its state (like ``llm plugins``)."""

from __future__ import annotations

import typer

from xlsdk.cli.app import app, console, print_json


@app.command("plugins")
def plugins_command(json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """List plugins: distribution and version, hooks, what each registered, ok / broken (with why) / disabled."""
    from xlsdk.plugins import get_plugins

    plugins = get_plugins()
    if json_output:
        print_json([{**p.model_dump(mode="json"), "state": p.state} for p in plugins])
        return
    from rich.table import Table

    table = Table(title="xlsdk plugins", title_justify="left")
    for column in ("plugin", "distribution", "hooks", "hands", "drivers", "state"):
        table.add_column(column, overflow="fold")
    for p in plugins:
        dist = f"{p.distribution or ('xlsdk (core)' if p.core else '-')} {p.version or ''}".strip()
        style = {"ok": "green", "disabled": "yellow"}.get(p.state, "red")
        hooks = ", ".join(hook.removeprefix("xlsdk_register_") for hook in p.hooks)
        table.add_row(p.name, dist, hooks, ", ".join(p.hands), ", ".join(p.drivers), f"[{style}]{p.state}[/]")
    console.print(table)
    for p in plugins:
        if p.error:
            console.print(f"[red]broken[/] {p.name}: {p.error}", soft_wrap=True)
