"""One grasp, every hand, in physics: what ``xlsdk demo`` and the docs landing picture show.

The shipped grasp sequence's power grasp (its most closed frame) and its open frame, retargeted to each
hand through the shared latent, are executed by :func:`xlsdk.physics.grasp.execute_grasp` on the same
slim bottle. Each hand's result (held or not, how high) comes from the object's state; frames of each
phase are rendered by MuJoCo and laid out as one strip per hand.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.hand import Hand
from xlsdk.physics.scene import SceneObject

#: the object every hand grasps in the demo: a slim bottle, 4 cm across, 10 cm tall, 60 g
DEMO_OBJECT = SceneObject(name="bottle", kind="cylinder", size=(0.02, 0.05), mass=0.06, colour=(0.85, 0.22, 0.18, 1.0))
PHASES = ("approach", "closed", "lifted", "held")


class PhysicsRow(BaseModel):
    """One hand's grasp in physics."""

    model_config = ConfigDict(frozen=True)
    hand: str
    object: str
    held: bool
    lifted_mm: float
    contacts: int
    simulated_s: float
    wall_s: float
    note: str = ""  # a line under the row's frames (the physics check's diagnosis)


def grasp_frames(hand: Hand, q: np.ndarray) -> tuple[int, int]:
    """(open frame, grasp frame) of a trajectory: its least and its most closed frames (range-normalised)."""
    lower, upper = np.asarray(hand.spec.lower), np.asarray(hand.spec.upper)
    closure = ((np.asarray(q) - lower) / np.maximum(upper - lower, 1e-9)).sum(axis=1)
    return int(np.argmin(closure)), int(np.argmax(closure))


def grasp_in_physics(hand: Hand, q: np.ndarray, open_frame: int, grasp_frame: int, *, image_size: int = 160,
                     item: SceneObject = DEMO_OBJECT) -> tuple[PhysicsRow, list[np.ndarray]]:
    """Execute frames ``open_frame -> grasp_frame`` of ``q`` on ``item``; the row and one image per phase."""
    from xlsdk.physics.grasp import execute_grasp
    from xlsdk.physics.world import PhysicsConfig

    images: list[np.ndarray] = []
    result = execute_grasp(hand, item, q[open_frame], q[grasp_frame], config=PhysicsConfig(image_size=image_size),
                           capture=lambda world, phase: images.append(world.render("grasp", image_size)))
    row = PhysicsRow(hand=hand.name, object=item.name, held=result.held, lifted_mm=round(result.lifted_m * 1000, 1),
                     contacts=result.contacts, simulated_s=result.seconds_simulated, wall_s=result.wall_s)
    return row, images


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


def held_picture(rows: list[PhysicsRow], images: dict[str, list[np.ndarray]]) -> np.ndarray:
    """Every hand in its last phase side by side, named (the docs landing picture)."""
    from PIL import Image, ImageDraw

    size = next(iter(images.values()))[0].shape[0]
    canvas = Image.new("RGB", (size * len(rows), size + 20), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for index, row in enumerate(rows):
        canvas.paste(Image.fromarray(images[row.hand][-1]), (index * size, 0))
        draw.text((index * size + 6, size + 4), f"{row.hand}: {'holds' if row.held else 'drops'} the bottle",
                  fill=(20, 110, 40) if row.held else (170, 30, 30))
    return np.asarray(canvas)


def write_png(path, image: np.ndarray) -> None:
    """Write an RGB array as PNG atomically."""
    from PIL import Image

    from xlsdk.files import write_with_atomic

    write_with_atomic(path, lambda tmp: Image.fromarray(image).save(tmp, format="PNG", optimize=True))
