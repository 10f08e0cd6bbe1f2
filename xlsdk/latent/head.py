"""One hand's encoder/decoder around the shared latent (the "head").

``E_h(q) -> (mu, logvar)`` in R^k and ``D_h(z) -> q``. Joints are scaled to [-1, 1] from the hand's
limits before the encoder, and the decoder's output is squashed back into the limits, so a decoded
command can never leave the joint range. Only mean latents are used at inference (no sampling).
"""

from __future__ import annotations

import torch
from torch import nn

from xlsdk.latent.manifests import DEFAULT_HIDDEN, DEFAULT_LATENT_DIM, HeadConfig

__all__ = ["DEFAULT_HIDDEN", "DEFAULT_LATENT_DIM", "HeadConfig", "LatentHead", "freeze", "weight_tensors"]

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

    def normalize(self, q: torch.Tensor) -> torch.Tensor:
        """Joint values to [-1, 1] (lower -> -1, upper -> +1)."""
        return 2.0 * (q - self.lower) / (self.upper - self.lower) - 1.0

    def denormalize(self, u: torch.Tensor) -> torch.Tensor:
        return self.lower + (u + 1.0) * 0.5 * (self.upper - self.lower)

    def encode_distribution(self, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior ``(mu, log_var)`` of joint vectors ``q`` (B, dof)."""
        features = self.encoder(self.normalize(q))
        return self.to_mean(features), self.to_log_var(features).clamp(-12.0, 4.0)

    def encode(self, q: torch.Tensor) -> torch.Tensor:
        """The posterior mean: the latent of ``q``."""
        return self.encode_distribution(q)[0]

    def decode_normalized(self, z: torch.Tensor) -> torch.Tensor:
        """Decoded joints in [-1, 1]."""
        return torch.clamp(_SQUASH_GAIN * torch.tanh(self.to_joints(self.decoder(z))), -1.0, 1.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (B, k) to joint vectors (B, dof) inside the limits."""
        return self.denormalize(self.decode_normalized(z))

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        """Round trip ``D(E(q))`` (handy for reconstruction checks)."""
        return self.decode(self.encode(q))


def weight_tensors(head: LatentHead) -> dict[str, torch.Tensor]:
    """The learned tensors only (limits are part of the config), contiguous, on the CPU."""
    return {name: tensor.detach().cpu().contiguous() for name, tensor in head.named_parameters()}


def freeze(head: LatentHead) -> LatentHead:
    head.eval()
    for parameter in head.parameters():
        parameter.requires_grad_(False)
    return head
