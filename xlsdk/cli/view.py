"""``xlsdk view HAND``: a local web page with the hand, joint and latent sliders, and a retarget view.

``--physics`` shows the hand in the MuJoCo world instead: a recorded episode of the demo grasp (a
self-contained page with both cameras and a time slider) plus the world's generated MJCF.
"""

from __future__ import annotations

from pathlib import Path

import typer

from xlsdk.cli.app import app, console


@app.command("view")
def view_command(
    hand_name: str = typer.Argument(..., metavar="HAND", help="An installed hand (see `xlsdk hands`)."),
    port: int = typer.Option(8080, "--port", help="Port of the local web page (0: any free port; a busy one is refused)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (default: this machine only)."),
    physics: bool = typer.Option(False, "--physics", help="Record the demo grasp in MuJoCo and show the episode page."),
    out: Path = typer.Option(Path("out/view"), "--out", help="Where --physics writes its page and the world's MJCF."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="With --physics: serve the page (or only write it)."),
) -> None:
    """Open a viewer at http://HOST:PORT: move joints or latent dimensions, retarget to another hand."""
    from xlsdk import load_hand
    from xlsdk.listen import check_listen_address

    if physics:
        _view_physics(hand_name, out, host, port, serve)
        return
    check_listen_address(host, port)  # before the hand and viser load: a bad address fails at once
    from xlsdk.viewer import HandViewer

    viewer = HandViewer(load_hand(hand_name), host=host, port=port)
    console.print(f"xlsdk viewer for [bold]{hand_name}[/] at http://{host}:{viewer.port} (Ctrl-C to stop)")
    viewer.serve()


def _view_physics(hand_name: str, out: Path, host: str, port: int, serve: bool) -> None:
    """Record an episode page and the generated MJCF; serve the page's folder until Ctrl-C."""
    from xlsdk import load_hand
    from xlsdk.files import write_text_atomic
    from xlsdk.listen import check_listen_address

    address = check_listen_address(host, port) if serve else host
    from xlsdk.demo.recording import record_demo_grasp
    from xlsdk.demo.showcase import DEMO_OBJECT
    from xlsdk.physics.scene import Scene
    from xlsdk.physics.world import World

    page, verdict = record_demo_grasp(hand_name, out / f"{hand_name}_episode.html")
    world = World(load_hand(hand_name), Scene(objects=(DEMO_OBJECT.resting(0.08, 0.0),)))
    mjcf = out / f"{hand_name}_world.xml"
    write_text_atomic(mjcf, world.to_xml())
    from xlsdk.physics.hand_model import model_choice

    console.print(f"{verdict}\nhand model: {model_choice(world.hand).explain()}\nepisode page {page}\n"
                  f"MJCF of the world {mjcf} (open it in MuJoCo's own viewer: python -m mujoco.viewer --mjcf={mjcf})")
    if not serve:
        return
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    with http.server.ThreadingHTTPServer((address, port), handler) as server:
        console.print(f"serving at http://{host}:{server.server_address[1]}/{page.name} (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
