"""``xlsdk check HAND --physics``: does the hand hold the standard objects with grasps decoded from the latent?

For each standard object the check

1. synthesises an enveloping grasp on the hand's own FK with xlsdk's IK (:func:`synthesise_grasps`): the
   fingertips on the object's surface around their common centre, the centre clear of the palm;
2. sends it through the shared latent (``decode(encode(q))`` with the hand's fitted head), as a policy
   acting in latent space would;
3. executes it in MuJoCo (:func:`xlsdk.physics.grasp.execute_grasp`: approach, close and squeeze,
   lift 10 cm, hold 1 s) and reads the object's state; if the object is not held, the shipped grasp
   sequence's power grasp, retargeted to the hand through the latent, gets a second try.

The hand passes when it holds at least :data:`MIN_HELD` of the objects. It writes a strip PNG (a row of
rendered phases per object) so the vendor sees what happened.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from xlsdk.hand import Hand
from xlsdk.physics.scene import SceneObject

#: the standard objects of the check: a slim bottle, a ball and a small cube (sizes and masses in metres/kg)
CHECK_OBJECTS = (
    SceneObject(name="bottle", kind="cylinder", size=(0.02, 0.05), mass=0.06, colour=(0.85, 0.22, 0.18, 1.0)),
    SceneObject(name="ball", kind="ball", size=(0.03,), mass=0.05, colour=(0.95, 0.7, 0.1, 1.0)),
    SceneObject(name="cube", kind="cube", size=(0.02,), mass=0.04, colour=(0.2, 0.45, 0.85, 1.0)),
)
MIN_HELD = 2


class ObjectVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)
    object: str
    held: bool
    lifted_mm: float
    grasp: str  # which latent-decoded grasp held it: "synthesised", "recorded" or "none"
    latent_roundtrip_rad: float


class PhysicsCheck(BaseModel):
    model_config = ConfigDict(frozen=True)
    hand: str
    objects: list[ObjectVerdict]
    strip: Path | None
    passed: bool


def synthesise_grasps(hand: Hand, items: tuple[SceneObject, ...], *, steps: int = 150) -> np.ndarray:
    """Enveloping grasps ``(len(items), dof)`` on the hand's FK: every fingertip on the object's surface.

    Balls: each tip's distance to the tips' centre = the radius. Cylinders and cubes: distance to an axis
    through the centre along the palm's x (across the palm: a side grasp holds a standing bottle that
    way) = the radius (half edge for cubes). The centre is kept a radius (+5 mm) in front of the palm,
    so the object fits between palm and fingers. One IK batch solves every object.
    """
    from xlsdk.ik import descend

    from xlsdk.training import torch_threads

    with torch_threads(1):  # a 3-pose batch gains nothing from threads, and loses a lot on a busy machine
        return _solve(hand, items, steps, descend)


def _solve(hand: Hand, items: tuple[SceneObject, ...], steps: int, descend) -> np.ndarray:  # noqa: ANN001
    radius = torch.tensor([float(item.dims[0]) for item in items], dtype=torch.float64)
    axial = torch.tensor([item.kind != "ball" for item in items])
    start = torch.as_tensor(hand.mid_pose(), dtype=torch.float64)[None].repeat(len(items), 1)
    kinematics = hand.kinematics

    def cost(q: torch.Tensor) -> torch.Tensor:
        tips = kinematics.fingertips(q)  # (B, F, 3)
        centre = tips.mean(dim=1, keepdim=True)
        offset = tips - centre
        distance = torch.where(axial[:, None], offset[..., 1:].norm(dim=-1), offset.norm(dim=-1))
        clearance = torch.relu(radius + 0.005 - centre[:, 0, 1])
        return ((distance - radius[:, None]) ** 2).sum(-1) + 10.0 * clearance ** 2 + 1e-4 * ((q - start) ** 2).sum(-1)

    return descend(hand, start, cost, steps=steps, lr=0.04).numpy()


def recorded_grasp(hand: Hand) -> tuple[np.ndarray, np.ndarray]:
    """(open, power grasp) of the shipped grasp sequence, encoded on its hand and decoded by ``hand``'s head."""
    import xlsdk
    from xlsdk.demo import load_demo_trajectory
    from xlsdk.physics.showcase import grasp_frames

    source_name, q, _ = load_demo_trajectory()
    source = xlsdk.load_hand(source_name)
    open_frame, grasp_frame = grasp_frames(source, q)
    decoded = np.asarray(xlsdk.decode(hand, xlsdk.encode(source, q[[open_frame, grasp_frame]])), dtype=np.float64)
    return decoded[0], decoded[1]


def check_physics(hand: Hand, out_dir: Path | None = None, *, image_size: int = 128) -> PhysicsCheck:
    """Run the physics check on ``hand`` (needs a fitted head); write ``<out_dir>/<hand>_physics.png``.

    Each object is tried with two latent-decoded grasps, in order, until one holds it: the grasp
    synthesised on the hand's FK (round trip through its head) from the open pose, then the shipped
    sequence's power grasp (encoded on the hand it was recorded on, decoded by this hand's head) from
    the sequence's open frame.
    """
    import xlsdk
    from xlsdk.physics.grasp import execute_grasp
    from xlsdk.physics.showcase import PhysicsRow, strip, write_png
    from xlsdk.physics.world import PhysicsConfig

    verdicts: list[ObjectVerdict] = []
    rows: list[PhysicsRow] = []
    images: dict[str, list[np.ndarray]] = {}
    synthesised = synthesise_grasps(hand, CHECK_OBJECTS)
    decoded = np.asarray(xlsdk.decode(hand, xlsdk.encode(hand, synthesised)), dtype=np.float64)
    recorded_open, recorded_close = recorded_grasp(hand)
    q_open = np.asarray(hand.zero_pose(), dtype=np.float64)
    for item, q_ik, q_latent in zip(CHECK_OBJECTS, synthesised, decoded, strict=True):
        attempts = (("synthesised", q_open, q_latent), ("recorded", recorded_open, recorded_close))
        for grasp, start, close in attempts:
            frames: list[np.ndarray] = []

            def capture(world, phase, frames=frames):  # noqa: ANN001 - execute_grasp's callback
                frames.append(world.render("grasp", image_size))

            result = execute_grasp(hand, item, start, close, config=PhysicsConfig(image_size=image_size),
                                   capture=capture)
            if result.held:
                break
        if not result.held:
            grasp = "none"
        lifted = round(result.lifted_m * 1000, 1)
        verdicts.append(ObjectVerdict(object=item.name, held=result.held, lifted_mm=lifted, grasp=grasp,
                                      latent_roundtrip_rad=round(float(np.abs(q_latent - q_ik).max()), 4)))
        rows.append(PhysicsRow(hand=item.name, object=item.name, held=result.held, lifted_mm=lifted,
                               contacts=result.contacts, simulated_s=result.seconds_simulated, wall_s=result.wall_s))
        images[item.name] = frames
    path = None
    if out_dir is not None:
        path = Path(out_dir) / f"{hand.name}_physics.png"
        write_png(path, strip(rows, images))
    held = sum(v.held for v in verdicts)
    return PhysicsCheck(hand=hand.name, objects=verdicts, strip=path, passed=held >= MIN_HELD)
