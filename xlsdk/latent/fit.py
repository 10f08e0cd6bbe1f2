"""Fitting one new hand's head against the frozen core latent (``xlsdk fit HAND``).

Every core module stays frozen (the canonical and reference heads, hence the fingerprint). Only the
new hand's encoder/decoder train, from random samples of its own joint space, in both directions:

* **decoder**: for latents ``z`` of the core hands' poses (``z = E_c(q_c)``, a fixed bank computed
  once), ``G_new(D_new(z)) ~ G_c(q_c)``: the new hand does what the latent means;
* **encoder**: for the new hand's own poses, ``D_new(E_new(q)) ~ q`` (reconstruction) and every frozen
  decoder reproduces its geometry, ``G_c(D_c(E_new(q))) ~ G_new(q)``: the new hand's latents mean what
  the core latent means, so a policy trained on other hands reads them correctly;
* KL of the posterior.

It stops early once the quality targets hold on a held-out set, and writes ``head.safetensors`` +
``head.json`` atomically. ``xlsdk.fit_head`` is the library entry point.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.errors import LatentError
from xlsdk.geometry import GEOMETRY_VERSION, HandGeometry, shared_fingers
from xlsdk.hand import HEAD_FILENAME, HEAD_MANIFEST_FILENAME, Hand
from xlsdk.latent.core import CoreLatent
from xlsdk.latent.head import HeadConfig, LatentHead
from xlsdk.latent.head_file import HeadManifest, write_head
from xlsdk.latent.objectives import GeometryWeights, kl_divergence, pair_geometry_loss, reconstruction_loss, tip_error
from xlsdk.latent.sampling import PoseSampler
from xlsdk.latent.train import resolve_device
from xlsdk.progress import step_progress


class FitConfig(BaseModel):
    """Knobs of a head fit; the defaults fit a new hand on 2 CPU cores in a few minutes."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    steps: int = Field(2500, gt=0, description="maximum optimisation steps")
    batch_size: int = Field(256, gt=0)
    core_latents: int = Field(8192, gt=0, description="size of the bank of core latents for the decoder term")
    lr: float = 3e-3
    weight_decay: float = 1e-4
    recon_weight: float = 4.0
    decode_weight: float = 1.0
    encode_weight: float = 1.0
    kl_weight: float = 1e-4
    target_recon_rad: float = Field(0.02, description="stop early once reconstruction is below this (rad)")
    target_geometry: float = Field(0.12, description="... and geometry error below this (reach units)")
    check_every: int = 100
    seed: int = 0


