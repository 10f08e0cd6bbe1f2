"""``xlsdk new-hand NAME --urdf PATH``: scaffold a hand plugin from a URDF."""

from __future__ import annotations

from pathlib import Path

import typer

from xlsdk.cli.app import app, console, console_err, print_json


@app.command("new-hand")
def new_hand_command(
    name: str = typer.Argument(..., help="Hand name (lowercase letters, digits, underscores)."),
    urdf: Path = typer.Option(..., "--urdf", help="The vendor's URDF."),
    out: Path = typer.Option(None, "--out", help="Destination directory (default ./xlsdk-NAME)."),
    vendor: str = typer.Option("", "--vendor", help="Who makes the hand."),
    title: str = typer.Option("", "--title", help="Human-readable name (default 'NAME hand')."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Take every proposal without asking."),
    template: Path = typer.Option(None, "--template", help="Another checkout of the hand-plugin template."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON (implies --yes)."),
) -> None:
    """Render a complete plugin (pyproject, package, URDF, proposed hand.toml, driver skeleton, tests, docs)."""
    from rich.markup import escape

    from xlsdk.new_hand import create_hand_plugin, interactive_chooser

    chooser = None
    if not (yes or json_output):
        chooser = interactive_chooser(lambda text, default: typer.prompt(text, default=default),
                                      lambda text: typer.confirm(text, default=True))
    result = create_hand_plugin(name, urdf, out, vendor=vendor, title=title, template=template, choose=chooser)
    for warning in result.warnings:
        console_err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    if json_output:
        print_json({"name": result.name, "directory": str(result.directory), "package": result.package,
                    "manifest": str(result.manifest), "urdf": str(result.urdf), "warnings": list(result.warnings),
                    "palm_link": result.proposal.palm_link, "joints": list(result.proposal.joints),
                    "fingers": {c.finger: {"link": c.tip_link, "offset": list(c.offset)} for c in result.proposal.chains},
                    "palm_rpy": list(result.proposal.palm_rpy), "handedness": result.proposal.handedness,
                    "skipped_joints": list(result.proposal.skipped_joints), "notes": list(result.notes),
                    "source_note": result.source_note,
                    "side_check": None if result.side is None else {
                        "verdict": result.side.verdict(), "wrong": result.side.wrong, "ratio": result.side.ratio,
                        "floors": {s.setup: s.floor for s in result.side.setups}, "poses": result.side.poses}})
        return
    console.print(f"created [bold]{result.directory}[/] (package {result.package})")
    console.print(f"  palm {result.proposal.palm_link!r}, {len(result.proposal.joints)} actuated joints, fingers "
                  + ", ".join(f"{c.finger}={c.tip_link}" for c in result.proposal.chains)
                  + f", {result.proposal.handedness} hand")
    if result.side is not None:
        console.print(f"  side: {escape(result.side.verdict())}", soft_wrap=True)
    if result.source_note:
        console.print(f"  the plugin's URDF was {result.source_note}")
    for note in result.notes:
        console.print(f"  note: {escape(note)}", soft_wrap=True)
    console.print("next:\n"
                  f"  pip install -e {result.directory}\n"
                  f"  xlsdk fit {result.name}\n"
                  f"  xlsdk check {result.name}")
