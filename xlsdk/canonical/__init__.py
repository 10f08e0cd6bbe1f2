"""Package data of the canonical hand: ``hand.toml`` and ``canonical_hand.urdf`` (see xlsdk.builtin)."""
