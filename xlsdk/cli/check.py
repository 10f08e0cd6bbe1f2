"""``xlsdk check HAND``: prove a hand plugin conforms (same checks as ``pytest --xlsdk-hand``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape  # messages quote TOML tables like [limits.j]

from xlsdk.cli.app import app, console, print_json


@app.command("check")
def check_command(
    hand_name: str = typer.Argument(..., metavar="HAND", help="An installed hand (see `xlsdk hands`)."),
    physics: bool = typer.Option(False, "--physics", help="Also grasp the standard objects in MuJoCo."),
    out: Path = typer.Option(Path("out/check"), "--out", help="Where --physics writes its strip PNG."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Manifest vs URDF, finger order, FK sanity, head vs core fingerprint, latent quality, drivers in simulation."""
    from xlsdk.conformance import run_checks

    report = run_checks(hand_name, physics=physics, physics_out=out)
    if json_output:
        print_json({"hand": report.hand, "passed": report.passed, "results": [r.model_dump() for r in report.results]})
    else:
        for result in report.results:
            mark = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
            console.print(f"{mark} {result.check:10s} {escape(result.message)}", soft_wrap=True)
            if not result.passed and result.fix:
                console.print(f"     fix: [bold]{escape(result.fix)}[/]", soft_wrap=True)
        verdict = "[green]conforms[/]" if report.passed else "[red]does not conform[/]"
        console.print(f"{hand_name} {verdict}")
    if not report.passed:
        raise typer.Exit(1)
