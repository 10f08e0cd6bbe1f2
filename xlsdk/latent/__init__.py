"""The shared latent action space: heads, the frozen core latent, training, fitting, retargeting."""

from xlsdk.latent.head import LATENT_DIM, HeadConfig, LatentHead

__all__ = ["LATENT_DIM", "HeadConfig", "LatentHead"]
