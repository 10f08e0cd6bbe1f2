"""Conformance: what a hand plugin must satisfy, checked the same way by ``xlsdk check HAND``, by
``pytest --xlsdk-hand HAND`` and by the ``tests/test_conformance.py`` every rendered plugin carries.

Each check returns a :class:`CheckResult`; a failure says what is wrong and the command that fixes it.

* ``manifest``: the manifest is valid against its URDF (names, tree, limits, mimic targets);
* ``fingers``: the manifest's finger order agrees with the URDF's link names and its geometry (the index
  next to the thumb's side, then middle, ring, little) and its handedness with where the thumb is;
* ``handedness``: the declared handedness and palm frame reach the canonical hand's fingertips best: its
  mirror image and its palm turned over do not do clearly better (:mod:`xlsdk.latent.side`);
* ``kinematics``: FK is finite, moves, and stays within a plausible workspace over random poses;
* ``head``: a head is present and fitted against the installed core latent's fingerprint;
* ``latent``: reconstruction and cross-hand geometry errors are within the latent's thresholds and
  clearly better than the naive joint-range mapping; a hand whose kinematics cannot put its fingertips
  within the geometry threshold of the canonical hand's at any joints (a three-finger gripper) is held
  to its reachable floor instead (:data:`FLOOR_RATIO`), but only where its finger set explains that
  floor (fewer than five fingers, or a thumb that meets no fingertip); a five-finger hand whose thumb
  meets its fingers is held to the absolute limit;
* ``drivers``: every driver the manifest offers connects (in simulation), accepts a command, reports
  state and disconnects cleanly;
* ``physics`` (only with ``xlsdk check HAND --physics``): in MuJoCo the hand holds the standard objects
  with grasps decoded from the latent (:mod:`xlsdk.conformance.physics`).
"""

from __future__ import annotations

import math
from statistics import fmean
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from xlsdk.errors import UnknownCheckError, XlsdkError

if TYPE_CHECKING:
    from xlsdk.hand import Hand
    from xlsdk.latent.evaluate import PairMetrics

#: thresholds of the shared latent (see docs/concepts/latent.md)
MAX_RECON_RAD = 0.03
MAX_GEOMETRY_ERROR = 0.35  # mean normalised fingertip error to and from the canonical hand (reach units)
NAIVE_MARGIN = 0.8  # the latent must beat the naive mapping by at least 20 %
#: where the hand's reachable floor (the smallest error any joint vector reaches on the same poses,
#: xlsdk.latent.evaluate) is itself near MAX_GEOMETRY_ERROR, the latent must come within this factor of it
FLOOR_RATIO = 1.25
#: the floor rule excuses only hands whose finger set explains the floor: fewer than five fingers, or a
#: thumb that closes a pinch (xlsdk.latent.evaluate.PINCH_IN) in under this share of its pinch poses.
#: Corpus hands (256 pinch-bank poses): thumbs that meet a finger 76-99 %, thumbs that cannot 0 %
OPPOSABLE_SHARE = 0.25
_LATENT_POSES = 512  # canonical poses of the latent check; evaluate_latent draws half as many pinch poses per hand


class CheckResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    hand: str
    check: str
    passed: bool
    message: str
    fix: str = ""
    #: figures behind the verdict; the physics check adds one diagnosis mapping per object (docs/concepts/physics.md)
    details: dict[str, float | str | dict[str, float | str | bool | list[str] | None]] = {}

    def explain(self) -> str:
        text = f"{self.hand}: {self.check}: {self.message}"
        return f"{text}\n  fix: {self.fix}" if self.fix and not self.passed else text


class ConformanceReport(BaseModel):
    model_config = ConfigDict(frozen=True)
    hand: str
    results: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)


def _check_manifest(name: str) -> CheckResult:
    from xlsdk.plugins import get_plugin_host

    hand = get_plugin_host().load_hand(name)
    warnings = "; ".join(hand.spec.urdf.warnings)
    message = f"hand.toml matches {hand.urdf_path.name}: {hand.dof} actuated joints, fingers {', '.join(hand.fingers)}"
    return CheckResult(hand=name, check="manifest", passed=True, message=message + (f" (warnings: {warnings})" if warnings else ""))


