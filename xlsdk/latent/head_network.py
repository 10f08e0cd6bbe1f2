"""One hand's encoder/decoder around the shared latent (the "head").

``E_h(q) -> (mu, logvar)`` in R^k and ``D_h(z) -> q``. Joints are scaled to [-1, 1] from the hand's
limits before the encoder, and the decoder's output is squashed back into the limits, so a decoded
command can never leave the joint range. Only mean latents are used at inference (no sampling).

With ``config.linear_skip`` each direction also has a linear path beside its MLP (the encoder mean is
``A q_norm + MLP(q_norm)``, the decoder's pre-squash value ``B z + MLP(z)``). Reconstruction asks the
round trip to be close to the identity; through LayerNorm and SiLU blocks alone an MLP only
approximates that slowly (a reconstruction-only fit of a 22-DOF hand levelled off near 0.027 rad),
while the linear paths give it exactly and leave the MLPs the non-linear corrections. The core
latent's heads predate the option and keep it off (their files and fingerprint are unchanged); fitted
heads turn it on.
"""

from __future__ import annotations

import torch
from torch import nn

from xlsdk.latent.manifests import DEFAULT_HIDDEN, DEFAULT_LATENT_DIM, HeadConfig

__all__ = ["DEFAULT_HIDDEN", "DEFAULT_LATENT_DIM", "HeadConfig", "LatentHead", "freeze", "start_as_identity", "unsquash",
           "weight_tensors"]

# the decoder's tanh is stretched a little and clipped so that the limits themselves are reachable
_SQUASH_GAIN = 1.05


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear + LayerNorm + SiLU blocks between consecutive sizes."""
    layers: list[nn.Module] = []
    for width_in, width_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(width_in, width_out), nn.LayerNorm(width_out), nn.SiLU()]
    return nn.Sequential(*layers)


class LatentHead(nn.Module):
    """Encoder and decoder of one hand."""

    def __init__(self, config: HeadConfig) -> None:
        super().__init__()
        self.config = config
        self.register_buffer("lower", torch.tensor(config.lower, dtype=torch.float32))
        self.register_buffer("upper", torch.tensor(config.upper, dtype=torch.float32))
        hidden = list(config.hidden)
        self.encoder = _mlp([config.dof, *hidden])
        self.to_mean = nn.Linear(hidden[-1], config.latent_dim)
        self.to_log_var = nn.Linear(hidden[-1], config.latent_dim)
        self.decoder = _mlp([config.latent_dim, *hidden[::-1]])
        self.to_joints = nn.Linear(hidden[0], config.dof)
        if config.linear_skip:
            self.mean_skip = nn.Linear(config.dof, config.latent_dim)
            self.joints_skip = nn.Linear(config.latent_dim, config.dof)

    def normalize(self, q: torch.Tensor) -> torch.Tensor:
        """Joint values to [-1, 1] (lower -> -1, upper -> +1)."""
        return 2.0 * (q - self.lower) / (self.upper - self.lower) - 1.0

    def denormalize(self, u: torch.Tensor) -> torch.Tensor:
        return self.lower + (u + 1.0) * 0.5 * (self.upper - self.lower)

    def encode_distribution(self, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior ``(mu, log_var)`` of joint vectors ``q`` (B, dof)."""
        u = self.normalize(q)
        features = self.encoder(u)
        mean = self.to_mean(features)
        if self.config.linear_skip:
            mean = mean + self.mean_skip(unsquash(u))
        return mean, self.to_log_var(features).clamp(-12.0, 4.0)

    def encode(self, q: torch.Tensor) -> torch.Tensor:
        """The posterior mean: the latent of ``q``."""
        return self.encode_distribution(q)[0]

    def decode_normalized(self, z: torch.Tensor) -> torch.Tensor:
        """Decoded joints in [-1, 1]."""
        pre = self.to_joints(self.decoder(z))
        if self.config.linear_skip:
            pre = pre + self.joints_skip(z)
        return torch.clamp(_SQUASH_GAIN * torch.tanh(pre), -1.0, 1.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (B, k) to joint vectors (B, dof) inside the limits."""
        return self.denormalize(self.decode_normalized(z))

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        """Round trip ``D(E(q))`` (handy for reconstruction checks)."""
        return self.decode(self.encode(q))


def unsquash(u: torch.Tensor) -> torch.Tensor:
    """The decoder squash's inverse: the pre-squash value that decodes to ``u`` (clamped into [-1, 1] first)."""
    return torch.atanh(u.clamp(-1.0, 1.0) / _SQUASH_GAIN)


def start_as_identity(head: LatentHead, generator: torch.Generator) -> None:
    """Make a fresh skip head's round trip the identity: the linear paths an orthonormal embedding of
    the joints into the latent and its transpose, the MLP paths' output layers zero (they learn from
    there). Reconstruction then starts exact, and training only has to keep it while the latent turns
    into what the core latent means."""
    if not head.config.linear_skip:
        raise ValueError("start_as_identity needs a head with config.linear_skip")
    embedding = torch.linalg.qr(torch.randn(head.config.latent_dim, head.config.dof, generator=generator,
                                            dtype=torch.float64))[0].to(torch.float32)
    with torch.no_grad():
        head.mean_skip.weight.copy_(embedding)
        head.joints_skip.weight.copy_(embedding.T)
        for layer in (head.mean_skip, head.joints_skip):
            layer.bias.zero_()
        for layer in (head.to_mean, head.to_joints):
            layer.weight.zero_()
            layer.bias.zero_()


def weight_tensors(head: LatentHead) -> dict[str, torch.Tensor]:
    """The learned tensors only (limits are part of the config), contiguous, on the CPU."""
    return {name: tensor.detach().cpu().contiguous() for name, tensor in head.named_parameters()}


def freeze(head: LatentHead) -> LatentHead:
    head.eval()
    for parameter in head.parameters():
        parameter.requires_grad_(False)
    return head
