"""``xlsdk drive HAND --driver NAME``: stream a short demo motion and print the tracking error."""

from __future__ import annotations

import contextlib
from typing import Any

import typer

from xlsdk.cli.app import app, console, console_err, print_json


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    from xlsdk.errors import XlsdkError

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise XlsdkError(f"--option {pair!r} must look like KEY=VALUE (e.g. device_id=2)")
        for cast in (int, float):
            try:
                options[key] = cast(value)
                break
            except ValueError:
                continue
        else:
            options[key] = value
    return options


class _StopSignals:
    """While installed, SIGINT, SIGTERM and SIGHUP (how a terminal, systemd and docker stop a process) are
    noted instead of ending the process: the motion loop sees the note before its next command, stops, and
    ``with driver`` halts the hand and closes the transport on the way out. The handler only notes, it never
    raises: an exception raised from a handler surfaces inside whatever call the signal interrupts (a ctypes
    call turns it into an ArgumentError), so the halt could be skipped."""

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def name(self) -> str:
        import signal

        return signal.Signals(self.signum).name if self.signum is not None else ""

    def requested(self) -> bool:
        return self.signum is not None

    def _note(self, signum: int, frame: object) -> None:
        if self.signum is None:
            self.signum = signum

    @contextlib.contextmanager
    def installed(self):  # noqa: ANN201 - a context manager
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            yield
            return
        previous = {}
        for name in self.SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, self._note)
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


@app.command("drive")
def drive_command(
    hand_name: str = typer.Argument(..., metavar="HAND", help="An installed hand (see `xlsdk hands`)."),
    driver_name: str = typer.Option("sim", "--driver", help="A driver the hand offers (`xlsdk hands` lists them)."),
    port: str = typer.Option(None, "--port", help="/dev/ttyUSB0, or tcp://HOST:PORT for network drivers."),
    option: list[str] = typer.Option([], "--option", help="Extra transport setting KEY=VALUE (repeatable)."),
    simulate: bool = typer.Option(False, "--simulate", help="Drive the plugin's simulated device over the real protocol."),
    speed: float = typer.Option(2.0, "--speed", help="Play the motion this many times faster than recorded."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Stream open -> pinch -> open -> fist -> open to a hand and report how well it tracked."""
    from xlsdk import load_hand
    from xlsdk.demo import demo_motion
    from xlsdk.drivers import driver_entry
    from xlsdk.drivers.motion import MotionStopped, check_motion, check_speed, stream_motion
    from xlsdk.errors import XlsdkError

    check_speed(speed)  # before any device is opened
    hand = load_hand(hand_name)
    entry = driver_entry(hand, driver_name)
    options = _parse_options(option)
    if port:
        options["port"] = port
    q, timestamps = demo_motion(hand)
    seconds = check_motion(timestamps, speed)  # 1e-6 would take days: refused before the hand moves
    stop = _StopSignals()
    with contextlib.ExitStack() as stack:
        if simulate:
            if entry.simulator is None and driver_name == "sim":
                raise XlsdkError("--simulate starts a protocol driver's simulated device; the sim driver is "
                                 "simulated already: drop --simulate")
            if entry.simulator is None:
                raise XlsdkError(f"driver {driver_name!r} has no simulated device; use --driver sim or real hardware")
            driver = stack.enter_context(entry.simulated(hand, options))
        else:
            driver = entry.build(hand, options)
        with stop.installed():
            try:
                with driver:  # leaving `with driver` halts the hand and closes the transport
                    console_err.print(f"driving {hand_name} with {driver_name} for {seconds:.1f} s; Ctrl-C (or "
                                      "SIGTERM, SIGHUP) halts the hand", highlight=False, soft_wrap=True)
                    report = stream_motion(driver, q, timestamps, speed=speed, should_stop=stop.requested)
            except MotionStopped:
                pass
            if stop.requested():  # also when the signal came while connecting: the driver was closed above
                console_err.print(f"[yellow]stopped by {stop.name}:[/] the hand was commanded to halt and the "
                                  f"{driver_name} transport closed", highlight=False, soft_wrap=True)
                raise typer.Exit(128 + stop.signum)  # type: ignore[operator]
    if json_output:
        print_json(report.model_dump())
        return
    console.print(f"drove [bold]{hand_name}[/] with {driver_name}{' (simulated device)' if simulate else ''}: "
                  f"{report.commands} commands in {report.seconds:.2f} s ({report.rate_hz:.0f} Hz)")
    from rich.table import Table

    table = Table(title="tracking error [rad]", title_justify="left")
    table.add_column("joint")
    table.add_column("max |measured - commanded|")
    for name, value in report.per_joint_max_rad.items():
        table.add_row(name, f"{value:.4f}")
    console.print(table)
    console.print(f"mean {report.mean_error_rad:.4f} rad, max {report.max_error_rad:.4f} rad, "
                  f"after settling {report.final_error_rad:.4f} rad")
    for fault in report.faults:
        console.print(f"[yellow]fault:[/] {fault}")
