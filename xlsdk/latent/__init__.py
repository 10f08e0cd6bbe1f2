"""The shared latent action space: heads, the frozen core latent, training, fitting, retargeting."""

from xlsdk.latent.head import DEFAULT_LATENT_DIM, HeadConfig, LatentHead

__all__ = ["DEFAULT_LATENT_DIM", "HeadConfig", "LatentHead"]
