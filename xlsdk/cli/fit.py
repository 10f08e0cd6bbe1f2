"""``xlsdk fit HAND``: fit one hand's head against the frozen core latent."""

from __future__ import annotations

from pathlib import Path

import typer

from xlsdk.cli.app import app, console, print_json


@app.command("fit")
def fit_command(
    hand_name: str = typer.Argument(..., metavar="HAND", help="An installed hand (see `xlsdk hands`)."),
    steps: int = typer.Option(None, "--steps", min=1, help="Maximum optimisation steps (stops early at the targets)."),
    out: Path = typer.Option(None, "--out", help="Directory (or .safetensors path) for the head; default: next to hand.toml."),
    seed: int = typer.Option(0, "--seed"),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Train only HAND's encoder/decoder, every core module frozen; writes head.safetensors + head.json."""
    from xlsdk import load_hand
    from xlsdk.latent.fit import FitConfig, fit_head

    config = FitConfig(seed=seed) if steps is None else FitConfig(seed=seed, steps=steps)
    result = fit_head(load_hand(hand_name), config=config, out=out, device=device, progress=not json_output)
    if json_output:
        print_json(result.model_dump(mode="json", exclude={"manifest"}))
        return
    early = "stopped early at the quality targets" if result.stopped_early else "ran all steps"
    console.print(f"fitted [bold]{result.hand}[/] in {result.seconds:.1f} s ({result.steps} steps, {early})")
    for name, value in result.metrics.items():
        console.print(f"  {name}: {value:.4g}")
    console.print(f"  wrote {result.weights_path} and {result.manifest_path.name}")
