"""Fitting one new hand's head against the frozen core latent (``xlsdk fit HAND``).

Every core module stays frozen (the canonical and reference heads, hence the fingerprint). Only the
new hand's encoder/decoder train, from samples of its own joint space, in both directions:

* **decoder**: for latents ``z`` of the core hands' poses (``z = E_c(q_c)``, a fixed bank computed
  once), ``G_new(D_new(z)) ~ G_c(q_c)``: the new hand does what the latent means;
* **encoder**: for the new hand's own poses, ``D_new(E_new(q)) ~ q`` (reconstruction) and the frozen
  decoders reproduce its geometry, ``G_c(D_c(E_new(q))) ~ G_new(q)``: the new hand's latents mean what
  the core latent means, so a policy trained on other hands reads them correctly;
* **cycle** (``cycle_weight``, off by default; ``xlsdk fit --cycle-weight 1``): the pose a core latent
  decodes to encodes back to that latent, ``E_new(D_new(z)) ~ z`` (the decoded pose held fixed: the
  encoder learns to read what the decoder does). The geometry terms alone leave the encoder free in every
  direction the frozen decoders ignore; a fitted 16-DOF hand's encoder then put its states 4.7 latent
  units from the latents it was commanded with (reference hands: 0.9-1.3), and a policy over the latent,
  which reads the hand's state through the encoder, failed on it where joint-slot policies did not (the
  physics benchmark's zero-shot row: 0.06, with the term 0.33). With the term: 0.96. Off by default
  because the encoder then serves two masters: at weight 1, 3 of the 23 corpus hands ended over ``xlsdk
  check``'s reconstruction limit (0.030-0.036 rad against 0.03) and numbered16_left's synthesised ball
  grasp no longer survived the round trip; at 0.1 numbered20's cube did not;
* KL of the posterior.

What makes it fast (per step, FK dominates; see benchmarks/budgets.py):

* everything that does not depend on the head is computed once: a pool of the new hand's own poses
  with their geometry, the bank of core latents with their target geometry;
* only two bank solves (IK for grasp poses): the new hand's and the canonical hand's. The other core
  hands contribute uniform and closing poses plus the canonical grasps decoded through their own
  frozen decoders and re-encoded (what their latents of a grasp look like), so no IK runs for them;
  each bank solve descends the pinch and the tripod problems as one FK batch (half the FK calls);
* the encoder's geometry term runs on a sub-batch, against the canonical hand and one other core hand
  per step in turn, instead of every core hand every step: 3 FK calls per step instead of 7;
* the new head has linear paths beside its MLPs (``HeadConfig.linear_skip``) and starts as an exact
  round trip (:func:`~xlsdk.latent.head_network.start_as_identity`): reconstruction, which an MLP alone
  approaches slowly (a reconstruction-only MLP fit of a 22-DOF hand levelled off near 0.027 rad in
  2000+ steps), is right from the first step and only has to be kept while the geometry terms move
  the latent to what the core latent means; 400-700 steps instead of 2000;
* a fit that levels off above ``xlsdk check``'s limit solves IK once and regresses its decoder
  toward the answers (:func:`_reach_targets`; no FK per step), instead of descending from one basin;
* the posterior starts narrow (``log_var_init``): with unit noise at the start, reconstruction
  spends its first few hundred steps fighting the noise;
* one torch thread: the tensors are small (a few hundred poses), and two threads on two shared cores
  spend more time in synchronisation than they save.

It stops early once the quality targets hold on a held-out set of the same kinds of poses ``xlsdk
check`` measures (uniform and grasps, half each; reconstruction below its target, geometry below its
target or levelled off), and writes ``head.safetensors`` +
``head.json`` atomically. ``xlsdk.fit_head`` is the library entry point. It never touches the caller's
global torch RNG or the cached core heads (it trains against copies).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from xlsdk.errors import LatentError
from xlsdk.geometry import GEOMETRY_VERSION, HandGeometry, shared_fingers
from xlsdk.hand import HEAD_FILENAME, HEAD_MANIFEST_FILENAME, Hand
from xlsdk.latent.core import CoreLatent
from xlsdk.latent.head_network import HeadConfig, LatentHead, start_as_identity
from xlsdk.latent.head_file import HeadManifest, write_head
from xlsdk.latent.objectives import GeometryWeights, kl_divergence, pair_geometry_loss, reconstruction_loss, tip_error
from xlsdk.latent.sampling import PoseSampler, SampleMix
from xlsdk.progress import step_progress
from xlsdk.training import (clip_gradients, cosine_schedule, generator, global_rng_untouched, init_parameters, normal_like,
                             resolve_device,
                             torch_threads)

#: core hands other than the canonical one are sampled without IK (uniform + closing poses)
_WITHOUT_IK = SampleMix(uniform=0.7, pinch=0.0, tripod=0.0, close=0.3)


class FitConfig(BaseModel):
    """Knobs of a head fit; at the defaults a 16-22-DOF hand stops after 400-600 steps, 35-45 CPU seconds
    (benchmarks/corpus_fit.py), one whose geometry levels off above ``levelled_geometry`` runs all 1000."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    steps: int = Field(1000, gt=0, description="maximum optimisation steps")
    batch_size: int = Field(384, gt=0, description="own poses per step (reconstruction, KL)")
    geometry_batch: int = Field(96, gt=0, description="of those, poses whose latents go through frozen decoders")
    decode_batch: int = Field(256, gt=0, description="core latents per step decoded through the new head")
    core_latents: int = Field(8192, gt=0, description="size of the bank of core latents for the decoder term")
    pool: int = Field(16384, gt=0, description="own poses sampled once, geometry precomputed")
    hidden: tuple[int, ...] | None = Field((128, 256, 128), description="head widths; None: the canonical head's")
    linear_skip: bool = Field(True, description="linear paths beside the head's MLPs (see xlsdk.latent.head_network)")
    lr: float = 3e-3
    weight_decay: float = 1e-4
    recon_weight: float = 10.0
    decode_weight: float = 1.0
    encode_weight: float = 1.0
    kl_weight: float = 1e-4
    cycle_weight: float = Field(0.0, ge=0.0, description="weight of the latent cycle E(D(z)) ~ z on core latents "
                                "(0: off): what keeps a latent policy's reading of the hand's own state in the core "
                                "latent's region, at some cost in reconstruction (see the module docstring)")
    vector_base: float = Field(0.0, ge=0.0, description="weight of the thumb-to-finger vector terms away from "
                                                       "pinches (the core latent trained with 1.0)")
    pinch_boost: float = Field(6.0, ge=0.0, description="... and their extra weight at a pinch (the core: 3.0)")
    reach_weight: float = Field(1.0, ge=0.0, description="weight of the pull of the decoder toward IK answers, "
                                                        "once geometry levels off at or above reach_above (0: never)")
    reach_above: float = Field(0.35, description="a fit levelled off at this geometry error gets that pull "
                                                 "(xlsdk check's limit)")
    reach_poses: int = Field(512, gt=0, description="canonical poses solved by IK for that pull")
    log_var_init: float = Field(-6.0, description="initial posterior log-variance (bias of the log-var layer)")
    target_recon_rad: float = Field(0.022, description="stop early once reconstruction is below this (rad)")
    target_geometry: float = Field(0.12, description="... and geometry error below this (reach units) or levelled off")
    plateau: float = Field(0.03, ge=0.0, description="geometry has levelled off when one check improved it by less "
                                                     "than this fraction")
    levelled_geometry: float = Field(0.3, description="a levelled-off geometry error stops the fit only below this "
                                                      "(xlsdk check's limit is 0.35: keep a margin)")
    check_every: int = 100
    threads: int | None = Field(1, description="torch threads during the fit (None: leave as is)")
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


