"""What the geometry at and around the zero pose says: which chain is the thumb, the palm frame, the side.

The thumb is the chain pointing most against the others, curling against them and sitting nearest
the wrist. The palm frame has +Z along the other fingers, +Y the side they curl to (perpendicular to
the line of their knuckles) and +X = Y x Z: a right-handed frame built from the fingers alone, so the
palm link's axes never decide the side. The thumb's side is where it is mounted and where its
workspace lies along X: a right hand has its thumb on -X, a left hand on +X.
"""

from __future__ import annotations

import numpy as np

from xlsdk.manifest_proposal.chains import FingerChain, sweep_ends
from xlsdk.manifest_proposal.names import Handedness


_SIDE_AMBIGUOUS = 0.3  # |thumb side evidence| below this (in knuckle half-spans): geometry cannot tell the side


_WORKSPACE_SAMPLES = 243  # 3^5: a thumb's joints at their ends and middles, or this many random poses


def flexion_direction(chain: FingerChain) -> np.ndarray:
    """Where the fingertip goes when the finger flexes, from each joint swept across its range.

    Two cues, both in metres: a sweep counts in proportion to how much it shortens the finger
    (knuckle-to-tip distance; the closed end is the shorter one), and in proportion to how lopsided its
    range is (fingers flex much farther than they hyperextend; the closed end is the far limit). The second
    cue matters when a flexion axis passes through the knuckle, where the first sees nothing.
    """
    assert chain.fk is not None
    total = np.zeros(3)
    for index, joint in enumerate(chain.joints):
        if not joint.movable or joint.mimic is not None or joint.type == "prismatic":
            continue
        low, high = sweep_ends(joint)
        tips = [chain.fk.sweep(index, value) for value in (low, high)]
        reach = [float(np.linalg.norm(tip - chain.knuckle)) for tip in tips]
        closed, opened = (tips[0], tips[1]) if reach[0] < reach[1] else (tips[1], tips[0])
        total += abs(reach[0] - reach[1]) * unit(closed - opened)
        span = abs(low) + abs(high)
        if span > 1e-9:
            far, near = (tips[1], tips[0]) if abs(high) >= abs(low) else (tips[0], tips[1])
            total += (abs(abs(high) - abs(low)) / span) * (far - near)
    return total


def extended_tip(chain: FingerChain) -> np.ndarray:
    """The tip with every joint at the end of its range (or 0) that extends the finger most."""
    assert chain.fk is not None
    values: dict[str, float] = {}
    for index, joint in enumerate(chain.joints):
        if not joint.movable or joint.mimic is not None:
            continue
        low, high = sweep_ends(joint)
        candidates = [v for v in (low, high, 0.0) if low <= v <= high]
        fk = chain.fk
        values[joint.name] = max(candidates, key=lambda v: (
            round(float(np.linalg.norm(fk.sweep(index, v) - chain.knuckle)), 6), v == 0.0))
    return chain.fk.tip(values)


def pick_thumb(chains: list[FingerChain]) -> int:
    """The chain pointing and curling most against the others, sitting apart from them and nearest the wrist."""
    directions = [unit(c.tip - c.knuckle) for c in chains]
    curls = [unit(c.curl) for c in chains]
    length = float(np.mean([np.linalg.norm(c.tip - c.knuckle) for c in chains])) or 1.0
    scores = []
    for i, chain in enumerate(chains):
        others = [j for j in range(len(chains)) if j != i]
        along = unit(np.mean([directions[j] for j in others], axis=0))
        opposed = 1.0 - float(directions[i] @ along)
        curl_against = 0.5 * (1.0 - float(curls[i] @ unit(np.mean([curls[j] for j in others], axis=0))))
        centroid = np.mean([chains[j].knuckle for j in others], axis=0)
        apart = float(np.linalg.norm(chain.knuckle - centroid)) / length
        lower = float(np.clip((centroid - chain.knuckle) @ along / length, -1.0, 1.0))
        scores.append(opposed + 0.5 * curl_against + 0.25 * apart + 0.5 * lower)
    return int(np.argmax(scores))


