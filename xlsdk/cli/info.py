"""``xlsdk info HAND``: manifest, joints with limits and functional slots, fingertips at the zero and mid-range pose."""

from __future__ import annotations

from typing import Any

import typer

from xlsdk.cli.app import app, console, print_json


@app.command("info")
def info_command(
    hand_name: str = typer.Argument(..., metavar="HAND", help="An installed hand (see `xlsdk hands`)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show a hand's manifest, joints with limits and slots, and fingertips at the zero and mid-range poses."""
    from xlsdk.cli.answer_cache import cached_answer

    # the answer as JSON data, from the cache when no file behind it changed (the tables are drawn from it either way)
    answer = cached_answer("info", info_options(hand_name, json_output=json_output),
                           lambda: _info_answer(hand_name, scale=json_output))
    print_info(answer, json_output=json_output)


def info_options(hand_name: str, *, json_output: bool) -> dict[str, str | bool]:
    """The question ``xlsdk info`` asks, as the answer cache keys it (here and in :mod:`xlsdk.cli.stored_commands`)."""
    return {"hand": hand_name, "json": json_output}


def print_info(answer: dict[str, Any], *, json_output: bool) -> None:
    """Print a hand's info (``_info_answer``'s data) as JSON or as the tables."""
    info = answer["info"]
    if json_output:
        print_json(info)
        return
    from rich.markup import escape
    from rich.table import Table

    head = info["head"]
    console.print(f"[bold]{info['title']}[/] ({info['name']} {info['version']}, vendor {info['vendor'] or '-'})")
    console.print(f"URDF {info['urdf']}\npalm link {info['palm_link']}, {info['dof']} actuated joints, "
                  f"head: {head['state']}; drivers {', '.join(info['drivers'])}")
    if head["fingerprints"]:
        console.print("heads for core latent " + ", ".join(fp[:12] for fp in head["fingerprints"]))
    joints = Table(title="joints in command order", title_justify="left")
    for column in ("#", "joint", "lower", "upper", "slot"):
        joints.add_column(column)
    slots = {slot["joint"]: f"{slot['slot']} ({slot['index']})" for slot in info["slots"]}
    for index, joint in enumerate(info["joints"]):
        joints.add_row(str(index), joint["name"], f"{joint['lower']:.4f}", f"{joint['upper']:.4f}",
                       slots.get(joint["name"], "-"))
    console.print(joints)
    if info["slots_problem"]:
        console.print(f"[yellow]functional slots (action space `slots`): none: {escape(info['slots_problem'])}[/]")
    else:
        spilled = [slot for slot in info["slots"] if slot["spilled"]]
        console.print(f"functional slots (action space `slots`): {len(info['slots'])} of {answer['slot_count']} "
                      "filled, the rest masked"
                      + escape("".join(f"; {slot['joint']} in {slot['slot']}: {slot['reason']}" for slot in spilled)))
    for term in info["mimic"]:
        console.print(f"  mimic {term['joint']} = {term['multiplier']:.6g} * {term['source']} + {term['offset']:.6g}")
    tips = Table(title="fingertips in the palm frame [mm]", title_justify="left")
    tips.add_column("finger")
    tips.add_column("zero pose")
    tips.add_column("mid-range pose")
    fingertips = info["fingertips"]
    for finger in info["fingers"]:
        tips.add_row(finger, _mm(fingertips["zero"]["tips"][finger]), _mm(fingertips["mid"]["tips"][finger]))
    console.print(tips)


def _info_answer(hand_name: str, *, scale: bool) -> dict[str, Any]:
    """The hand's info as JSON data, and the slot count its tables quote (the tables do not show the scale,
    which needs torch, so only ``--json`` computes it)."""
    from xlsdk.catalog import hand_info
    from xlsdk.joint_slots import SLOT_COUNT

    return {"info": hand_info(hand_name, scale=scale).model_dump(mode="json"), "slot_count": SLOT_COUNT}


def _mm(point: list[float]) -> str:
    return "(" + ", ".join(f"{1000 * v:7.1f}" for v in point) + ")"
