"""A hand's manifest checked against its URDF: the immutable description every other module uses.

:func:`resolve_hand_spec` is where a manifest meets its URDF. It checks that every name the manifest
uses exists, that every joint which moves a fingertip is either commanded (listed in ``joints``) or a
mimic of a commanded joint, that narrowed limits stay inside the URDF's, and it resolves mimic chains
to ``q_full = A q + b`` so kinematics never has to know about mimic joints.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from xlsdk.errors import ManifestError
from xlsdk.manifest import Finger, HandManifest, read_manifest
from xlsdk.urdf import UrdfModel, load_urdf


class MimicTerm(BaseModel):
    """A joint driven by an actuated joint: ``q = multiplier * q[source] + offset`` (chains resolved)."""

    model_config = ConfigDict(frozen=True)
    source: str
    multiplier: float
    offset: float


class HandSpec(BaseModel):
    """Everything static about one hand: manifest, URDF, limits in command order, mimic couplings."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    manifest: HandManifest
    manifest_path: Path
    urdf: UrdfModel
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    mimic: dict[str, MimicTerm]
    digest: str

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def joint_names(self) -> tuple[str, ...]:
        return self.manifest.joints

    @property
    def dof(self) -> int:
        return len(self.manifest.joints)

    @property
    def fingers(self) -> tuple[Finger, ...]:
        return self.manifest.finger_names

    @property
    def urdf_path(self) -> Path:
        return self.urdf.path

    def drive(self, joint: str) -> tuple[int | None, float, float]:
        """How the actuated vector moves URDF joint ``joint``: ``q[joint] = multiplier * q_cmd[column] + offset``.

        ``(column, multiplier, offset)``: an actuated joint is ``(its column, 1, 0)``, a mimic joint its
        resolved source's column with the coupling; any other joint ``(None, 0, 0)`` (it rests at zero). The
        one definition of the expansion both FKs apply (:mod:`xlsdk.kinematics`, :mod:`xlsdk.tip_kinematics`).
        """
        columns = self._columns
        if joint in columns:
            return columns[joint], 1.0, 0.0
        term = self.mimic.get(joint)
        if term is not None and term.source in columns:
            return columns[term.source], term.multiplier, term.offset
        return None, 0.0, 0.0

    @cached_property
    def _columns(self) -> dict[str, int]:  # built once: a 2000-joint hand must not scan its joints per lookup
        return {name: index for index, name in enumerate(self.manifest.joints)}


def load_hand_spec(manifest_path: Path | str) -> HandSpec:
    """Read ``hand.toml`` and the URDF it names, and check them against each other."""
    manifest_path = Path(manifest_path).resolve()
    manifest = read_manifest(manifest_path)
    urdf_path = (manifest_path.parent / manifest.urdf).resolve()
    if not urdf_path.is_file():
        raise ManifestError(
            manifest_path,
            [f"field `urdf`: {manifest.urdf!r} does not exist (looked for {urdf_path})"],
            hint="the path is relative to hand.toml; ship the URDF as package data",
        )
    urdf = load_urdf(urdf_path)
    return resolve_hand_spec(manifest, manifest_path, urdf)


def resolve_hand_spec(manifest: HandManifest, manifest_path: Path, urdf: UrdfModel) -> HandSpec:
    """Check a type-valid manifest against its URDF; raise one :class:`ManifestError` listing all problems.

    The checks run in order (palm and joints, fingers, tip points, limits) and every problem of every
    check is collected, so a vendor fixes the manifest in one pass.
    """
    mimic = _resolve_mimics(urdf)
    problems = _joint_problems(manifest, urdf)
    problems += _finger_problems(manifest, urdf, mimic)
    problems += _tip_problems(manifest)
    lower, upper, limit_problems = _resolve_limits(manifest, urdf)
    problems += limit_problems
    if problems:
        raise ManifestError(manifest_path, problems)
    digest = kinematic_digest(manifest, urdf, lower, upper)
    return HandSpec(
        manifest=manifest,
        manifest_path=manifest_path,
        urdf=urdf,
        lower=tuple(lower),
        upper=tuple(upper),
        mimic=mimic,
        digest=digest,
    )


def _joint_problems(manifest: HandManifest, urdf: UrdfModel) -> list[str]:
    """The palm link exists; every listed joint exists, moves, is not a mimic, and has a range."""
    problems: list[str] = []
    joints = {joint.name: joint for joint in urdf.joints}
    if manifest.palm_link not in set(urdf.link_names()):
        problems.append(f"field `palm_link`: link {manifest.palm_link!r} is not in {urdf.path.name}")
    for index, name in enumerate(manifest.joints):
        where = f"field `joints[{index}]`: joint {name!r}"
        joint = joints.get(name)
        if joint is None:
            problems.append(f"{where} is not in {urdf.path.name}")
        elif joint.type == "fixed":
            problems.append(f"{where} is a fixed joint; list only joints that move")
        elif joint.mimic is not None:
            problems.append(
                f"{where} is a mimic of {joint.mimic.joint!r}; list the joint it follows, mimic joints are derived"
            )
        elif joint.type == "continuous" and name not in manifest.limits:
            problems.append(f"{where} is continuous (no URDF limits); give its range in [limits.{name}]")
    return problems