def fit_head(hand: Hand, *, core_hands: Mapping[str, Hand], config: FitConfig | None = None,
             out: Path | str | None = None, core: CoreLatent | None = None, device: str = "auto",
             progress: bool = True, **overrides: object) -> FitResult:
    """Fit ``hand``'s head against the frozen core latent and write it (next to hand.toml by default).

    ``core`` is the installed core latent unless given (``xlsdk fit HAND --for FINGERPRINT``); the head
    lands where :func:`~xlsdk.latent.head_loading.head_target` says, so a head for another core is never replaced.
    ``core_hands``: the hands the core latent was trained on, by name; each must still have the kinematic
    digest the core recorded. Required, because the latent takes Hands and never looks one up by name:
    the faces load them (:func:`xlsdk.load_core_hands`, which ``xlsdk fit`` and ``xlsdk.fit_head`` use).
    """
    from xlsdk.latent.head_loading import head_target, installed_core_latent, invalidate_heads

    started = time.perf_counter()  # the whole fit, grasp banks included: what the user waits for
    if not isinstance(hand, Hand):
        raise TypeError(f"fit_head takes a Hand, got {hand!r}: load it with xlsdk.load_hand(name) "
                        "(xlsdk.fit_head accepts names)")
    config = (config or FitConfig()).model_copy(update=overrides) if overrides else (config or FitConfig())
    core = core or installed_core_latent()
    if hand.name in core.heads and hand.name == core.manifest.canonical:
        raise LatentError(f"{hand.name!r} is the canonical hand: it is part of the core latent and never refitted",
                          hint="retrain the whole latent with `xlsdk latent train`")
    core_hands = _checked_core_hands(core, core_hands)
    target_device = resolve_device(device)
    with torch_threads(config.threads):
        head, step, metrics, stopped_early = _fit(hand, core, core_hands, config, target_device, progress)
    seconds = time.perf_counter() - started
    if out is None:  # next to hand.toml: the top-level pair, or heads/<fingerprint>/ beside another core's head
        weights_path, manifest_path = head_target(hand, core.fingerprint)
    elif Path(out).suffix == ".safetensors":
        weights_path, manifest_path = Path(out), Path(out).with_suffix(".json")
    else:
        weights_path, manifest_path = Path(out) / HEAD_FILENAME, Path(out) / HEAD_MANIFEST_FILENAME
    metrics = {**metrics, "steps": float(step), "seconds": round(seconds, 2)}
    manifest = write_head(head, weights_path, manifest_path, hand_digest=hand.spec.digest, fingerprint=core.fingerprint,
                          geometry_version=GEOMETRY_VERSION, origin="fit", metrics=metrics)
    invalidate_heads(hand)  # drop the cached old head of this hand (the cache also keys on the file's sha256)
    return FitResult(hand=hand.name, steps=step, seconds=seconds, stopped_early=stopped_early, metrics=metrics,
                     weights_path=weights_path, manifest_path=manifest_path, manifest=manifest)


