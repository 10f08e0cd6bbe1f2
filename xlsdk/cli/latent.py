"""``xlsdk latent train|info|eval``: the frozen core latent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from xlsdk.cli.app import app, console, print_json

latent_app = typer.Typer(help="The frozen core latent: train it, inspect it, evaluate it.", no_args_is_help=True)
app.add_typer(latent_app, name="latent")


def _load_core_hands(names: list[str]) -> dict[str, Any]:
    from xlsdk import load_hand

    return {name: load_hand(name) for name in names}


@latent_app.command("train")
def train_command(
    out: Path = typer.Option(Path("out/core_latent"), "--out", help="Directory for core_latent.safetensors/.json."),
    steps: int = typer.Option(None, "--steps", min=1, help="Training steps (default from the config)."),
    batch_size: int = typer.Option(None, "--batch-size", min=1, help="Poses per hand per step."),
    latent_dim: int = typer.Option(None, "--latent-dim", "-k", min=1, help="Latent size k (ablations only)."),
    no_retarget: bool = typer.Option(False, "--no-retarget", help="Ablation: train without the cross-hand loss."),
    seed: int = typer.Option(0, "--seed"),
    recon_weight: float = typer.Option(None, "--recon-weight", help="Weight of the reconstruction loss."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    checkpoint_dir: Path = typer.Option(None, "--checkpoint-dir", help="Resumable checkpoints (default OUT/checkpoints)."),
    export_heads: bool = typer.Option(False, "--export-heads",
                                      help="Also write each reference plugin's head.safetensors/head.json."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON (no progress bar)."),
) -> None:
    """Train the core latent (canonical + reference heads, jointly). Seeded and resumable."""
    from xlsdk.latent.train import LatentTrainConfig, train_core_latent

    config = LatentTrainConfig.from_settings(seed=seed, steps=steps, batch_size=batch_size, latent_dim=latent_dim,
                                             recon_weight=recon_weight, cross_hand=not no_retarget)
    hands = _load_core_hands(list(config.hands))
    core = train_core_latent(config, hands=hands, out_dir=out, checkpoint_dir=checkpoint_dir or out / "checkpoints",
                             device=device, progress=not json_output)
    written: list[Path] = []
    if export_heads:
        from xlsdk.latent.export import export_reference_heads

        written = export_reference_heads(core, hands)
    if json_output:
        print_json({"fingerprint": core.fingerprint, "out": str(out), "latent_dim": core.manifest.latent_dim,
                    "hands": list(core.manifest.hands), "metrics": core.manifest.metrics,
                    "training": core.manifest.training, "heads_written": [str(p) for p in written]})
        return
    console.print(f"core latent [bold]{core.fingerprint[:12]}[/] written to {out}")
    for path in written:
        console.print(f"  head written: {path}")
    _print_metrics(core.manifest.metrics)


@latent_app.command("info")
def info_command(json_output: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Fingerprint, size, hands and metrics of the installed core latent."""
    from xlsdk.latent.head_loading import installed_core_latent

    core = installed_core_latent()
    manifest, data = core.manifest, core.info()
    if json_output:
        print_json(data)
        return
    console.print(f"core latent [bold]{manifest.fingerprint}[/]")
    console.print(f"k = {manifest.latent_dim}, geometry v{manifest.geometry_version}, canonical hand "
                  f"{manifest.canonical!r}, from {core.source}")
    for name, entry in data["hands"].items():
        console.print(f"  {name:10s} {entry['dof']:2d} DOF  fingers {', '.join(entry['fingers'])}")
    _print_metrics(manifest.metrics)


def _print_metrics(metrics: dict[str, Any]) -> None:
    if not metrics:
        return
    for name, value in metrics.items():
        console.print(f"  {name}: {value}")


@latent_app.command("eval")
def eval_command(
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
    hands: str = typer.Option(None, "--hands", help="Comma-separated hands (default: every installed hand with a head)."),
    samples: int = typer.Option(1024, "--samples", min=1, help="Held-out poses per hand."),
    seed: int = typer.Option(12345, "--seed"),
) -> None:
    """Reconstruction, cross-hand geometry error (vs the naive mapping), pinch consistency, smoothness."""
    from xlsdk import hands as installed_hands
    from xlsdk import load_hand
    from xlsdk.latent.evaluate import evaluate_latent
    from xlsdk.latent.head_loading import head_status

    names = hands.split(",") if hands else [n for n in installed_hands() if head_status(load_hand(n)).state == "fitted"]
    selected = {name: load_hand(name) for name in names}
    report = evaluate_latent(selected, n=samples, seed=seed)
    if json_output:
        print_json({"hands": [h.model_dump() for h in report.hands], "pairs": [p.model_dump() for p in report.pairs],
                    "summary": report.summary()})
        return
    from rich.table import Table

    table = Table(title="reconstruction (held-out)", title_justify="left")
    for column in ("hand", "DOF", "mean |err| rad", "uniform", "grasp", "worst joint"):
        table.add_column(column)
    for h in report.hands:
        table.add_row(h.hand, str(h.dof), f"{h.recon_rad:.4f}", f"{h.recon_rad_uniform:.4f}",
                      f"{h.recon_rad_grasp:.4f}", f"{h.recon_rad_max_joint:.4f}")
    console.print(table)
    pairs = Table(title="cross-hand retargeting (held-out)", title_justify="left")
    for column in ("source -> target", "geometry err", "mm", "naive err", "naive mm", "pinch kept", "naive kept",
                   "smoothness"):
        pairs.add_column(column)
    for p in report.pairs:
        pairs.add_row(f"{p.source} -> {p.target}", f"{p.geometry_error:.3f}", f"{p.geometry_error_mm:.1f}",
                      f"{p.naive_error:.3f}", f"{p.naive_error_mm:.1f}", f"{p.pinch_kept:.2f}",
                      f"{p.naive_pinch_kept:.2f}", f"{p.smoothness:.2f}")
    console.print(pairs)
