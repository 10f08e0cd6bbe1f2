"""The grasp sequence that ships with xlsdk, and how to read it.

``inspire_grasp.npz`` (arrays ``hand``, ``q``, ``timestamp``): open, thumb-index pinch, open, power grasp,
open; 7 s at 20 Hz, recorded on the Inspire model. Three places use it: ``xlsdk demo`` replays it on
every hand, ``xlsdk drive`` streams it, and ``xlsdk check --physics`` tries its power grasp as the last
grasp on each object. It lives here, low in the layers (numpy and the files, nothing else), so that the
check reads it without importing the demo: a library module never imports a face. The recorded hand comes
back as a name; the caller, a face, turns it into a ``Hand``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from xlsdk.hand import Hand


def load_demo_trajectory(path: Path | None = None) -> tuple[str, np.ndarray, np.ndarray]:
    """(source hand, q (T, dof), timestamps (T,)) of the shipped grasp sequence, or of ``path``."""
    import zipfile

    from xlsdk.errors import DataFormatError

    path = Path(path) if path else Path(str(files(__name__) / "inspire_grasp.npz"))
    if not path.is_file():
        raise DataFormatError(f"{path}: no such trajectory file (an .npz with arrays hand, q and timestamp)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in ("hand", "q", "timestamp") if key not in archive]
            if missing:
                raise DataFormatError(f"{path}: the .npz has no {', '.join(missing)} array (it needs hand, q and timestamp)")
            return str(archive["hand"]), np.asarray(archive["q"], dtype=np.float64), np.asarray(archive["timestamp"])
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataFormatError(f"{path}: not a readable .npz trajectory ({exc})") from None


def grasp_frames(hand: Hand, q: np.ndarray) -> tuple[int, int]:
    """(open frame, grasp frame) of a trajectory: its least and its most closed frames (range-normalised)."""
    lower, upper = np.asarray(hand.spec.lower), np.asarray(hand.spec.upper)
    closure = ((np.asarray(q) - lower) / np.maximum(upper - lower, 1e-9)).sum(axis=1)
    return int(np.argmin(closure)), int(np.argmax(closure))
