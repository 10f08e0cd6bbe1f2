"""``xlsdk fit HAND``: fit one hand's head against the frozen core latent (``--for`` another one;
``--all-stale`` every installed hand whose head does not match)."""

from __future__ import annotations

from pathlib import Path

import typer

from xlsdk.cli.app import app, console, print_json


@app.command("fit")
def fit_command(
    hand_name: str = typer.Argument(None, metavar="HAND", help="An installed hand (see `xlsdk hands`)."),
    for_core: str = typer.Option(None, "--for", metavar="FINGERPRINT",
                                 help="Fit for this core latent: a fingerprint (8+ hex characters) of the installed "
                                      "one or of one on XLSDK_CORE_LATENT_PATH, or its directory. Default: the "
                                      "installed core latent."),
    all_stale: bool = typer.Option(False, "--all-stale", help="Refit every installed hand whose head was fitted for "
                                                               "another core latent or an older URDF/manifest."),
    steps: int = typer.Option(None, "--steps", min=1, help="Maximum optimisation steps (stops early at the targets)."),
    out: Path = typer.Option(None, "--out", help="Directory (or .safetensors path) for the head; default: next to "
                                                 "hand.toml (heads/<fingerprint>/ beside another core's head)."),
    seed: int = typer.Option(0, "--seed"),
    cycle_weight: float = typer.Option(0.0, "--cycle-weight", min=0.0,
                                       help="Weight of the latent cycle E(D(z)) ~ z (0: off). 1 for a hand a latent "
                                            "policy will drive: the policy reads the hand's state through its encoder "
                                            "(docs/concepts/latent.md); it costs some reconstruction, so run `xlsdk "
                                            "check` after."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Train only HAND's encoder/decoder, every core module frozen; writes head.safetensors + head.json."""
    from xlsdk import hands, load_core_hands, load_hand
    from xlsdk.errors import XlsdkError
    from xlsdk.latent.export import export_reference_heads
    from xlsdk.latent.fit import FitConfig, fit_head
    from xlsdk.latent.head_loading import find_core_latent, installed_core_latent, stale_hands

    if all_stale == (hand_name is not None):
        raise XlsdkError("name one HAND or pass --all-stale (not both)", hint="e.g. `xlsdk fit my_hand`")
    if all_stale and out is not None:
        raise XlsdkError("--out writes one head: it cannot go with --all-stale")
    core = find_core_latent(for_core) if for_core else installed_core_latent()
    config = FitConfig(seed=seed, cycle_weight=cycle_weight, **({} if steps is None else {"steps": steps}))
    targets = stale_hands([load_hand(n) for n in hands()], core.manifest) if all_stale else [load_hand(hand_name)]
    # a hand the core latent was trained with gets the core's own head for it, exactly (no fit)
    members = {h.name: h for h in targets if all_stale and h.name in core.heads
               and core.manifest.hands[h.name].hand_digest == h.spec.digest}
    if all_stale and not json_output:
        console.print(f"{len(targets)} hand(s) with a stale head for core latent {core.fingerprint[:12]}"
                      + (": " + ", ".join(h.name for h in targets) if targets else ""))
    exported = export_reference_heads(core, members) if members else []
    to_fit = [hand for hand in targets if hand.name not in members]
    core_hands = load_core_hands(core) if to_fit else {}
    results = [fit_head(hand, core_hands=core_hands, config=config, out=out, core=core, device=device,
                        progress=not json_output) for hand in to_fit]
    if json_output:
        dumped = [r.model_dump(mode="json", exclude={"manifest"}) for r in results]
        print_json({"core": core.fingerprint, "fitted": dumped, "from_core": [str(p) for p in exported]}
                   if all_stale else dumped[0])
        return
    for path in exported:
        console.print(f"wrote the core latent's own head: {path}")
    for result in results:
        early = "stopped early at the quality targets" if result.stopped_early else "ran all steps"
        console.print(f"fitted [bold]{result.hand}[/] for core latent {core.fingerprint[:12]} in {result.seconds:.1f} s "
                      f"({result.steps} steps, {early})")
        for name, value in result.metrics.items():
            console.print(f"  {name}: {value:.4g}")
        console.print(f"  wrote {result.weights_path} and {result.manifest_path.name}")