def _check_kinematics(name: str) -> CheckResult:
    from xlsdk.plugins import get_plugin_host

    hand = get_plugin_host().load_hand(name)
    q = hand.sample(1000, torch.Generator().manual_seed(0), dtype=torch.float64)
    tips = hand.kinematics.fingertips(q)
    fix = f"check the joint origins/axes in {hand.urdf_path.name} and the fingertips in hand.toml (`xlsdk info {name}`)"
    if not bool(torch.isfinite(tips).all()):
        return CheckResult(hand=name, check="kinematics", passed=False, message="FK produced non-finite fingertips", fix=fix)
    reach = hand.scale.reach
    distance = tips.norm(dim=-1).max().item()
    spread = tips.std(dim=0).norm(dim=-1)  # how much each fingertip moves across the joint space
    details = {"reach_m": round(reach, 4), "max_tip_distance_m": round(distance, 4)}
    if not 0.01 < reach < 0.5:
        return CheckResult(hand=name, check="kinematics", passed=False, details=details, fix=fix,
                           message=f"finger reach {reach:.3f} m is implausible for a hand (URDF in millimetres?)")
    if distance > 1.0:
        return CheckResult(hand=name, check="kinematics", passed=False, details=details, fix=fix,
                           message=f"fingertips reach {distance:.2f} m from the palm origin")
    frozen = [finger for finger, s in zip(hand.fingers, spread.tolist(), strict=True) if s < 1e-4]
    if frozen:
        return CheckResult(hand=name, check="kinematics", passed=False, details=details, fix=fix,
                           message=f"fingertip(s) {', '.join(frozen)} never move: no actuated joint drives them")
    return CheckResult(hand=name, check="kinematics", passed=True, details=details,
                       message=f"FK finite over 1000 random poses; reach {reach * 1000:.0f} mm, tips within {distance * 1000:.0f} mm")


def _check_head(name: str) -> CheckResult:
    from xlsdk.plugins import get_plugin_host
    from xlsdk.latent.head_loading import head_status, installed_core_latent

    hand = get_plugin_host().load_hand(name)
    status = head_status(hand)
    if status.state != "fitted":
        fix = "xlsdk latent train --out <dir> (then XLSDK_CORE_LATENT=<dir>)" if status.state == "no core latent" \
            else f"xlsdk fit {name}"
        return CheckResult(hand=name, check="head", passed=False, message=f"head {status.state}: {status.detail}",
                           fix=fix)
    return CheckResult(hand=name, check="head", passed=True,
                       message=f"head fitted against core latent {installed_core_latent().fingerprint[:12]}")


