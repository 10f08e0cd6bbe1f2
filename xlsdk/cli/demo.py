"""``xlsdk demo``: a recorded grasp replayed by every installed hand through the shared latent."""

from __future__ import annotations

from pathlib import Path

import typer

from xlsdk.cli.app import app, console, print_json


@app.command("demo")
def demo_command(
    out: Path = typer.Option(Path("out/demo"), "--out", help="Where the PNG and the HTML report go."),
    hands: str = typer.Option(None, "--hands", help="Comma-separated hands (default: every hand with a fitted head)."),
    trajectory: Path = typer.Option(None, "--trajectory", help="Another .npz with q, timestamp and hand."),
    physics: bool = typer.Option(True, "--physics/--no-physics", help="Also grasp a bottle in MuJoCo with every hand."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Retarget a grasp recorded on one hand to every installed hand, play each in simulation, report."""
    from xlsdk.demo import run_demo

    report = run_demo(out, hands=hands.split(",") if hands else None, trajectory=trajectory,
                      progress=not json_output, physics=physics)
    if json_output:
        print_json(report.model_dump(mode="json"))
        return
    from rich.table import Table

    table = Table(title=f"one grasp recorded on {report.source}, replayed by every hand ({report.frames} frames)",
                  title_justify="left")
    for column in ("hand", "DOF", "geometry error", "mm", "inside limits", "tracking rms rad", "retarget ms",
                   "playback s"):
        table.add_column(column)
    for row in report.rows:
        ok = row.within_limits and row.clamped_commands == 0
        table.add_row(row.hand + (" (source)" if row.hand == report.source else ""), str(row.dof),
                      f"{row.geometry_error:.3f}", f"{row.geometry_error_mm:.1f}", "[green]yes[/]" if ok else "[red]no[/]",
                      f"{row.tracking_error_rad:.4f}", f"{row.retarget_ms:.1f}", f"{row.play_s:.2f}")
    console.print(table)
    if report.physics:
        grasps = Table(title="the power grasp in physics (MuJoCo): does each hand hold the bottle?", title_justify="left")
        for column in ("hand", "holds it", "lifted mm", "contacts", "wall s"):
            grasps.add_column(column)
        for row in report.physics:
            grasps.add_row(row.hand, "[green]yes[/]" if row.held else "[red]no[/]", f"{row.lifted_mm:.0f}",
                           str(row.contacts), f"{row.wall_s:.2f}")
        console.print(grasps)
        console.print(f"physics frames {report.physics_figure}")
    console.print(f"figure {report.figure}\nreport {report.report}\n(done in {report.seconds:.1f} s)")