def palm_axes(fingers: list[FingerChain], thumb: FingerChain) -> np.ndarray:
    """Columns: the xlsdk palm frame's X, Y, Z expressed in the palm link's frame.

    +Z: the mean open direction of the fingers. +Y: perpendicular to +Z and to the line of the knuckles
    (two or more fingers), on the side the fingers curl to; with one finger, its curl direction.
    """
    z = unit(np.mean([unit(c.open_tip - c.knuckle) for c in fingers], axis=0))
    curl = sum((c.curl for c in fingers), np.zeros(3))
    curl -= (curl @ z) * z
    normal = None
    if len(fingers) >= 2:
        knuckles = np.array([c.knuckle for c in fingers])
        points = knuckles - knuckles.mean(axis=0)
        points -= np.outer(points @ z, z)
        _, singular, vt = np.linalg.svd(points)
        if singular[0] > 1e-4:
            normal = unit(np.cross(z, vt[0]))
            cue = float(curl @ normal)
            if abs(cue) < 1e-9:  # the fingers' curl says nothing: the thumb sits on the palm side
                cue = float((thumb.open_tip - knuckles.mean(axis=0)) @ normal)
            normal = normal if cue >= 0 else -normal
    if normal is None:
        if np.linalg.norm(curl) < 1e-9:
            curl = np.cross(z, [1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.cross(z, [0.0, 1.0, 0.0])
        normal = unit(curl)
    y = normal
    x = unit(np.cross(y, z))
    y = np.cross(z, x)
    frame = np.stack([x, y, z], axis=1)
    frame[np.abs(frame) < 1e-5] = 0.0  # axis-aligned vendor frames come out exactly so (clean rpy, no gimbal noise)
    z = unit(frame[:, 2])
    x = unit(np.cross(frame[:, 1], z))
    return np.stack([x, np.cross(z, x), z], axis=1)


def thumb_side(thumb: FingerChain, others: list[FingerChain], frame: np.ndarray) -> tuple[Handedness | None, str]:
    """Which side of the finger row the thumb is on (right hand: -X), from the hand's chirality.

    ``frame`` is built from the fingers alone (+Z where they point, +Y where they curl, +X = Y x Z), so
    it is right-handed whatever the palm link's axes are: a mirrored hand gets the mirrored fingers and
    the same frame rule, and its thumb lands on the other side. The evidence, in half-spans of the other
    knuckles, is where the thumb is rather than where it points at the zero pose: where it is mounted
    (its first joint) plus the middle of its workspace (its tip over its joints' ranges). A thumb resting
    folded across the palm, or pointing along the fingers, still has its mount and its reach on its side.
    """
    x = frame[:, 0]
    positions = [float(c.knuckle @ x) for c in others]
    centre = float(np.mean(positions))
    span = max(max(abs(p - centre) for p in positions), 0.01)
    mount = (float(thumb.knuckle @ x) - centre) / span
    reach = (float(workspace_centre(thumb) @ x) - centre) / span
    evidence = mount + reach
    if abs(evidence) < _SIDE_AMBIGUOUS:
        return None, "the thumb sits on neither side of the finger row"
    side: Handedness = "right" if evidence < 0 else "left"
    where = "-X" if evidence < 0 else "+X"
    return side, (f"geometry: the thumb is mounted and reaches on the {where} side of the finger row, seen with "
                  f"the fingers pointing +Z and curling to +Y ({evidence:+.2f} knuckle half-spans)")


def workspace_centre(chain: FingerChain) -> np.ndarray:
    """The mean fingertip over the chain's actuated joints' ranges (ends and middles), in the palm frame."""
    assert chain.fk is not None
    actuated = [j for j in chain.joints if j.movable and j.mimic is None]
    if not actuated:
        return chain.tip
    levels = [np.linspace(*sweep_ends(j), 3) for j in actuated]
    if 3 ** len(actuated) <= _WORKSPACE_SAMPLES:
        grid = np.stack(np.meshgrid(*levels, indexing="ij"), axis=-1).reshape(-1, len(actuated))
    else:  # a long chain: the same number of seeded random poses inside the ranges
        rng = np.random.default_rng(0)
        grid = np.stack([rng.uniform(level[0], level[-1], _WORKSPACE_SAMPLES) for level in levels], axis=1)
    names = [j.name for j in actuated]
    return np.mean([chain.fk.tip(dict(zip(names, row, strict=True))) for row in grid], axis=0)


def unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 1e-12 else vector
