"""One grasp, every hand, in physics: what ``xlsdk demo`` and the docs landing picture show.

The shipped grasp sequence's power grasp (its most closed frame) and its open frame, retargeted to each
hand through the shared latent, are executed by :func:`xlsdk.physics.grasp.execute_grasp` on the same
slim bottle. Each hand's result (held or not, how high) comes from the object's state; frames of each
phase are rendered by MuJoCo and laid out as one strip per hand (:func:`xlsdk.physics.strip.strip`, which
the physics check draws its rows with too).
"""

from __future__ import annotations

import numpy as np

from xlsdk.hand import Hand
from xlsdk.physics.scene import SceneObject
from xlsdk.physics.strip import PhysicsRow

#: the object every hand grasps in the demo: a slim bottle, 4 cm across, 10 cm tall, 60 g
DEMO_OBJECT = SceneObject(name="bottle", kind="cylinder", size=(0.02, 0.05), mass=0.06, colour=(0.85, 0.22, 0.18, 1.0))


def grasp_in_physics(hand: Hand, q: np.ndarray, open_frame: int, grasp_frame: int, *, image_size: int = 160,
                     item: SceneObject = DEMO_OBJECT) -> tuple[PhysicsRow, list[np.ndarray]]:
    """Execute frames ``open_frame -> grasp_frame`` of ``q`` on ``item``; the row and one image per phase."""
    from xlsdk.physics.grasp import execute_grasp
    from xlsdk.physics.world_spec import PhysicsConfig

    images: list[np.ndarray] = []
    result = execute_grasp(hand, item, q[open_frame], q[grasp_frame], config=PhysicsConfig(image_size=image_size),
                           capture=lambda world, phase: images.append(world.render("grasp", image_size)))
    row = PhysicsRow(hand=hand.name, object=item.name, held=result.held, lifted_mm=round(result.lifted_m * 1000, 1),
                     contacts=result.contacts, simulated_s=result.seconds_simulated, wall_s=result.wall_s)
    return row, images


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

