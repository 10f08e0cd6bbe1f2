"""The shared latent action space: heads, the frozen core latent, training, fitting, retargeting.

Importing the package is cheap (no torch): :class:`LatentHead` loads on first access.
"""

from typing import Any

from xlsdk.latent.manifests import DEFAULT_LATENT_DIM, HeadConfig

__all__ = ["DEFAULT_LATENT_DIM", "HeadConfig", "LatentHead"]


def __getattr__(name: str) -> Any:
    if name == "LatentHead":
        from xlsdk.latent.head_network import LatentHead

        return LatentHead
    raise AttributeError(f"module 'xlsdk.latent' has no attribute {name!r}")