def _fit(hand: Hand, core: CoreLatent, core_hands: dict[str, Hand], config: FitConfig, device: torch.device,
         progress: bool) -> tuple[LatentHead, int, dict[str, float], bool]:
    """The optimisation itself; returns the head (on the CPU), the last step, the held-out metrics."""
    draw = generator(config.seed + 1)
    with global_rng_untouched():
        head = LatentHead(HeadConfig(hand=hand.name, dof=hand.dof, latent_dim=core.latent_dim,
                                     hidden=config.hidden or core.canonical.config.hidden,
                                     linear_skip=config.linear_skip,
                                     lower=hand.spec.lower, upper=hand.spec.upper))
    init_parameters([head], generator(config.seed))
    if config.linear_skip:
        start_as_identity(head, generator(config.seed + 2))
    with torch.no_grad():
        head.to_log_var.bias.fill_(config.log_var_init)
    head.to(device)
    # copies: the cached core heads stay where they are (CPU) whatever happens here
    frozen = {name: copy.deepcopy(core.heads[name]).to(device) for name in core_hands}
    weights = _fit_weights(core, config)
    canonical = core.manifest.canonical
    data = _FitData.build(hand, core_hands, frozen, canonical, config, device)
    others = [name for name in core_hands if name != canonical]

    optimizer = torch.optim.AdamW(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = cosine_schedule(optimizer, config.steps)
    metrics: dict[str, float] = {}
    stopped_early = False
    step = 0
    reach_from: int | None = None
    with step_progress(f"fit {hand.name}", config.steps, enabled=progress) as bar:
        for step in range(1, config.steps + 1):
            partners = [canonical] + ([others[step % len(others)]] if others else [])
            loss, parts = _fit_step(hand, head, frozen, core_hands, partners, data, weights, config, draw)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip_gradients(head.parameters())
            optimizer.step()
            schedule.step()
            if step % 10 == 0:
                bar.update(step, loss=float(loss.detach()), **{k: float(v.detach()) for k, v in parts.items()})
            if step % config.check_every == 0 or step == config.steps:
                previous = metrics.get("geometry_error")
                metrics = _holdout_metrics(hand, head, frozen[canonical], core_hands[canonical], data)
                bar.update(step, recon_rad=metrics["recon_rad"], geom=metrics["geometry_error"])
                if _good_enough(metrics, previous, config):
                    stopped_early = step < config.steps
                    break
                if reach_from is None and config.reach_weight > 0 and _stuck(metrics, previous, config):
                    data.reach, reach_from = _reach_targets(hand, head, core_hands[canonical], data, weights,
                                                            config), step
    if reach_from is not None:
        metrics["reach_from_step"] = float(reach_from)  # recorded in head.json: this fit got the IK pull
    return head.to("cpu"), step, metrics, stopped_early


def _fit_weights(core: CoreLatent, config: FitConfig) -> GeometryWeights:
    """The core latent's geometry weights, with the thumb-to-finger vector terms moved onto pinches.

    The core trained its hands with the vector terms on every pose (``vector_base`` 1). A new hand is
    fitted to a latent whose hands it may not resemble: where its thumb cannot follow the canonical
    thumb (a thumb that sweeps less, a gripper's fixed opposing finger), a vector term on every pose
    drags every fingertip after the thumb's error. Weighting the vectors only near pinches
    (``vector_base`` 0, ``pinch_boost`` 6: the same weight as the core's at a pinch) lowered the check's
    geometry error on every corpus hand measured (a 12-DOF MJCF hand 0.36 -> 0.29, a 7-DOF three-finger
    hand 0.31 -> 0.30, a 16-DOF hand 0.20 -> 0.18) and kept more pinches (0.64 -> 0.71, 0.56 -> 0.60);
    see docs/benchmarks/latent.md.
    """
    weights = GeometryWeights(**core.manifest.training.get("config", {}).get("geometry", {}))
    return replace(weights, vector_base=config.vector_base, pinch_boost=config.pinch_boost)


def _stuck(metrics: dict[str, float], previous_geometry: float | None, config: FitConfig) -> bool:
    """Geometry has levelled off at or above ``reach_above`` (``xlsdk check`` would fail it as it is)."""
    geometry = metrics["geometry_error"]
    return (previous_geometry is not None and geometry > (1.0 - config.plateau) * previous_geometry
            and geometry >= config.reach_above)


@torch.no_grad()
def _reach_targets(hand: Hand, head: LatentHead, canonical: Hand, data: _FitData, weights: GeometryWeights,
                   config: FitConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents of canonical poses, and the normalised joints of ``hand`` that IK finds closest to them.

    A decoder trained only by the geometry loss follows its gradient from where it started; on a hand
    whose fingertips cannot follow the canonical hand's (a gripper whose spread joint turns its two
    fingers half a circle) it settles in one basin and stays there: the same gripper levelled at 0.61
    or 0.69 reach units toward it by the seed alone, where IK reaches 0.53. IK from the decoder's own
    answer, the naive mapping and random poses (:func:`~xlsdk.latent.refine.reachable_poses`, on the
    fit's own tip and pinch-weighted vector terms, so that the answers keep pinches) finds the better
    basin per pose; a regression of the decoder toward those joints (``reach_weight``) pulls
    it there while the geometry terms keep working. Solved once, only for fits that have levelled off at
    or above ``reach_above`` (they would fail ``xlsdk check`` as they are): the others never pay for it.
    (The same pull on the encoder, toward the canonical latents of canonical IK answers, doubled the
    reconstruction error of a 7-DOF hand and was dropped.)
    """
    from xlsdk.latent.naive import naive_retarget
    from xlsdk.latent.refine import reachable_poses

    q_canonical = data.bank_poses[: config.reach_poses]
    latents = data.bank[0][1][: config.reach_poses]
    decoded = head.decode(latents).to(torch.float64).cpu()
    q_source = q_canonical.to(torch.float64).cpu()
    poses, _ = reachable_poses(canonical, hand, q_source, [decoded, naive_retarget(q_source, canonical, hand)],
                               weights=weights, seed=config.seed)
    return latents, head.normalize(poses.to(latents.dtype).to(latents.device))


def _good_enough(metrics: dict[str, float], previous_geometry: float | None, config: FitConfig) -> bool:
    """Reconstruction is below its target, and geometry below its target or no longer improving.

    How close a hand's fingertips can follow the canonical hand's depends on the hand (a 4-finger hand
    with a thumb behind the palm levels off near 0.19 reach units, a 5-finger one near 0.11), so a
    single geometry target would run some hands to the last step for nothing; a geometry error that a
    further ``check_every`` steps improved by less than ``plateau`` has levelled off, and stops the fit
    when it is clearly inside ``xlsdk check``'s limit (``levelled_geometry``); above that the fit goes on.
    """
    if not metrics["recon_rad"] < config.target_recon_rad:
        return False
    geometry = metrics["geometry_error"]
    levelled = previous_geometry is not None and geometry > (1.0 - config.plateau) * previous_geometry
    return geometry < config.target_geometry or (levelled and geometry < config.levelled_geometry)


class _FitData:
    """Everything a fit step indexes into, computed once: own pose pool, core latent bank, held-out sets."""

    def __init__(self, pool: torch.Tensor, pool_geometry: HandGeometry,
                 bank: list[tuple[str, torch.Tensor, HandGeometry]], holdout: torch.Tensor,
                 holdout_canonical: torch.Tensor, bank_poses: torch.Tensor) -> None:
        self.pool, self.pool_geometry, self.bank = pool, pool_geometry, bank
        self.holdout, self.holdout_canonical = holdout, holdout_canonical
        self.bank_poses = bank_poses  # the canonical poses behind the first bank entry's latents
        self.reach: tuple[torch.Tensor, torch.Tensor] | None = None  # see _reach_targets

    @classmethod
    @torch.no_grad()
    def build(cls, hand: Hand, core_hands: dict[str, Hand], frozen: dict[str, LatentHead], canonical: str,
              config: FitConfig, device: torch.device) -> _FitData:
        own = PoseSampler(hand, seed=config.seed, ik_dtype=torch.float32)
        pool = own.sample(config.pool).to(device)
        # held out: fresh uniform poses and grasps drawn with fresh noise from the same IK bank
        holdout = torch.cat([own.uniform(256), own.grasps(256)]).to(device)
        reference = PoseSampler(core_hands[canonical], seed=config.seed + 31, ik_dtype=torch.float32)
        per_hand = max(config.core_latents // len(core_hands), 64)
        q_canonical = reference.sample(per_hand).to(device)
        bank = [(canonical, frozen[canonical].encode(q_canonical), core_hands[canonical].geometry(q_canonical))]
        grasp_latents = frozen[canonical].encode(reference.grasps(per_hand // 4).to(device))
        for index, (name, other) in enumerate(core_hands.items()):
            if name == canonical:
                continue
            plain = PoseSampler(other, seed=config.seed + 31 * (index + 2), mix=_WITHOUT_IK)
            q = torch.cat([plain.sample(per_hand - grasp_latents.shape[0]).to(device), frozen[name].decode(grasp_latents)])
            bank.append((name, frozen[name].encode(q), other.geometry(q)))
        holdout_canonical = reference.sample(512).to(device)
        return cls(pool, hand.geometry(pool), bank, holdout, holdout_canonical, q_canonical)


def _fit_step(hand: Hand, head: LatentHead, frozen: dict[str, LatentHead], core_hands: dict[str, Hand],
              partners: list[str], data: _FitData, weights: GeometryWeights, config: FitConfig,
              draw: torch.Generator) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    device = data.pool.device
    # encoder direction: own poses, reconstruction + frozen decoders reproduce the geometry
    index = torch.randint(0, data.pool.shape[0], (config.batch_size,), generator=draw).to(device)
    q = data.pool[index]
    mean, log_var = head.encode_distribution(q)
    z = mean + normal_like(mean, draw) * torch.exp(0.5 * log_var)
    recon = reconstruction_loss(head.decode_normalized(z), head.normalize(q))
    kl = kl_divergence(mean, log_var)
    rows = slice(0, min(config.geometry_batch, config.batch_size))
    own = data.pool_geometry.rows(index[rows])
    encode = torch.zeros((), device=device)
    for name in partners:
        encode = encode + pair_geometry_loss(core_hands[name].geometry(frozen[name].decode(z[rows])), own, weights)
    encode = encode / len(partners)
    # decoder direction: core latents must decode to the geometry of the pose they came from; the picks
    # of every core hand decode and go through this hand's FK as one batch
    share = max(config.decode_batch // len(data.bank), 8)
    picks = [torch.randint(0, latents.shape[0], (share,), generator=draw).to(device) for _, latents, _ in data.bank]
    bank_latents = torch.cat([latents[pick] for (_, latents, _), pick in zip(data.bank, picks)])
    decoded_joints = head.decode(bank_latents)
    decoded = hand.geometry(decoded_joints)
    decode = torch.zeros((), device=device)
    for block, ((_, _, targets), pick) in enumerate(zip(data.bank, picks, strict=True)):
        decode = decode + pair_geometry_loss(decoded.rows(slice(block * share, (block + 1) * share)),
                                             targets.rows(pick), weights)
    decode = decode / len(data.bank)
    loss = (config.recon_weight * recon + config.kl_weight * kl + config.encode_weight * encode
            + config.decode_weight * decode)
    parts = {"recon": recon, "enc": encode, "dec": decode}
    if config.cycle_weight > 0:  # off (the default): no encoder pass spent on it, the fit exactly as without it
        # the encoder reads back what the decoder does: the pose a core latent decodes to encodes to that latent
        parts["cycle"] = (head.encode(decoded_joints.detach()) - bank_latents).pow(2).mean()
        loss = loss + config.cycle_weight * parts["cycle"]
    if data.reach is not None:  # no FK: a regression of the decoder onto IK answers (_reach_targets)
        latents, joints = data.reach
        pick = torch.randint(0, latents.shape[0], (config.decode_batch,), generator=draw).to(device)
        parts["reach"] = reconstruction_loss(head.decode_normalized(latents[pick]), joints[pick])
        loss = loss + config.reach_weight * parts["reach"]
    return loss, parts


@torch.no_grad()
def _holdout_metrics(hand: Hand, head: LatentHead, canonical_head: LatentHead, canonical: Hand,
                     data: _FitData) -> dict[str, float]:
    head.eval()
    q = data.holdout
    recon = float((head(q) - q).abs().mean())
    fingers = shared_fingers(hand.fingers, canonical.fingers)
    q_c = data.holdout_canonical
    into = tip_error(hand.geometry(head.decode(canonical_head.encode(q_c))).select(fingers),
                     canonical.geometry(q_c).select(fingers)).mean()
    out_of = tip_error(canonical.geometry(canonical_head.decode(head.encode(q))).select(fingers),
                       hand.geometry(q).select(fingers)).mean()
    latents = canonical_head.encode(q_c)
    cycle = float((head.encode(head.decode(latents)) - latents).norm(dim=-1).mean())
    head.train()
    return {"recon_rad": recon, "geometry_error": float((into + out_of) / 2),
            "geometry_from_canonical": float(into), "geometry_to_canonical": float(out_of), "latent_cycle": cycle}


def _checked_core_hands(core: CoreLatent, hands: Mapping[str, Hand]) -> dict[str, Hand]:
    """The core latent's hands, in its order, each with the kinematic digest the core was trained on."""
    checked: dict[str, Hand] = {}
    for name, entry in core.manifest.hands.items():
        hand = hands.get(name)
        if hand is None:
            raise LatentError(f"the core latent's hand {name!r} is missing from core_hands (given: {sorted(hands)})",
                              hint="pass them all (xlsdk.load_core_hands(core) loads them by name); if a "
                                   "reference hand is not installed, install its plugin (xlsdk-inspire, -xhand, "
                                   "-ability, -paxini)")
        if hand.spec.digest != entry.hand_digest:
            raise LatentError(f"hand {name!r} changed since the core latent was trained (kinematic digest differs)",
                              hint="reinstall the reference plugins or retrain with `xlsdk latent train`")
        checked[name] = hand
    return checked