class FitResult(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    hand: str
    steps: int
    seconds: float
    stopped_early: bool
    metrics: dict[str, float]
    weights_path: Path
    manifest_path: Path
    manifest: HeadManifest


def fit_head(hand: str | Hand, *, config: FitConfig | None = None, out: Path | str | None = None,
             core: CoreLatent | None = None, device: str = "auto", progress: bool = True,
             **overrides: object) -> FitResult:
    """Fit ``hand``'s head against the frozen core latent and write it (next to hand.toml by default)."""
    from xlsdk import load_hand
    from xlsdk.latent.heads import installed_core_latent, invalidate_heads

    started = time.perf_counter()  # the whole fit, grasp banks included: what the user waits for
    hand = load_hand(hand) if isinstance(hand, str) else hand
    config = (config or FitConfig()).model_copy(update=overrides) if overrides else (config or FitConfig())
    core = core or installed_core_latent()
    if hand.name in core.heads and hand.name == core.manifest.canonical:
        raise LatentError(f"{hand.name!r} is the canonical hand: it is part of the core latent and never refitted",
                         hint="retrain the whole latent with `xlsdk latent train`")
    core_hands = _core_hands(core)
    target_device = resolve_device(device)
    torch.manual_seed(config.seed)
    head = LatentHead(HeadConfig(hand=hand.name, dof=hand.dof, latent_dim=core.latent_dim,
                                 hidden=core.canonical.config.hidden, lower=hand.spec.lower, upper=hand.spec.upper))
    head.to(target_device)
    frozen = {name: core.heads[name].to(target_device) for name in core_hands}
    weights = GeometryWeights(**core.manifest.training.get("config", {}).get("geometry", {}))
    sampler = PoseSampler(hand, seed=config.seed)
    sampler.banks()
    bank = _core_latent_bank(core, core_hands, config, target_device)
    holdout = _holdout(hand, core, core_hands, config, target_device)

    optimizer = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.steps, eta_min=config.lr * 0.05)
    generator = torch.Generator().manual_seed(config.seed + 1)
    metrics: dict[str, float] = {}
    stopped_early = False
    step = 0
    with step_progress(f"fit {hand.name}", config.steps, enabled=progress) as bar:
        for step in range(1, config.steps + 1):
            loss, parts = _fit_step(hand, head, frozen, core_hands, sampler, bank, weights, config, generator,
                                    target_device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(head.parameters(), 5.0)
            optimizer.step()
            schedule.step()
            if step % 10 == 0:
                bar.update(step, loss=float(loss.detach()), **{k: float(v.detach()) for k, v in parts.items()})
            if step % config.check_every == 0 or step == config.steps:
                metrics = _holdout_metrics(hand, head, frozen, core_hands, holdout)
                bar.update(step, recon_rad=metrics["recon_rad"], geom=metrics["geometry_error"])
                if metrics["recon_rad"] < config.target_recon_rad and metrics["geometry_error"] < config.target_geometry:
                    stopped_early = step < config.steps
                    break
    seconds = time.perf_counter() - started
    head.to("cpu")
    for name in core_hands:
        core.heads[name].to("cpu")
    out_dir = Path(out) if out is not None else hand.head_dir
    if out_dir.suffix == ".safetensors":
        weights_path, manifest_path = out_dir, out_dir.with_suffix(".json")
    else:
        weights_path, manifest_path = out_dir / HEAD_FILENAME, out_dir / HEAD_MANIFEST_FILENAME
    metrics = {**metrics, "steps": float(step), "seconds": round(seconds, 2)}
    manifest = write_head(head, weights_path, manifest_path, hand_digest=hand.spec.digest, fingerprint=core.fingerprint,
                          geometry_version=GEOMETRY_VERSION, origin="fit", metrics=metrics)
    invalidate_heads(hand)  # drop the cached old head of this hand (the cache also keys on the file's sha256)
    return FitResult(hand=hand.name, steps=step, seconds=seconds, stopped_early=stopped_early, metrics=metrics,
                     weights_path=weights_path, manifest_path=manifest_path, manifest=manifest)


def _core_hands(core: CoreLatent) -> dict[str, Hand]:
    """The hands of the core latent, loaded through the plugin host (their specs must still match)."""
    from xlsdk import load_hand

    hands: dict[str, Hand] = {}
    for name, entry in core.manifest.hands.items():
        hand = load_hand(name)
        if hand.spec.digest != entry.hand_digest:
            raise LatentError(f"hand {name!r} changed since the core latent was trained (kinematic digest differs)",
                              hint="reinstall the reference plugins or retrain with `xlsdk latent train`")
        hands[name] = hand
    return hands


@torch.no_grad()
def _core_latent_bank(core: CoreLatent, hands: dict[str, Hand], config: FitConfig,
                      device: torch.device) -> list[tuple[str, torch.Tensor, HandGeometry]]:
    """(hand, z, G(q)) from every core hand's own poses q, encoded by its frozen encoder.

    The geometry of the bank is computed here once; every step only indexes into it.
    """
    per_hand = max(config.core_latents // len(hands), 64)
    bank = []
    for index, (name, hand) in enumerate(hands.items()):
        q = PoseSampler(hand, seed=config.seed + 31 * (index + 1)).sample(per_hand).to(device)
        bank.append((name, core.heads[name].encode(q), hand.geometry(q)))
    return bank


def _fit_step(hand: Hand, head: LatentHead, frozen: dict[str, LatentHead], core_hands: dict[str, Hand],
              sampler: PoseSampler, bank: list[tuple[str, torch.Tensor, HandGeometry]], weights: GeometryWeights,
              config: FitConfig, generator: torch.Generator, device: torch.device) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    # encoder direction: own poses, reconstruction + frozen decoders reproduce the geometry
    q = sampler.sample(config.batch_size).to(device)
    mean, log_var = head.encode_distribution(q)
    z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
    recon = reconstruction_loss(head.decode_normalized(z), head.normalize(q))
    kl = kl_divergence(mean, log_var)
    with torch.no_grad():
        own = hand.geometry(q)
    encode = torch.zeros((), device=device)
    for name, other in core_hands.items():
        encode = encode + pair_geometry_loss(other.geometry(frozen[name].decode(z)), own, weights)
    encode = encode / len(core_hands)
    # decoder direction: core latents must decode to the geometry of the pose they came from; the picks
    # of every core hand decode and go through this hand's FK as one batch
    share = max(config.batch_size // len(bank), 8)
    picks = [torch.randint(0, latents.shape[0], (share,), generator=generator).to(device) for _, latents, _ in bank]
    decoded = hand.geometry(head.decode(torch.cat([latents[index] for (_, latents, _), index in zip(bank, picks)])))
    decode = torch.zeros((), device=device)
    for block, ((_, _, targets), index) in enumerate(zip(bank, picks, strict=True)):
        rows = slice(block * share, (block + 1) * share)
        decode = decode + pair_geometry_loss(decoded.rows(rows), targets.rows(index), weights)
    decode = decode / len(bank)
    loss = (config.recon_weight * recon + config.kl_weight * kl + config.encode_weight * encode
            + config.decode_weight * decode)
    return loss, {"recon": recon, "enc": encode, "dec": decode}


@torch.no_grad()
def _holdout(hand: Hand, core: CoreLatent, core_hands: dict[str, Hand], config: FitConfig,
             device: torch.device) -> dict[str, Any]:
    own = PoseSampler(hand, seed=config.seed + 997)
    q_own = torch.cat([own.uniform(256), own.grasps(256)]).to(device)
    canonical = core.manifest.canonical
    q_canonical = PoseSampler(core_hands[canonical], seed=config.seed + 991).sample(512).to(device)
    return {"own": q_own, "canonical": q_canonical, "canonical_name": canonical}


@torch.no_grad()
def _holdout_metrics(hand: Hand, head: LatentHead, frozen: dict[str, LatentHead], core_hands: dict[str, Hand],
                     holdout: dict[str, Any]) -> dict[str, float]:
    head.eval()
    q = holdout["own"]
    recon = float((head(q) - q).abs().mean())
    canonical_name = str(holdout["canonical_name"])
    canonical = core_hands[canonical_name]
    fingers = shared_fingers(hand.fingers, canonical.fingers)
    q_c = holdout["canonical"]
    into = tip_error(hand.geometry(head.decode(frozen[canonical_name].encode(q_c))).select(fingers),
                     canonical.geometry(q_c).select(fingers)).mean()
    out_of = tip_error(canonical.geometry(frozen[canonical_name].decode(head.encode(q))).select(fingers),
                       hand.geometry(q).select(fingers)).mean()
    head.train()
    return {"recon_rad": recon, "geometry_error": float((into + out_of) / 2),
            "geometry_from_canonical": float(into), "geometry_to_canonical": float(out_of)}