def _check_latent(name: str) -> CheckResult:
    from xlsdk.plugins import get_plugin_host
    from xlsdk.latent.evaluate import evaluate_latent
    from xlsdk.latent.head_loading import head_status, installed_core_latent

    hand = get_plugin_host().load_hand(name)
    if head_status(hand).state != "fitted":
        return CheckResult(hand=name, check="latent", passed=False, message="no usable head to evaluate",
                           fix=f"xlsdk fit {name}")
    canonical_name = installed_core_latent().manifest.canonical
    canonical = get_plugin_host().load_hand(canonical_name)
    hands = {name: hand, canonical_name: canonical}
    report = evaluate_latent(hands, n=_LATENT_POSES, seed=4242)
    recon = report.hands[0].recon_rad
    geometry = fmean(p.geometry_error for p in report.pairs)
    naive = fmean(p.naive_error for p in report.pairs)
    details: dict[str, float | str] = {
        "recon_rad": round(recon, 5), "geometry_error": round(geometry, 4), "naive_error": round(naive, 4),
        "geometry_error_mm": round(fmean(p.geometry_error_mm for p in report.pairs), 2)}
    target, floor = MAX_GEOMETRY_ERROR, None
    explained, finger_set = _floor_explained(hand, report.pairs)
    if not geometry < MAX_GEOMETRY_ERROR and explained:  # the same poses again, with the IK floor (seconds)
        floor = fmean(p.floor_error or 0.0 for p in
                      evaluate_latent(hands, n=_LATENT_POSES, seed=4242, floor=True).pairs)
        target = max(MAX_GEOMETRY_ERROR, FLOOR_RATIO * floor)
        details |= {"reachable_floor": round(floor, 4), "geometry_target": round(target, 4)}
    held_to_floor = target > MAX_GEOMETRY_ERROR
    problems = []
    if not recon < MAX_RECON_RAD:
        problems.append(f"reconstruction {recon:.4f} rad >= {MAX_RECON_RAD}")
    if not geometry < target:
        why = f" ({FLOOR_RATIO} x the reachable floor {floor:.3f})" if held_to_floor else ""
        if not explained:
            why = f" (the absolute limit: {finger_set}, so its kinematics excuse no floor)"
        problems.append(f"geometry error {geometry:.3f} >= {target:.3f}{why}")
    if not geometry < NAIVE_MARGIN * naive:
        problems.append(f"geometry error {geometry:.3f} is not clearly below the naive mapping's {naive:.3f}")
    if problems:
        return CheckResult(hand=name, check="latent", passed=False, details=details, message="; ".join(problems),
                           fix=f"xlsdk fit {name} --steps 5000 (and check the fingertips/palm frame with `xlsdk info {name}`)")
    message = (f"reconstruction {recon:.4f} rad, geometry error {geometry:.3f} vs naive {naive:.3f} "
               f"({details['geometry_error_mm']} mm)")
    if held_to_floor:
        message += (f"; no joint vector of {name} gets its fingertips closer than {floor:.3f} to the canonical "
                    f"hand's on these poses ({finger_set}), and the latent is within {FLOOR_RATIO} x of that")
    return CheckResult(hand=name, check="latent", passed=True, details=details, message=message)


