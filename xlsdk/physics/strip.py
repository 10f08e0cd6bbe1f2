"""Pictures of grasps in physics: one row of rendered phase frames per attempt, labelled with its verdict.

:func:`~xlsdk.physics.grasp.execute_grasp` calls its ``capture`` once per phase (:data:`PHASES`); a row of
those frames shows what happened far faster than a table does. ``xlsdk check --physics`` draws one row
per standard object (its diagnosis under the frames), ``xlsdk demo`` one row per hand: both draw here, so
the check, a library module, needs nothing from the demo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

#: the phases :func:`~xlsdk.physics.grasp.execute_grasp` captures a frame of, in order
PHASES = ("approach", "closed", "lifted", "held")


class PhysicsRow(BaseModel):
    """One grasp in physics (a hand's in the demo, an object's in the check)."""

    model_config = ConfigDict(frozen=True)
    hand: str
    object: str
    held: bool
    lifted_mm: float
    contacts: int
    simulated_s: float
    wall_s: float
    note: str = ""  # a line under the row's frames (the physics check's diagnosis)


def strip(rows: list[PhysicsRow], images: dict[str, list[np.ndarray]], *,
          phases: tuple[str, ...] = PHASES) -> np.ndarray:
    """One row of phase images per hand, labelled, each row's ``note`` written under its frames."""
    import textwrap

    from PIL import Image, ImageDraw

    size = next(iter(images.values()))[0].shape[0]
    label_width = 110
    width = label_width + size * len(phases)
    notes = [textwrap.wrap(row.note, width=max(20, (width - 12) // 6)) for row in rows]
    band = 12 * max((len(lines) for lines in notes), default=0) + (4 if any(notes) else 0)
    canvas = Image.new("RGB", (width, 18 + (size + band) * len(rows)), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for column, phase in enumerate(phases):
        draw.text((label_width + column * size + 4, 3), phase, fill=(40, 40, 40))
    for index, row in enumerate(rows):
        top = 18 + index * (size + band)
        verdict = "holds" if row.held else "drops"
        colour = (20, 120, 40) if row.held else (180, 30, 30)
        draw.text((6, top + size // 2 - 14), row.hand, fill=(20, 20, 20))
        draw.text((6, top + size // 2 + 2), f"{verdict} ({row.lifted_mm:.0f} mm)", fill=colour)
        for column, image in enumerate(images[row.hand][: len(phases)]):
            canvas.paste(Image.fromarray(image), (label_width + column * size, top))
        for line, text in enumerate(notes[index]):
            draw.text((6, top + size + 2 + 12 * line), text, fill=colour)
    return np.asarray(canvas)


def write_png(path: Path | str, image: np.ndarray) -> None:
    """Write an RGB array as PNG atomically."""
    from PIL import Image

    from xlsdk.files import write_with_atomic

    write_with_atomic(path, lambda tmp: Image.fromarray(image).save(tmp, format="PNG", optimize=True))
