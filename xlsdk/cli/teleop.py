"""``xlsdk teleop --video FILE | --camera N | --keypoints FILE --hand HAND``: a person's hand drives robot hands."""

from __future__ import annotations

from pathlib import Path

import typer

from xlsdk.cli.app import app, console, print_json


@app.command("teleop")
def teleop_command(
    hands: list[str] = typer.Option(..., "--hand", help="Hand to drive; repeat for several."),
    video: Path | None = typer.Option(None, "--video", help="A video file of a hand (read by the camera front-end)."),
    camera: int | None = typer.Option(None, "--camera", min=0, help="A camera index (0 = the first)."),
    keypoints: Path | None = typer.Option(None, "--keypoints", help="Keypoint lines recorded from the front-end "
                                          "(JSON lines as xlsdk/camera_keypoints.py prints them), replayed."),
    source: str = typer.Option("human", "--from", help="The hand model the keypoints fit (the human hand)."),
    left: bool = typer.Option(False, "--left", help="The person shows their left hand."),
    hand_length: float | None = typer.Option(None, "--hand-length", help="Wrist to middle fingertip, in metres "
                                             "(default: measured on the first frames)."),
    refine: bool = typer.Option(False, "--refine", help="Polish every frame with LM steps on the fingertip geometry."),
    low_pass: float = typer.Option(1.0, "--low-pass", help="Output filter in (0, 1]: 1 = off, 0.2 = smooth."),
    max_frames: int = typer.Option(0, "--max-frames", min=0, help="Stop after this many frames (0 = all)."),
    out: Path | None = typer.Option(None, "--out", help="Write the run to this .npz: frame, latent and "
                                    "joints_<hand> per driven hand."),
    record: Path | None = typer.Option(None, "--record", help="Write a LeRobot v3 dataset (a new directory): latent "
                                       "chunks as action, each hand's joints as action.<hand>, the keypoints."),
    chunk: int = typer.Option(8, "--chunk", min=1, max=256, help="Latent frames per action chunk with --record."),
    fps: int = typer.Option(30, "--fps", min=1, max=1000, help="Frame rate recorded with --record."),
    task: str = typer.Option("teleoperation", "--task", help="The task text of the recorded episode."),
    driver_name: str | None = typer.Option(None, "--driver", help="Command every --hand through this driver as "
                                           "frames come (e.g. mujoco, sim; `xlsdk hands` lists them)."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Drive robot hands from a camera, a video or recorded keypoints, through the shared latent."""
    import contextlib
    import time

    import numpy as np

    from xlsdk import load_hand
    from xlsdk.drivers import driver_entry
    from xlsdk.errors import DataFormatError
    from xlsdk.files import atomic_path
    from xlsdk.human import HumanStream, tracks_landmarks
    from xlsdk.teleop import camera_lines, parse_lines, run_stream, write_teleop_dataset

    chosen = [name for name, value in (("--video", video), ("--camera", camera), ("--keypoints", keypoints))
              if value is not None]
    if len(chosen) != 1:
        raise DataFormatError(f"give exactly one of --video FILE, --camera N, --keypoints FILE (got {', '.join(chosen) or 'none'})")
    if out is not None and out.suffix != ".npz":
        raise DataFormatError(f"--out {out}: the run is written as .npz (frame, latent, joints_<hand>)")
    if record is not None and record.exists():
        raise DataFormatError(f"--record {record}: already exists; a recording goes to a new directory")
    human = load_hand(source)
    if not tracks_landmarks(human):
        raise DataFormatError(f"--from {source}: {human.name} has no landmark links; keypoints drive the human hand")
    targets = [load_hand(name) for name in hands]
    stream = HumanStream(human, targets, handedness="left" if left else "right", hand_length=hand_length,
                         refine=refine, low_pass=low_pass)
    if keypoints is not None:
        if not keypoints.is_file():
            raise DataFormatError(f"--keypoints {keypoints}: no such file")
        where = str(keypoints)
        lines = keypoints.read_text(encoding="utf-8").splitlines()[: max_frames or None]
    else:
        where = f"video {video}" if video is not None else f"camera {camera}"
        lines = camera_lines(video=video, camera=camera, max_frames=max_frames)
    with contextlib.ExitStack() as stack:
        on_frame = None
        if driver_name is not None:
            drivers = {t.name: driver_entry(t, driver_name).build(t, {}) for t in targets}
            for driver in drivers.values():
                stack.enter_context(driver)  # leaving halts every hand and closes its transport
            tracking: dict[str, list[float]] = {name: [] for name in drivers}
            period = 1.0 / fps if keypoints is not None else 0.0  # a replay runs at --fps, a camera at its own rate
            clock = [time.monotonic()]

            def on_frame(answers: dict[str, np.ndarray]) -> None:
                wait = clock[0] + period - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                clock[0] = time.monotonic()
                for name, driver in drivers.items():
                    report = driver.command(answers[name])
                    state = driver.read_state()
                    tracking[name].append(float(np.abs(np.asarray(state.positions) - np.asarray(report.sent)).mean()))

        run = run_stream(parse_lines(lines, where), stream, [t.name for t in targets], on_frame=on_frame)
    summary = {"source": where, "hands": [t.name for t in targets], "frames": len(run.frames) + run.unseen,
               "with_hand": len(run.frames), "without_hand": run.unseen, "out": str(out) if out else None,
               "record": str(record) if record else None, "driver": driver_name}
    if driver_name is not None and run.frames:
        summary["tracking_rad"] = {name: float(np.mean(values)) for name, values in tracking.items()}
    if not run.frames:
        summary["out"] = summary["record"] = None
        if json_output:
            print_json(summary)
        else:
            console.print(f"no hand detected in {where} ({run.unseen} frames); nothing driven")
        return
    if out is not None:
        arrays = {"frame": np.asarray(run.frames), "latent": np.stack(run.latents),
                  **{f"joints_{name}": np.stack(values) for name, values in run.joints.items()}}
        with atomic_path(out) as staged, staged.open("wb") as handle:
            np.savez(handle, **arrays)
    if record is not None:
        write_teleop_dataset(run, record, fps=fps, chunk=chunk, task=task)
    if json_output:
        print_json(summary)
    else:
        console.print(f"drove {', '.join(summary['hands'])} from {where}: {len(run.frames)} frames with a hand, "
                      f"{run.unseen} without" + (f"; wrote {out}" if out else "")
                      + (f"; recorded {record}" if record else "")
                      + (f"; {driver_name} tracking " + ", ".join(f"{n} {v:.3f} rad" for n, v in summary["tracking_rad"].items())
                         if driver_name else ""))