def _floor_explained(hand: Hand, pairs: list[PairMetrics]) -> tuple[bool, str]:
    """Does the hand's finger set explain a reachable floor above the limit, and in words why (not)?

    The floor rule is for hands that cannot take the canonical hand's poses: fewer fingers, or a thumb
    that meets no fingertip (a gripper). A five-finger hand whose thumb meets its fingers can, so a
    floor above the limit says it is set up wrong (side, palm frame, fingertips), not that it is a gripper.
    """
    own = [p for p in pairs if p.source == hand.name]
    share = own[0].pinch_count / (_LATENT_POSES // 2) if own else 0.0
    if len(hand.fingers) < 5:
        return True, f"it has {len(hand.fingers)} fingers"
    if share < OPPOSABLE_SHARE:
        return True, f"its thumb meets no fingertip ({share:.0%} of its pinch poses close a pinch)"
    return False, f"a five-finger hand whose thumb meets its fingers ({share:.0%} of its pinch poses close a pinch)"


def _check_drivers(name: str) -> CheckResult:
    from xlsdk.plugins import get_plugin_host
    from xlsdk.drivers import hand_drivers

    hand = get_plugin_host().load_hand(name)
    offered = {"sim", *hand.drivers}  # what the plugin promises; generic drivers are checked by their own plugin
    tried: list[str] = []
    for driver_name, entry in hand_drivers(hand).items():
        if driver_name not in offered:
            continue
        if entry is None:
            return CheckResult(hand=name, check="drivers", passed=False,
                               message=f"hand.toml offers driver {driver_name!r} but no plugin registers it",
                               fix="register it in driver.py's driver_entries() or remove it from `drivers`")
        simulator = getattr(entry, "simulator", None)
        if driver_name != "sim" and simulator is None:
            tried.append(f"{driver_name} (needs hardware or a vendor SDK; no simulator)")
            continue
        try:
            if simulator is None:
                _exercise(entry.build(hand, {}), hand)
            else:
                with entry.simulated(hand) as driver:
                    _exercise(driver, hand)
        except (XlsdkError, OSError) as exc:
            return CheckResult(hand=name, check="drivers", passed=False, message=f"driver {driver_name!r}: {exc}",
                               fix=f"xlsdk drive {name} --driver {driver_name}" + (" --simulate" if simulator else ""))
        tried.append(driver_name)
    return CheckResult(hand=name, check="drivers", passed=True, message="connected, commanded, read and disconnected: "
                       + ", ".join(tried))


def _exercise(driver: object, hand: object) -> None:
    """connect -> command the mid pose -> read state -> disconnect, checking each step."""
    from xlsdk.drivers import HandDriver
    from xlsdk.errors import DriverError

    if not isinstance(driver, HandDriver):
        raise DriverError(f"factory returned {type(driver).__name__}, not a HandDriver")
    target = np.asarray(hand.mid_pose())  # type: ignore[attr-defined]
    with driver:
        report = driver.command(target)
        state = driver.read_state()
        if len(state.positions) != len(target) or not all(math.isfinite(v) for v in state.positions):
            raise DriverError(f"state has {len(state.positions)} finite positions, expected {len(target)}")
        if len(report.sent) != len(target):
            raise DriverError("command report has the wrong length")
    if driver.is_connected:
        raise DriverError("still connected after disconnect()")


def _check_fingers(name: str) -> CheckResult:
    """The manifest's fingers agree with the URDF's link names and geometry (index next to the thumb's side)."""
    from xlsdk.plugins import get_plugin_host
    from xlsdk.errors import UrdfError
    from xlsdk.manifest_proposal import finger_order_problems

    hand = get_plugin_host().load_hand(name)
    manifest = hand.spec.manifest
    tips = {finger: tip.link for finger, tip in manifest.fingers.items()}
    try:
        problems, proposal = finger_order_problems(hand.spec.urdf, manifest.palm_link, tips, manifest.handedness)
    except UrdfError as exc:  # a tree the importer cannot read as a hand (e.g. six chains): nothing to compare
        return CheckResult(hand=name, check="fingers", passed=True,
                           message=f"finger order not checked: {exc.problems[0] if exc.problems else exc}")
    if problems:
        return CheckResult(hand=name, check="fingers", passed=False, message="; ".join(problems),
                           fix=f"fix [fingers.*] / handedness in hand.toml (`xlsdk new-hand` proposes: "
                               + ", ".join(f"{c.finger}={c.tip_link}" for c in proposal.chains)
                               + f", {proposal.handedness} hand)")
    return CheckResult(hand=name, check="fingers", passed=True,
                       message=f"finger order matches the link names and the geometry ({manifest.handedness} hand)")


def _check_handedness(name: str) -> CheckResult:
    """The declared handedness and palm frame reach the canonical geometry best (:mod:`xlsdk.latent.side`)."""
    from xlsdk.plugins import get_plugin_host
    from xlsdk.latent.side import compare_sides, reference_hand_name

    hand = get_plugin_host().load_hand(name)
    comparison = compare_sides(hand, get_plugin_host().load_hand(reference_hand_name()))
    declared, best = comparison.declared, comparison.best_other
    details: dict[str, float | str] = {s.setup.replace(" ", "_"): round(s.floor, 4) for s in comparison.setups}
    if comparison.wrong:
        what = {"mirrored": f"handedness = {declared.handedness!r} looks wrong: its mirror image (a "
                            f"{best.handedness} hand)",
                "palm turned over": "the palm frame looks wrong: the palm turned over (+X and +Y reversed)",
                "turned over and mirrored": f"handedness = {declared.handedness!r} and the palm frame look wrong: "
                                            f"a {best.handedness} hand with the palm turned over"}[best.setup]
        return CheckResult(hand=name, check="handedness", passed=False, details=details,
                           message=f"{what} reaches the canonical hand's fingertips clearly better (reachable "
                                   f"floor {best.floor:.3f} vs {declared.floor:.3f} as declared; "
                                   f"{comparison.summary()})",
                           fix=f"set {comparison.fix()} in hand.toml (or re-run `xlsdk new-hand`), then "
                               f"`xlsdk fit {name}`")
    return CheckResult(hand=name, check="handedness", passed=True, details=details,
                       message=f"set up as a {declared.handedness} hand: the declared side and palm frame reach the "
                               f"canonical geometry best ({comparison.summary()})")


CHECKS: dict[str, Callable[[str], CheckResult]] = {
    "manifest": _check_manifest,
    "fingers": _check_fingers,
    "handedness": _check_handedness,
    "kinematics": _check_kinematics,
    "head": _check_head,
    "latent": _check_latent,
    "drivers": _check_drivers,
}
CHECK_NAMES = tuple(CHECKS)


def run_check(hand: str, check: str) -> CheckResult:
    """Run one named check; an error loading the hand fails the check with its message."""
    if check not in CHECKS:
        raise UnknownCheckError(f"unknown check {check!r}; checks are {', '.join(CHECK_NAMES)}")
    try:
        return CHECKS[check](hand)
    except XlsdkError as exc:
        return CheckResult(hand=hand, check=check, passed=False, message=str(exc),
                           fix=exc.hint or f"fix the plugin's hand.toml/URDF, then `xlsdk info {hand}`")


def _check_physics(name: str, out_dir: Path | None = None) -> CheckResult:
    """In MuJoCo the hand holds the standard objects with latent-decoded grasps (:mod:`xlsdk.conformance.physics`)."""
    from xlsdk.grasp_sequence import load_demo_trajectory
    from xlsdk.latent.head_loading import head_status
    from xlsdk.conformance.physics import MIN_HELD, check_physics
    from xlsdk.plugins import get_plugin_host

    host = get_plugin_host()
    hand = host.load_hand(name)
    if head_status(hand).state != "fitted":
        return CheckResult(hand=name, check="physics", passed=False, message="no usable head to decode grasps with",
                           fix=f"xlsdk fit {name}")
    source, sequence, _ = load_demo_trajectory()
    outcome = check_physics(hand, out_dir, source=host.load_hand(source), sequence=sequence)
    held = [v for v in outcome.objects if v.held]
    listing = ", ".join(
        f"{v.object} {'held' if v.held else 'dropped'} ({v.lifted_mm:.0f} mm{', ' + v.grasp + ' grasp' if v.held else ''})"
        for v in outcome.objects)
    details: dict = {v.object: {**v.model_dump(mode="json", exclude={"object", "attempts", "touching"}),
                                "touching": list(v.touching), "attempts": list(v.attempts)} for v in outcome.objects}
    if outcome.strip is not None:
        details["strip"] = str(outcome.strip)
    message = f"holds {len(held)} of {len(outcome.objects)} standard objects: {listing}"
    dropped = [f"{v.object}: {v.diagnosis}" for v in outcome.objects if not v.held]
    if dropped:
        message += "; why: " + "; ".join(dropped)
    if outcome.strip is not None:
        message += f"; frames in {outcome.strip}"
    message += f". Hand model: {outcome.model}"
    details["model"] = outcome.model
    return CheckResult(hand=name, check="physics", passed=outcome.passed, message=message, details=details,
                       fix=f"needs {MIN_HELD}: check the URDF's joint effort limits, the fingertips and the collision "
                           f"shapes (`xlsdk view {name} --physics`), then `xlsdk fit {name}`")


def run_checks(hand: str, *, physics: bool = False, physics_out: Path | None = None) -> ConformanceReport:
    """Every check; ``physics`` adds the MuJoCo grasp check (its strip PNG goes to ``physics_out``)."""
    results = [run_check(hand, check) for check in CHECK_NAMES]
    if physics:
        try:
            results.append(_check_physics(hand, physics_out))
        except XlsdkError as exc:
            results.append(CheckResult(hand=hand, check="physics", passed=False, message=str(exc),
                                       fix=exc.hint or "see docs/concepts/physics.md"))
    return ConformanceReport(hand=hand, results=results)
