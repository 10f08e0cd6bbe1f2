"""``xlsdk demo``: one recorded grasp, replayed by every installed hand through the shared latent.

The grasp sequence ships with xlsdk (:mod:`xlsdk.grasp_sequence`: open, thumb-index pinch, open, power
grasp, open; 7 s at 20 Hz, recorded on the Inspire model). For every installed hand with a fitted head
the demo retargets it through the latent, plays it on the simulated driver (first-order actuators with
the safety layer in the loop, on a virtual clock so it runs faster than real time), and measures:

* the geometry error of the executed fingertips against the source's (normalised, and in mm);
* whether every command stayed inside the joint limits (the decoder guarantees it; the safety layer's
  clamp counter proves it);
* how closely the simulated actuators tracked the commands, and how long each step took;
* in physics (MuJoCo, :mod:`xlsdk.demo.showcase`): whether the hand, on its wrist, holds a bottle
  with the retargeted power grasp, judged by where the bottle ends up.

It writes ``fingertip_paths.png`` (each hand's fingertip paths side by side, in normalised palm-frame
units), ``physics_grasps.png`` (rendered frames of every hand's grasp), ``physics_held.png`` (every hand
holding, or not, side by side) and ``report.html`` (the tables, the figures and the provenance:
core-latent fingerprint, heads). :mod:`~xlsdk.demo.showcase` (the grasp in physics) and
:mod:`~xlsdk.demo.recording` (an episode as a web page, ``xlsdk view HAND --physics``) are the demo's too.
"""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from xlsdk.geometry import shared_fingers
from xlsdk.grasp_sequence import load_demo_trajectory
from xlsdk.hand import Hand
from xlsdk.latent.objectives import tip_error
from xlsdk.physics.strip import PhysicsRow
from xlsdk.progress import step_progress

FINGER_COLOURS = {"thumb": "#d62728", "index": "#1f77b4", "middle": "#2ca02c", "ring": "#9467bd", "little": "#ff7f0e"}


class DemoRow(BaseModel):
    """One hand's results."""

    model_config = ConfigDict(frozen=True)
    hand: str
    dof: int
    fingers: tuple[str, ...]
    geometry_error: float
    geometry_error_mm: float
    within_limits: bool
    clamped_commands: int
    tracking_error_rad: float
    retarget_ms: float
    play_s: float


class DemoReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    source: str
    frames: int
    fps: float
    fingerprint: str
    rows: list[DemoRow]
    figure: Path
    report: Path
    seconds: float
    physics: list[PhysicsRow] = []
    physics_figure: Path | None = None
    held_figure: Path | None = None


def demo_motion(hand: Hand) -> tuple[np.ndarray, np.ndarray]:
    """(q (T, dof), timestamps (T,)) of the demo grasp for ``hand`` (retargeted through the latent)."""
    from xlsdk.latent.retarget import retarget
    from xlsdk.plugins import get_plugin_host

    source, q, timestamps = load_demo_trajectory()
    if hand.name != source:  # the demo is a face: it turns the recorded hand's name into a Hand
        q = np.asarray(retarget(q, get_plugin_host().load_hand(source), hand))
    return q, timestamps


