"""``xlsdk publish HAND``: build the plugin's sdist and wheel, prove the wheel in a clean environment, say
what to upload (nothing is uploaded)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from xlsdk.cli.app import app, console, print_json


@app.command("publish")
def publish_command(
    hand_name: str = typer.Argument(..., metavar="HAND", help="An installed hand (see `xlsdk hands`)."),
    source: Path = typer.Option(None, "--source", help="The plugin's project folder (default: where its editable "
                                                        "install points)."),
    out: Path = typer.Option(None, "--out", help="Where the sdist and wheel go (default: SOURCE/dist)."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip installing the wheel into a clean environment "
                                                              "and checking it there."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Build HAND's plugin (sdist + wheel), check the wheel's files and metadata, install it into a clean
    virtual environment and run `xlsdk check HAND` there; print the files to upload and the upload command."""
    from xlsdk import load_hand
    from xlsdk.publish import publish_plugin

    if not json_output:
        console.print(f"building and checking the plugin of [bold]{hand_name}[/] (build, clean install, check)...")
    report = publish_plugin(load_hand(hand_name), source=source, out=out, verify=not no_verify)
    if json_output:
        print_json(report.model_dump(mode="json"))
        return
    console.print(f"[green]{report.distribution} {report.version}[/] ({report.license}, requires "
                  f"{report.requires_xlsdk}), head for core latent {report.fingerprint[:12]}"
                  + (f" and {len(report.fingerprints) - 1} other(s)" if len(report.fingerprints) > 1 else ""))
    console.print(f"  the wheel carries {len(report.wheel_files)} hand files: " + ", ".join(report.wheel_files),
                  soft_wrap=True)
    if report.clean_venv_checked:
        console.print(f"  installed into a clean environment: {escape(str(report.installed_manifest))}", soft_wrap=True)
        console.print(f"  [green]`xlsdk check {report.hand}` passes from the installed wheel[/]")
    else:
        console.print("  [yellow]not installed into a clean environment (--no-verify)[/]")
    console.print("upload these files:")
    for path in (report.sdist, report.wheel):
        console.print(f"  {path}", soft_wrap=True)
    console.print(f"with: [bold]{escape(report.upload_command)}[/]", soft_wrap=True)
