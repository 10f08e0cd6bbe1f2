"""``xlsdk info HAND``: manifest, joint table with limits, fingertips at the zero and mid-range pose."""

from __future__ import annotations

from typing import Any

import numpy as np
import typer
from rich.table import Table

from xlsdk.cli.app import app, console, print_json
from xlsdk.hand import Hand
from xlsdk.plugins import get_plugin_host


def hand_info(hand: Hand) -> dict[str, Any]:
    """The data behind ``xlsdk info --json``; a stable contract documented in docs/reference/cli-json.md."""
    from xlsdk.latent.registry import head_status

    manifest = hand.spec.manifest
    status = head_status(hand)
    poses = {"zero": hand.zero_pose(), "mid": hand.mid_pose()}
    fingertips = {}
    for pose_name, q in poses.items():
        tips = np.asarray(hand.fk(np.asarray(q, dtype=np.float64)))
        fingertips[pose_name] = {
            "q": [float(v) for v in q],
            "tips": {finger: [float(v) for v in tip] for finger, tip in zip(hand.fingers, tips, strict=True)},
        }
    return {
        "name": hand.name,
        "title": hand.title,
        "vendor": manifest.vendor,
        "version": manifest.version,
        "plugin": hand.plugin,
        "manifest": str(hand.spec.manifest_path),
        "urdf": str(hand.urdf_path.resolve()),
        "palm_link": manifest.palm_link,
        "palm_frame": manifest.palm_frame.model_dump(),
        "dof": hand.dof,
        "joints": [{"name": j.name, "lower": j.lower, "upper": j.upper} for j in hand.limits],
        "mimic": [
            {"joint": name, "source": term.source, "multiplier": term.multiplier, "offset": term.offset}
            for name, term in hand.spec.mimic.items()
        ],
        "fingers": {finger: {"link": tip.link, "offset": list(tip.offset)} for finger, tip in manifest.fingers.items()},
        "drivers": list(manifest.drivers),
        "coupling": manifest.coupling.notes,
        "scale": {"knuckle_center": list(hand.scale.knuckle_center), "reach": hand.scale.reach},
        "fingertips": fingertips,
        "head": {"state": status.state, "detail": status.detail, "path": str(hand.head_path)},
    }


@app.command("info")
def info_command(
    hand_name: str = typer.Argument(..., metavar="HAND", help="An installed hand (see `xlsdk hands`)."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show a hand's manifest, joints with limits and fingertips at the zero and mid-range poses."""
    hand = get_plugin_host().load_hand(hand_name)
    info = hand_info(hand)
    if json_output:
        print_json(info)
        return
    console.print(f"[bold]{info['title']}[/] ({info['name']} {info['version']}, vendor {info['vendor'] or '-'})")
    console.print(f"URDF {info['urdf']}\npalm link {info['palm_link']}, {info['dof']} actuated joints, "
                  f"head: {info['head']['state']}")
    joints = Table(title="joints in command order", title_justify="left")
    for column in ("#", "joint", "lower", "upper"):
        joints.add_column(column)
    for index, joint in enumerate(info["joints"]):
        joints.add_row(str(index), joint["name"], f"{joint['lower']:.4f}", f"{joint['upper']:.4f}")
    console.print(joints)
    if info["mimic"]:
        for term in info["mimic"]:
            console.print(f"  mimic {term['joint']} = {term['multiplier']:.6g} * {term['source']} + {term['offset']:.6g}")
    tips = Table(title="fingertips in the palm frame [mm]", title_justify="left")
    tips.add_column("finger")
    tips.add_column("zero pose")
    tips.add_column("mid-range pose")
    for finger in info["fingers"]:
        zero = info["fingertips"]["zero"]["tips"][finger]
        mid = info["fingertips"]["mid"]["tips"][finger]
        tips.add_row(finger, _mm(zero), _mm(mid))
    console.print(tips)


def _mm(point: list[float]) -> str:
    return "(" + ", ".join(f"{1000 * v:7.1f}" for v in point) + ")"