def run_demo(out_dir: Path, *, hands: list[str] | None = None, trajectory: Path | None = None,
             progress: bool = True, physics: bool = True) -> DemoReport:
    """Retarget the grasp to every installed hand, play it in simulation, write the figure and the report.

    With ``physics`` each hand also executes the sequence's power grasp on a bottle in MuJoCo
    (:mod:`xlsdk.demo.showcase`): whether it holds it, and rendered frames of every phase.
    """
    import xlsdk
    from xlsdk.latent.head_loading import head_status, installed_core_latent

    started = time.perf_counter()
    source_name, q_source, timestamps = load_demo_trajectory(trajectory)
    source = xlsdk.load_hand(source_name)
    names = hands or [name for name in xlsdk.hands() if head_status(xlsdk.load_hand(name)).state == "fitted"]
    names = [source_name, *[name for name in names if name != source_name]]
    dt = float(np.median(np.diff(timestamps)))
    rows: list[DemoRow] = []
    paths: dict[str, np.ndarray] = {}
    physics_rows: list[PhysicsRow] = []
    frames: dict[str, list[np.ndarray]] = {}
    if physics:
        from xlsdk.demo.showcase import grasp_in_physics
        from xlsdk.grasp_sequence import grasp_frames

        open_frame, grasp_frame = grasp_frames(source, q_source)
    with step_progress("demo", len(names), enabled=progress) as bar:
        for index, name in enumerate(names):
            hand = xlsdk.load_hand(name)
            row, executed, q_hand = _replay(source, hand, q_source, dt)
            rows.append(row)
            paths[name] = hand.geometry(torch.as_tensor(executed, dtype=torch.float32)).tips.numpy()
            if physics:
                physics_row, frames[name] = grasp_in_physics(hand, q_hand, open_frame, grasp_frame)
                physics_rows.append(physics_row)
            bar.update(index + 1, hand=name, error_mm=row.geometry_error_mm)
    out_dir.mkdir(parents=True, exist_ok=True)
    figure = _plot(paths, {row.hand: row.fingers for row in rows}, out_dir / "fingertip_paths.png", source_name)
    physics_figure = held_figure = None
    if physics:
        from xlsdk.demo.showcase import held_picture
        from xlsdk.physics.strip import strip, write_png

        physics_figure, held_figure = out_dir / "physics_grasps.png", out_dir / "physics_held.png"
        write_png(physics_figure, strip(physics_rows, frames))
        write_png(held_figure, held_picture(physics_rows, frames))
    fingerprint = installed_core_latent().fingerprint
    report = _write_html(out_dir / "report.html", rows, figure, source_name, q_source.shape[0], 1.0 / dt, fingerprint,
                         physics_rows, physics_figure)
    return DemoReport(source=source_name, frames=q_source.shape[0], fps=1.0 / dt, fingerprint=fingerprint, rows=rows,
                      figure=figure, report=report, seconds=time.perf_counter() - started, physics=physics_rows,
                      physics_figure=physics_figure, held_figure=held_figure)


def _replay(source: Hand, hand: Hand, q_source: np.ndarray, dt: float) -> tuple[DemoRow, np.ndarray, np.ndarray]:
    from xlsdk.drivers.sim import sim_on_virtual_clock
    from xlsdk.latent.retarget import retarget

    start = time.perf_counter()
    q_target = q_source if hand.name == source.name else np.asarray(retarget(q_source, source, hand))
    retarget_ms = (time.perf_counter() - start) * 1000.0
    lower, upper = np.asarray(hand.spec.lower), np.asarray(hand.spec.upper)
    within = bool(((q_target >= lower - 1e-9) & (q_target <= upper + 1e-9)).all())

    driver, clock = sim_on_virtual_clock(hand, max_velocity=12.0)
    executed = np.empty_like(q_target)
    start = time.perf_counter()
    with driver:
        for frame, command in enumerate(q_target):
            driver.command(command)
            clock.now += dt
            executed[frame] = driver.read_state().positions
    play_s = time.perf_counter() - start

    fingers = shared_fingers(source.fingers, hand.fingers)
    with torch.no_grad():
        goal = source.geometry(torch.as_tensor(q_source, dtype=torch.float32)).select(fingers)
        achieved = hand.geometry(torch.as_tensor(executed, dtype=torch.float32)).select(fingers)
        error = float(tip_error(achieved, goal).mean())
    tracking = float(np.sqrt(np.mean((executed - q_target) ** 2)))
    row = DemoRow(hand=hand.name, dof=hand.dof, fingers=hand.fingers, geometry_error=error,
                  geometry_error_mm=error * hand.scale.reach * 1000.0, within_limits=within,
                  clamped_commands=driver.stats.clamped, tracking_error_rad=tracking, retarget_ms=retarget_ms,
                  play_s=play_s)
    return row, executed, q_target


