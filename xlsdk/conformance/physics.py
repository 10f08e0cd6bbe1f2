"""``xlsdk check HAND --physics``: does the hand hold the standard objects with grasps decoded from the latent?

A conformance check (:func:`xlsdk.conformance.run_checks` runs it with ``physics=True``) built on the engine:
the world, the grasp synthesis and the one grasp executor of :mod:`xlsdk.physics`.

For each standard object the check

1. synthesises candidate grasps on the hand's own FK (:mod:`xlsdk.physics.grasps`, the one synthesis
   the demo and the benchmark's expert use too): a wrap about a centre in front of the knuckles (tight
   and loose), an envelope about the fingertips' own centroid, and for the cube a thumb-index pinch;
2. sends each through the shared latent (``decode(encode(q))`` with the hand's fitted head), as a policy
   acting in latent space would;
3. executes them in MuJoCo, best IK residual first (:func:`xlsdk.physics.grasp.execute_grasp`: approach,
   close and squeeze, lift, hold), until one holds the object; then the shipped grasp sequence's power
   grasp (:mod:`xlsdk.grasp_sequence`), retargeted to the hand through the latent, gets a last try.

Every object's verdict carries the diagnosis of the attempt shown (the one that held, else the one that
lifted the object highest): the grasp's IK residual, the joint change the latent round trip caused, the
wrist's back-off and how far the open hand pushed the object on approach, which links touch it once
closed and how deep, and the grip (friction it can carry) against the object's weight, plus
:func:`diagnose`'s one-line reading of them. The hand passes when it holds at least :data:`MIN_HELD`
of the objects. It writes a strip PNG (a row of rendered phases per object) so the vendor sees what
happened.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from xlsdk.hand import Hand
from xlsdk.physics.grasp import GraspResult
from xlsdk.physics.grasps import Grasp
from xlsdk.physics.scene import SceneObject

#: the standard objects of the check: a slim bottle, a ball and a small cube (sizes and masses in metres/kg)
CHECK_OBJECTS = (
    SceneObject(name="bottle", kind="cylinder", size=(0.02, 0.05), mass=0.06, colour=(0.85, 0.22, 0.18, 1.0)),
    SceneObject(name="ball", kind="ball", size=(0.03,), mass=0.05, colour=(0.95, 0.7, 0.1, 1.0)),
    SceneObject(name="cube", kind="cube", size=(0.02,), mass=0.04, colour=(0.2, 0.45, 0.85, 1.0)),
)
MIN_HELD = 2
#: diagnosis thresholds: a synthesised grasp whose fingertips miss the surface by more than this cannot form
MAX_RESIDUAL_MM = 8.0
#: a latent round trip that moves a joint by more than this changes the grasp (radians)
MAX_ROUNDTRIP_RAD = 0.15
#: an object the open hand moved by more than this before closing was hit by the fingers on the way in
MAX_PUSHED_MM = 10.0


class ObjectVerdict(BaseModel):
    """One object's result and the diagnosis of the attempt shown in the strip."""

    model_config = ConfigDict(frozen=True)
    object: str
    held: bool
    lifted_mm: float
    grasp: str  # which latent-decoded grasp held it: a synthesised kind (wrap, envelop, pinch), "recorded" or "none"
    latent_roundtrip_rad: float  # largest joint change decode(encode(q)) made to the shown grasp
    ik_residual_mm: float | None  # the synthesised grasp's fingertips from the surface (None: the recorded grasp)
    backoff_mm: float
    pushed_mm: float
    touching: tuple[str, ...]
    penetration_mm: float
    grip_n: float
    weight_n: float
    saturated: float
    diagnosis: str
    attempts: tuple[str, ...]  # every attempt in order, "kind: held|dropped (lifted mm)"


class PhysicsCheck(BaseModel):
    model_config = ConfigDict(frozen=True)
    hand: str
    objects: list[ObjectVerdict]
    strip: Path | None
    passed: bool
    model: str = ""  # what the MuJoCo hand is drawn and collided with, and why (hand_model.ModelChoice.explain)


def candidates(hand: Hand, item: SceneObject) -> list[Grasp]:
    """The synthesised grasps tried on ``item``, best FK residual first (:mod:`xlsdk.physics.grasps`)."""
    from xlsdk.physics import grasps

    size = float(item.dims[0])
    axial = item.kind != "ball"  # bottles and cubes: fingertips around an axis along the palm's X
    found = [grasps.cached(hand, "wrap", size, cylinder=axial), grasps.cached(hand, "envelop", size, cylinder=axial),
             grasps.cached(hand, "wrap", size, cylinder=axial, loose=True)]
    if item.kind == "cube":
        found += [grasps.cached(hand, "pinch", size), grasps.cached(hand, "pinch", size, parallel=True)]
    return sorted(found, key=lambda grasp: grasp.residual_m)


