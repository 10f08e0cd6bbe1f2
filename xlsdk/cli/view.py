"""``xlsdk view HAND``: a local web page with the hand, joint and latent sliders, and a retarget view."""

from __future__ import annotations

import typer

from xlsdk.cli.app import app, console


@app.command("view")
def view_command(
    hand_name: str = typer.Argument(..., metavar="HAND", help="An installed hand (see `xlsdk hands`)."),
    port: int = typer.Option(8080, "--port", help="Port of the local web page (0: any free port; a busy one is refused)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (default: this machine only)."),
) -> None:
    """Open a viewer at http://HOST:PORT: move joints or latent dimensions, retarget to another hand."""
    from xlsdk import load_hand
    from xlsdk.listen import check_listen_address

    check_listen_address(host, port)  # before the hand and viser load: a bad address fails at once
    from xlsdk.viewer import HandViewer

    viewer = HandViewer(load_hand(hand_name), host=host, port=port)
    console.print(f"xlsdk viewer for [bold]{hand_name}[/] at http://{host}:{viewer.port} (Ctrl-C to stop)")
    viewer.serve()