def _finger_problems(manifest: HandManifest, urdf: UrdfModel, mimic: dict[str, MimicTerm]) -> list[str]:
    """Every fingertip link hangs off the palm, and every joint moving it is actuated or follows one."""
    problems: list[str] = []
    links = set(urdf.link_names())
    actuated = set(manifest.joints)
    for finger, tip in manifest.fingers.items():
        where = f"field `fingers.{finger}.link`: link {tip.link!r}"
        if tip.link not in links:
            problems.append(f"{where} is not in {urdf.path.name}")
            continue
        if manifest.palm_link not in links:
            continue
        path = urdf.path_between(manifest.palm_link, tip.link)
        if path is None:
            problems.append(f"{where} is not below palm link {manifest.palm_link!r}; fingertips hang off the palm")
            continue
        for joint in path:
            if not joint.movable or joint.name in actuated:
                continue
            term = mimic.get(joint.name)
            if term is None:
                problems.append(
                    f"joint {joint.name!r} moves the {finger} tip but is not in `joints`; "
                    "add it (in command order) or make it fixed/mimic in the URDF"
                )
            elif term.source not in actuated:
                problems.append(
                    f"joint {joint.name!r} (mimic of {term.source!r}) moves the {finger} tip but {term.source!r} "
                    "is not in `joints`; add it"
                )
    return problems


def _tip_problems(manifest: HandManifest) -> list[str]:
    """No two fingers share one tip point (same link and offset)."""
    problems: list[str] = []
    seen_tips: dict[tuple[str, tuple[float, float, float]], str] = {}
    for finger, tip in manifest.fingers.items():
        key = (tip.link, tip.offset)
        if key in seen_tips:
            problems.append(f"fingers {seen_tips[key]!r} and {finger!r} share the same tip point; each needs its own")
        seen_tips[key] = finger
    return problems


def _resolve_limits(manifest: HandManifest, urdf: UrdfModel) -> tuple[list[float], list[float], list[str]]:
    """Each actuated joint's range in command order: the URDF's, narrowed (never widened) by ``[limits]``.

    Joints another check already refused get ``0.0`` placeholders so that the lists keep their length.
    """
    problems: list[str] = []
    joints = {joint.name: joint for joint in urdf.joints}
    actuated = set(manifest.joints)
    lower: list[float] = []
    upper: list[float] = []
    for name in manifest.limits:
        if name not in actuated:
            problems.append(f"field `limits.{name}`: {name!r} is not an actuated joint listed in `joints`")
    for name in manifest.joints:
        joint = joints.get(name)
        if joint is None or joint.type == "fixed" or joint.mimic is not None:
            lower.append(0.0)
            upper.append(0.0)
            continue
        low, high = joint.lower, joint.upper
        narrowed = manifest.limits.get(name)
        if narrowed is not None:
            too_low = low is not None and narrowed.lower < low - 1e-12
            too_high = high is not None and narrowed.upper > high + 1e-12
            if too_low or too_high:
                problems.append(
                    f"field `limits.{name}`: [{narrowed.lower}, {narrowed.upper}] widens the URDF range "
                    f"[{low}, {high}]; a manifest may only narrow limits"
                )
            low, high = narrowed.lower, narrowed.upper
        if low is None or high is None:
            lower.append(0.0)
            upper.append(0.0)
            continue
        if not (math.isfinite(low) and math.isfinite(high)):  # NaN would pass every comparison below
            problems.append(f"joint {name!r} has a non-finite range [{low}, {high}]; limits must be finite numbers")
            lower.append(0.0)
            upper.append(0.0)
            continue
        if high - low <= 0.0:
            problems.append(f"joint {name!r} has an empty range [{low}, {high}]; an actuated joint must move")
        lower.append(float(low))
        upper.append(float(high))
    return lower, upper, problems


def kinematic_digest(manifest: HandManifest, urdf: UrdfModel, lower: list[float], upper: list[float]) -> str:
    """Hash of everything that changes the hand's kinematics (not comments, visuals, drivers or titles).

    A fitted head records it: if a vendor later edits a joint origin, a limit or a fingertip, the old
    head is refused as stale instead of silently decoding into the wrong geometry.
    """
    def rounded(values: object) -> object:
        if isinstance(values, float):
            return round(values, 9)
        if isinstance(values, (list, tuple)):
            return [rounded(v) for v in values]
        return values

    content = {
        "joints": list(manifest.joints),
        "lower": rounded(lower),
        "upper": rounded(upper),
        "palm_link": manifest.palm_link,
        "palm_frame": rounded([*manifest.palm_frame.xyz, *manifest.palm_frame.rpy]),
        "fingers": {finger: [tip.link, rounded(list(tip.offset))] for finger, tip in manifest.fingers.items()},
        "urdf": [
            [j.name, j.type, j.parent, j.child, rounded([list(row) for row in j.origin]), rounded(list(j.axis)),
             None if j.mimic is None else [j.mimic.joint, rounded(j.mimic.multiplier), rounded(j.mimic.offset)]]
            for j in urdf.joints
        ],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _resolve_mimics(urdf: UrdfModel) -> dict[str, MimicTerm]:
    """Follow mimic chains down to a non-mimic joint (the URDF pass already rejected cycles)."""
    by_name = {joint.name: joint for joint in urdf.joints}
    resolved: dict[str, MimicTerm] = {}
    for joint in urdf.joints:
        if joint.mimic is None:
            continue
        multiplier, offset = 1.0, 0.0
        current = joint
        while current.mimic is not None:
            # q_current = m * q_target + o, and q_joint = multiplier * q_current + offset
            offset = offset + multiplier * current.mimic.offset
            multiplier = multiplier * current.mimic.multiplier
            current = by_name[current.mimic.joint]
        resolved[joint.name] = MimicTerm(source=current.name, multiplier=multiplier, offset=offset)
    return resolved