def diagnose(result: GraspResult, residual_mm: float | None, roundtrip_rad: float) -> str:
    """One line: the first cause, in grasp order, that explains a failure (or what held the object)."""
    fingers = ", ".join(result.touching) or "nothing"
    if result.held:
        return f"held: {len(result.touching)} links touch ({fingers}); grip {result.grip_n:.1f} N vs weight {result.weight_n:.2f} N"
    if residual_mm is not None and residual_mm > MAX_RESIDUAL_MM:
        return f"grasp: the fingertips miss the object's surface by {residual_mm:.0f} mm at the synthesised pose (IK)"
    if roundtrip_rad > MAX_ROUNDTRIP_RAD:
        return f"latent: the round trip moves a joint by {roundtrip_rad:.2f} rad (refit the head)"
    if result.pushed_mm > MAX_PUSHED_MM:
        return f"approach: the open hand pushed the object {result.pushed_mm:.0f} mm before closing"
    if len(result.touching) < 2:
        what = f"only {fingers} touches" if result.touching else "nothing touches"
        return f"contact: {what} the object once closed (wrist placement, back-off {result.backoff_mm:.0f} mm)"
    if result.grip_n < result.weight_n:
        return (f"strength: grip {result.grip_n:.2f} N < weight {result.weight_n:.2f} N "
                f"({result.saturated:.0%} of servos at their effort)")
    return f"slip: {len(result.touching)} links touch ({fingers}), grip {result.grip_n:.1f} N, yet it slid out on the lift"


def recorded_grasp(hand: Hand, source: Hand, sequence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(open, power grasp) of a recorded grasp ``sequence`` of ``source``, encoded by ``source``'s head and
    decoded by ``hand``'s (:func:`xlsdk.grasp_sequence.grasp_frames` picks the two frames)."""
    from xlsdk.grasp_sequence import grasp_frames
    from xlsdk.latent.head_loading import decode, encode

    open_frame, grasp_frame = grasp_frames(source, sequence)
    decoded = np.asarray(decode(hand, encode(source, sequence[[open_frame, grasp_frame]])), dtype=np.float64)
    return decoded[0], decoded[1]


def check_physics(hand: Hand, out_dir: Path | None = None, *, source: Hand, sequence: np.ndarray,
                  image_size: int = 128) -> PhysicsCheck:
    """Run the physics check on ``hand`` (needs a fitted head); write ``<out_dir>/<hand>_physics.png``.

    Each object is tried with latent-decoded grasps, in order, until one holds it: the synthesised
    candidates (:func:`candidates`, each round-tripped through the head) from the open pose, then the
    power grasp of ``sequence``, recorded on ``source`` (the shipped grasp sequence, see
    :mod:`xlsdk.grasp_sequence`; the caller turns its hand name into ``source``), encoded on ``source``
    and decoded by this hand's head, from the sequence's open frame.
    """
    from xlsdk.latent.head_loading import decode, encode
    from xlsdk.physics.grasp import execute_grasp
    from xlsdk.physics.strip import PhysicsRow, strip, write_png
    from xlsdk.physics.world_spec import PhysicsConfig

    verdicts: list[ObjectVerdict] = []
    rows: list[PhysicsRow] = []
    images: dict[str, list[np.ndarray]] = {}
    recorded_open, recorded_close = recorded_grasp(hand, source, sequence)
    for item in CHECK_OBJECTS:
        found = candidates(hand, item)
        poses = np.stack([g.q_grasp for g in found] + [g.q_open for g in found])
        decoded = np.asarray(decode(hand, encode(hand, poses)), dtype=np.float64)
        closes, opens = decoded[: len(found)], decoded[len(found):]
        attempts = [(g.kind, q_start, q_close, g.centre, g.residual_m * 1000, float(np.abs(q_close - g.q_grasp).max()))
                    for g, q_start, q_close in zip(found, opens, closes, strict=True)]
        attempts.append(("recorded", recorded_open, recorded_close, None, None, 0.0))
        best: tuple | None = None
        log: list[str] = []
        for kind, start, close, centre, residual, roundtrip in attempts:
            frames: list[np.ndarray] = []

            def capture(world, phase, frames=frames):  # noqa: ANN001 - execute_grasp's callback
                frames.append(world.render("grasp", image_size))

            result = execute_grasp(hand, item, start, close, config=PhysicsConfig(image_size=image_size),
                                   capture=capture, centre=centre, kind=kind)
            log.append(f"{kind}: {'held' if result.held else 'dropped'} ({result.lifted_m * 1000:.0f} mm)")
            if best is None or result.held or result.lifted_m > best[1].lifted_m:
                best = (kind, result, frames, residual, roundtrip)
            if result.held:
                break
        kind, result, frames, residual, roundtrip = best
        lifted = round(result.lifted_m * 1000, 1)
        diagnosis = diagnose(result, residual, roundtrip)
        verdicts.append(ObjectVerdict(
            object=item.name, held=result.held, lifted_mm=lifted, grasp=kind if result.held else "none",
            latent_roundtrip_rad=round(roundtrip, 4), ik_residual_mm=None if residual is None else round(residual, 1),
            backoff_mm=result.backoff_mm, pushed_mm=result.pushed_mm, touching=result.touching,
            penetration_mm=result.penetration_mm, grip_n=result.grip_n, weight_n=result.weight_n,
            saturated=result.saturated, diagnosis=diagnosis, attempts=tuple(log)))
        rows.append(PhysicsRow(hand=item.name, object=item.name, held=result.held, lifted_mm=lifted,
                               contacts=result.contacts, simulated_s=result.seconds_simulated, wall_s=result.wall_s,
                               note=f"{kind}: {diagnosis}"))
        images[item.name] = frames
    path = None
    if out_dir is not None:
        path = Path(out_dir) / f"{hand.name}_physics.png"
        write_png(path, strip(rows, images))
    held = sum(v.held for v in verdicts)
    from xlsdk.physics.hand_model import model_choice

    return PhysicsCheck(hand=hand.name, objects=verdicts, strip=path, passed=held >= MIN_HELD,
                        model=model_choice(hand).explain())
