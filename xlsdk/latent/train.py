"""Training the core latent: the canonical head and the reference heads, jointly, from scratch.

Every step, for every hand ``a``: draw poses ``q_a`` (uniform + grasp-like), encode
``z_a ~ E_a(q_a)``, then

* reconstruct: ``D_a(z_a) ~ q_a`` (normalised joint space);
* retarget: for every other hand ``b``, ``G_b(D_b(z_a)) ~ G_a(q_a)`` on the fingers they share;
* cycle: ``E_b(D_b(z_a)) ~ z_a``, so that a retargeted pose encodes back to the same latent;
* KL of the posterior to N(0, I).

No paired data is used anywhere: the only link between hands is their fingertip geometry through
differentiable FK. ``xlsdk latent train`` wraps :func:`train_core_latent` (seeded, resumable).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field
from safetensors.torch import load_file, save_file

from xlsdk.files import write_with_atomic
from xlsdk.hand import Hand
from xlsdk.latent.core import CoreLatent
from xlsdk.latent.head_network import DEFAULT_HIDDEN, DEFAULT_LATENT_DIM, HeadConfig, LatentHead
from xlsdk.latent.objectives import GeometryWeights, kl_divergence, pair_geometry_loss, reconstruction_loss
from xlsdk.latent.sampling import PoseSampler, SampleMix
from xlsdk.progress import step_progress
from xlsdk.training import (
    clip_gradients,
    cosine_schedule,
    generator,
    global_rng_untouched,
    init_parameters,
    normal_like,
    resolve_device,
)

REFERENCE_HANDS = ("canonical", "inspire", "ability", "xhand", "paxini")


class LatentTrainConfig(BaseModel):
    """Every knob of core-latent training in one place (recorded in the artifact's manifest)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    hands: tuple[str, ...] = REFERENCE_HANDS
    canonical: str = "canonical"
    latent_dim: int = DEFAULT_LATENT_DIM
    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    steps: int = Field(3000, gt=0)
    batch_size: int = Field(192, gt=0, description="poses per hand per step")
    lr: float = 2e-3
    lr_floor: float = 0.05
    weight_decay: float = 1e-4
    recon_weight: float = 10.0
    retarget_weight: float = Field(1.0, ge=0, description="0 trains without the cross-hand loss (ablation)")
    cycle_weight: float = 0.05
    kl_weight: float = 1e-4
    latent_noise: bool = True
    geometry: dict[str, float] = Field(default_factory=lambda: asdict(GeometryWeights()))
    mix: dict[str, float] = Field(default_factory=lambda: asdict(SampleMix()))
    seed: int = 0
    checkpoint_every: int = 250

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    @classmethod
    def from_settings(cls, *, cross_hand: bool = True, **settings: Any) -> LatentTrainConfig:
        """The defaults with ``settings`` (a None keeps its default), as ``xlsdk latent train``'s flags give them.

        ``cross_hand=False`` is the ablation without the cross-hand and cycle losses. Every invalid setting is
        named in one :class:`~xlsdk.errors.LatentError` (a flag typed on the command line, not a traceback).
        """
        from pydantic import ValidationError

        from xlsdk.errors import LatentError, validation_problems

        updates = {name: value for name, value in settings.items() if value is not None}
        if not cross_hand:
            updates |= {"retarget_weight": 0.0, "cycle_weight": 0.0}
        try:
            return cls.model_validate({**cls().model_dump(), **updates})
        except ValidationError as exc:
            raise LatentError(f"invalid training settings: {'; '.join(validation_problems(exc))}") from None


def build_heads(hands: dict[str, Hand], latent_dim: int, hidden: tuple[int, ...], seed: int) -> dict[str, LatentHead]:
    """Fresh heads, initialised from ``seed`` in hand order (the global torch RNG is left alone)."""
    with global_rng_untouched():
        heads = {
            name: LatentHead(HeadConfig(hand=name, dof=hand.dof, latent_dim=latent_dim, hidden=hidden,
                                        lower=hand.spec.lower, upper=hand.spec.upper))
            for name, hand in hands.items()
        }
    init_parameters(heads.values(), generator(seed))
    return heads


def sample_latent(head: LatentHead, q: torch.Tensor, noise: torch.Generator | None
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(z, mean, log_var)``: ``z`` drawn from the posterior with the ``noise`` generator, or the mean without one."""
    mean, log_var = head.encode_distribution(q)
    z = mean + normal_like(mean, noise) * torch.exp(0.5 * log_var) if noise is not None else mean
    return z, mean, log_var


def train_core_latent(config: LatentTrainConfig, *, hands: dict[str, Hand], out_dir: Path | None = None,
                      checkpoint_dir: Path | None = None, device: str = "auto", progress: bool = True,
                      evaluate: bool = True) -> CoreLatent:
    """Train all heads jointly and return the (fingerprinted) core latent; save it if ``out_dir`` is given."""
    target_device = resolve_device(device)
    heads = build_heads(hands, config.latent_dim, config.hidden, config.seed)
    for head in heads.values():
        head.to(target_device)
    parameters = [p for head in heads.values() for p in head.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=config.weight_decay)
    schedule = cosine_schedule(optimizer, config.steps, config.lr_floor)
    noise = generator(config.seed + 7) if config.latent_noise else None
    mix = SampleMix(**config.mix)
    samplers = {name: PoseSampler(hand, seed=config.seed + 101 * i, mix=mix) for i, (name, hand) in enumerate(hands.items())}
    weights = GeometryWeights(**config.geometry)

    start = 0
    if checkpoint_dir is not None:
        start = _load_checkpoint(checkpoint_dir, config, heads, optimizer, schedule, samplers, noise)
    for sampler in samplers.values():  # solve the grasp banks before the clock starts
        sampler.banks()

    names = list(hands)
    last: dict[str, float] = {}
    with step_progress("latent train", config.steps, enabled=progress, start=start) as bar:
        for step in range(start, config.steps):
            losses = _training_step(config, hands, heads, samplers, weights, names, target_device, noise)
            total = losses["total"]
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            clip_gradients(parameters)
            optimizer.step()
            schedule.step()
            last = {k: float(v.detach()) for k, v in losses.items()}
            if step % 10 == 0 or step == config.steps - 1:
                bar.update(step + 1, loss=last["total"], recon=last["recon"], retarget=last["retarget"])
            if checkpoint_dir is not None and ((step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps):
                _save_checkpoint(checkpoint_dir, config, step + 1, heads, optimizer, schedule, samplers, noise)

    for head in heads.values():
        head.to("cpu")
    digests = {name: hand.spec.digest for name, hand in hands.items()}
    fingers = {name: tuple(hand.fingers) for name, hand in hands.items()}
    training = {"config": config.model_dump(mode="json"), "final_losses": last, "device": str(target_device)}
    core = CoreLatent.from_heads(heads, digests, fingers, training=training, canonical=config.canonical)
    if evaluate:
        from xlsdk.latent.evaluate import evaluate_latent

        report = evaluate_latent(hands, {name: core.heads[name] for name in hands}, n=512, seed=config.seed + 1)
        core.manifest = core.manifest.model_copy(update={"metrics": report.summary()})
    if out_dir is not None:
        core.save(out_dir)
    return core


def _training_step(config: LatentTrainConfig, hands: dict[str, Hand], heads: dict[str, LatentHead],
                   samplers: dict[str, PoseSampler], weights: GeometryWeights, names: list[str],
                   device: torch.device, noise: torch.Generator | None) -> dict[str, torch.Tensor]:
    recon = torch.zeros((), device=device)
    kl = torch.zeros((), device=device)
    retarget = torch.zeros((), device=device)
    cycle = torch.zeros((), device=device)
    for source in names:
        head = heads[source]
        q = samplers[source].sample(config.batch_size).to(device)
        z, mean, log_var = sample_latent(head, q, noise)
        recon = recon + reconstruction_loss(head.decode_normalized(z), head.normalize(q))
        kl = kl + kl_divergence(mean, log_var)
        if config.retarget_weight <= 0:
            continue
        with torch.no_grad():
            target = hands[source].geometry(q)
        for other in names:
            if other == source:
                continue
            decoded = heads[other].decode(z)
            retarget = retarget + pair_geometry_loss(hands[other].geometry(decoded), target, weights)
            if config.cycle_weight > 0:
                cycle = cycle + ((heads[other].encode(decoded) - mean.detach()) ** 2).mean()
    count = len(names)
    pairs = max(count * (count - 1), 1)
    total = (config.recon_weight * recon / count + config.kl_weight * kl / count
             + config.retarget_weight * retarget / pairs + config.cycle_weight * cycle / pairs)
    return {"total": total, "recon": recon / count, "retarget": retarget / pairs, "cycle": cycle / pairs, "kl": kl / count}


# --- checkpoints (safetensors + JSON, no pickle) -----------------------------------------------------

_CHECKPOINT = "checkpoint.safetensors"


def _save_checkpoint(directory: Path, config: LatentTrainConfig, step: int, heads: dict[str, LatentHead],
                     optimizer: torch.optim.Optimizer, schedule: torch.optim.lr_scheduler.LambdaLR,
                     samplers: dict[str, PoseSampler], noise: torch.Generator | None) -> None:
    tensors: dict[str, torch.Tensor] = {}
    for name, head in heads.items():
        for key, value in head.state_dict().items():
            tensors[f"head/{name}/{key}"] = value.detach().cpu().contiguous()
    state = optimizer.state_dict()
    for index, slot in state["state"].items():
        for key, value in slot.items():
            tensors[f"optim/{index}/{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
    for name, sampler in samplers.items():
        tensors[f"rng/{name}"] = sampler.generator.get_state()
    if noise is not None:
        tensors["rng/noise"] = noise.get_state()
    metadata = {
        "config_digest": config.digest(),
        "step": str(step),
        "param_groups": json.dumps(state["param_groups"]),
        "schedule": json.dumps(schedule.state_dict(), default=str),
    }
    write_with_atomic(directory / _CHECKPOINT, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def _load_checkpoint(directory: Path, config: LatentTrainConfig, heads: dict[str, LatentHead],
                     optimizer: torch.optim.Optimizer, schedule: torch.optim.lr_scheduler.LambdaLR,
                     samplers: dict[str, PoseSampler], noise: torch.Generator | None) -> int:
    """Resume from ``directory`` if it holds a checkpoint of the same config; returns the step to start at."""
    path = directory / _CHECKPOINT
    if not path.is_file():
        return 0
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata: dict[str, Any] = handle.metadata() or {}
    if metadata.get("config_digest") != config.digest():
        return 0
    tensors = load_file(str(path))
    for name, head in heads.items():
        prefix = f"head/{name}/"
        head.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    optimizer_state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optim/"):
            _, index, field = key.split("/", 2)
            optimizer_state.setdefault(int(index), {})[field] = value
    device = next(iter(heads.values())).lower.device
    optimizer.load_state_dict({
        "state": {i: {k: (v if k == "step" else v.to(device)) for k, v in slot.items()} for i, slot in optimizer_state.items()},
        "param_groups": json.loads(metadata["param_groups"]),
    })
    schedule_state = json.loads(metadata["schedule"])
    schedule.last_epoch = int(schedule_state["last_epoch"])
    schedule._step_count = int(schedule_state.get("_step_count", schedule.last_epoch + 1))
    for name, sampler in samplers.items():
        if f"rng/{name}" in tensors:
            sampler.generator.set_state(tensors[f"rng/{name}"])
    if noise is not None and "rng/noise" in tensors:
        noise.set_state(tensors["rng/noise"])
    return int(metadata["step"])