def _plot(paths: dict[str, np.ndarray], fingers: dict[str, tuple[str, ...]], out: Path, source: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(paths)
    figure = plt.figure(figsize=(3.4 * len(names), 3.8), dpi=110)
    for column, name in enumerate(names):
        axes = figure.add_subplot(1, len(names), column + 1, projection="3d")
        tips = paths[name]  # (T, F, 3) normalised palm frame
        for finger_index, finger in enumerate(fingers[name]):
            track = tips[:, finger_index]
            axes.plot(track[:, 0], track[:, 1], track[:, 2], color=FINGER_COLOURS[finger], linewidth=1.6,
                      label=finger)
            axes.scatter(*track[0], color=FINGER_COLOURS[finger], s=8)
        axes.set_title(f"{name}{' (source)' if name == source else ''}", fontsize=10)
        axes.set_xlim(-1.6, 0.8)
        axes.set_ylim(-0.4, 1.6)
        axes.set_zlim(-1.2, 1.4)
        axes.set_xlabel("x", fontsize=7, labelpad=-8)
        axes.set_ylabel("y (palm normal)", fontsize=7, labelpad=-8)
        axes.set_zlabel("z (to fingertips)", fontsize=7, labelpad=-8)
        axes.tick_params(labelsize=6, pad=-3)
        axes.view_init(elev=18, azim=-60)
        if column == 0:
            axes.legend(fontsize=7, loc="upper left")
    figure.suptitle("fingertip paths of one grasp sequence, replayed by every hand through the shared latent "
                    "(normalised palm frame)", fontsize=10)
    figure.tight_layout()
    figure.savefig(out)
    plt.close(figure)
    return out


def _physics_html(rows: list[PhysicsRow], figure: Path | None) -> str:
    if not rows or figure is None:
        return ""
    from xlsdk.physics.grasp import HELD_M, LIFT_M
    from xlsdk.demo.showcase import DEMO_OBJECT

    body = "\n".join(
        f"<tr><td>{html.escape(r.hand)}</td><td>{'<b>holds it</b>' if r.held else 'drops it'}</td>"
        f"<td>{r.lifted_mm:.0f}</td><td>{r.contacts}</td><td>{r.wall_s:.2f}</td></tr>" for r in rows)
    radius, half = DEMO_OBJECT.dims
    image = base64.b64encode(figure.read_bytes()).decode()
    return f"""<h2>The power grasp in physics (MuJoCo)</h2>
<p>The sequence's most closed frame (the power grasp) and its open frame, retargeted to each hand through the latent,
executed on a bottle ({radius * 200:.0f} cm across, {half * 200:.0f} cm tall,
{DEMO_OBJECT.body_mass * 1000:.0f} g) by the hand on its 6-DoF wrist: approach, close and squeeze,
lift {LIFT_M * 100:.0f} cm, hold 1 s. <i>Holds it</i>: the bottle
ends at least {HELD_M * 100:.0f} cm up and off the table (object state, not fingertip geometry).</p>
<table>
<tr><th>hand</th><th>result</th><th>lifted (mm)</th><th>hand contacts</th><th>wall (s)</th></tr>
{body}
</table>
<img alt="each hand grasping the bottle in MuJoCo: approach, closed, lifted, held" src="data:image/png;base64,{image}">
"""


def _write_html(out: Path, rows: list[DemoRow], figure: Path, source: str, frames: int, fps: float,
                fingerprint: str, physics_rows: list[PhysicsRow] | None = None,
                physics_figure: Path | None = None) -> Path:
    from xlsdk.files import write_text_atomic

    image = base64.b64encode(figure.read_bytes()).decode()
    body_rows = "\n".join(
        f"<tr><td>{html.escape(r.hand)}{' (source)' if r.hand == source else ''}</td><td>{r.dof}</td>"
        f"<td>{html.escape(', '.join(r.fingers))}</td><td>{r.geometry_error:.3f}</td><td>{r.geometry_error_mm:.1f}</td>"
        f"<td>{'yes' if r.within_limits and r.clamped_commands == 0 else 'NO'}</td><td>{r.tracking_error_rad:.4f}</td>"
        f"<td>{r.retarget_ms:.1f}</td><td>{r.play_s:.2f}</td></tr>" for r in rows)
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xlsdk demo: one grasp, every hand</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }}
th:first-child, td:first-child, td:nth-child(3) {{ text-align: left; }}
code {{ background: #f3f3f3; padding: 0 0.2rem; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>One grasp, every hand</h1>
<p>A grasp sequence recorded on <b>{html.escape(source)}</b> ({frames} frames at {fps:.0f} Hz: open, thumb-index
pinch, open, power grasp, open) was encoded into the shared latent with its head, decoded by every installed
hand's head, and played on xlsdk's simulated driver (first-order actuators, safety layer in the loop).</p>
<table>
<tr><th>hand</th><th>DOF</th><th>fingers</th><th>geometry error</th><th>error (mm)</th><th>inside limits</th>
<th>tracking rms (rad)</th><th>retarget (ms)</th><th>playback (s)</th></tr>
{body_rows}
</table>
<p>Geometry error: mean distance between the executed fingertips and the source's, both normalised by each hand's
knuckle centre and finger reach, on the fingers both hands have (millimetres at the destination hand's scale).</p>
<img alt="fingertip paths of every hand" src="data:image/png;base64,{image}">
{_physics_html(physics_rows or [], physics_figure)}
<p>Core latent <code>{fingerprint[:16]}</code>; reproduce with <code>make demo</code>.</p>
</body></html>
"""
    write_text_atomic(out, document)
    return out
