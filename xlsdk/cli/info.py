"""``xlsdk info HAND``: manifest, joints with limits and functional slots, fingertips at the zero and mid-range pose."""

from __future__ import annotations

import typer

from xlsdk.cli.app import app, console, print_json


@app.command("info")
def info_command(
    hand_name: str = typer.Argument(..., metavar="HAND", help="An installed hand (see `xlsdk hands`)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show a hand's manifest, joints with limits and slots, and fingertips at the zero and mid-range poses."""
    from xlsdk.catalog import hand_info
    from xlsdk.joint_slots import SLOT_COUNT

    info = hand_info(hand_name, scale=json_output)  # the tables do not show the scale (it needs torch)
    if json_output:
        print_json(info.model_dump(mode="json"))
        return
    from rich.markup import escape
    from rich.table import Table

    console.print(f"[bold]{info.title}[/] ({info.name} {info.version}, vendor {info.vendor or '-'})")
    console.print(f"URDF {info.urdf}\npalm link {info.palm_link}, {info.dof} actuated joints, "
                  f"head: {info.head.state}; drivers {', '.join(info.drivers)}")
    if info.head.fingerprints:
        console.print("heads for core latent " + ", ".join(fp[:12] for fp in info.head.fingerprints))
    joints = Table(title="joints in command order", title_justify="left")
    for column in ("#", "joint", "lower", "upper", "slot"):
        joints.add_column(column)
    slots = {slot.joint: f"{slot.slot} ({slot.index})" for slot in info.slots}
    for index, joint in enumerate(info.joints):
        joints.add_row(str(index), joint.name, f"{joint.lower:.4f}", f"{joint.upper:.4f}", slots.get(joint.name, "-"))
    console.print(joints)
    if info.slots_problem:
        console.print(f"[yellow]functional slots (action space `slots`): none: {escape(info.slots_problem)}[/]")
    else:
        spilled = [slot for slot in info.slots if slot.spilled]
        console.print(f"functional slots (action space `slots`): {len(info.slots)} of {SLOT_COUNT} filled, the rest "
                      "masked" + escape("".join(f"; {slot.joint} in {slot.slot}: {slot.reason}" for slot in spilled)))
    for term in info.mimic:
        console.print(f"  mimic {term.joint} = {term.multiplier:.6g} * {term.source} + {term.offset:.6g}")
    tips = Table(title="fingertips in the palm frame [mm]", title_justify="left")
    tips.add_column("finger")
    tips.add_column("zero pose")
    tips.add_column("mid-range pose")
    for finger in info.fingers:
        tips.add_row(finger, _mm(info.fingertips["zero"].tips[finger]), _mm(info.fingertips["mid"].tips[finger]))
    console.print(tips)


def _mm(point: list[float]) -> str:
    return "(" + ", ".join(f"{1000 * v:7.1f}" for v in point) + ")"
