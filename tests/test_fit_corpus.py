"""The default fit of a new hand: when it stops, when the IK pull starts, and a gripper held to its floor.

That every eligible corpus hand, scaffolded with ``new-hand --yes`` and fitted at default settings, passes
every check of ``xlsdk check --physics`` is tested in tests/test_physics_corpus.py, on the shipped default
fits (tests/data/corpus_heads/; one of them, five22_left, refitted there to prove they are); the vendor
journey (tests/test_vendor_journey.py) does the same through the CLI on a generated hand. The 16- and 22-DOF corpus hands are fitted in benchmarks/budgets.py and every
corpus hand in benchmarks/corpus_fit.py (minutes each, too slow for the suite).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import HandPlugin

import xlsdk
from xlsdk.cli import main
from xlsdk.latent.fit import fit_head

HANDS = Path(__file__).parent / "data" / "hands"


def test_fit_stops_only_when_check_would_pass_with_a_margin() -> None:
    """The early stop: reconstruction under its target, and geometry under its target or levelled off well
    inside `xlsdk check`'s limit; a levelled-off geometry above that limit keeps the fit going."""
    from xlsdk.conformance import MAX_GEOMETRY_ERROR, MAX_RECON_RAD
    from xlsdk.latent.fit import FitConfig, _good_enough

    config = FitConfig()
    assert config.target_recon_rad < MAX_RECON_RAD and config.levelled_geometry < MAX_GEOMETRY_ERROR
    assert config.linear_skip, "fitted heads use the linear skip paths"
    good = {"recon_rad": 0.015, "geometry_error": 0.19}
    assert _good_enough(good, 0.192, config)  # levelled off at 0.19
    assert not _good_enough(good, 0.25, config)  # still improving
    assert not _good_enough(good, None, config)  # first check: no trend yet
    assert _good_enough({"recon_rad": 0.015, "geometry_error": 0.1}, None, config)  # under the geometry target
    assert not _good_enough({"recon_rad": 0.025, "geometry_error": 0.1}, 0.1, config)  # reconstruction not there
    assert not _good_enough({"recon_rad": 0.015, "geometry_error": 0.34}, 0.341, config)  # levelled, too close to 0.35


def test_only_a_fit_levelled_off_above_the_check_limit_gets_the_ik_pull() -> None:
    from xlsdk.conformance import MAX_GEOMETRY_ERROR
    from xlsdk.latent.fit import FitConfig, _stuck

    config = FitConfig()
    assert config.reach_above == MAX_GEOMETRY_ERROR and config.reach_weight > 0
    assert _stuck({"recon_rad": 0.01, "geometry_error": 0.57}, 0.575, config)  # levelled at 0.57
    assert not _stuck({"recon_rad": 0.01, "geometry_error": 0.57}, 0.65, config)  # still improving
    assert not _stuck({"recon_rad": 0.01, "geometry_error": 0.57}, None, config)  # no trend yet
    assert not _stuck({"recon_rad": 0.01, "geometry_error": 0.31}, 0.311, config)  # levelled inside the limit


@pytest.mark.slow
def test_a_gripper_is_held_to_its_reachable_floor(tmp_path: Path, fresh_host, capsys) -> None:  # noqa: ANN001
    """A three-finger gripper (one flexion axis per finger) cannot put its fingertips where the canonical
    five-finger hand's go at any joints; `xlsdk check` holds it to its reachable floor, which a default
    fit meets and a head that has not learnt the latent (one step from the identity start) does not."""
    from xlsdk.conformance import FLOOR_RATIO, MAX_GEOMETRY_ERROR, run_check

    assert main(["new-hand", "fit_gripper", "--urdf", str(HANDS / "gripper3.urdf"), "--yes",
                 "--out", str(tmp_path / "plugin")]) == 0
    capsys.readouterr()
    fresh_host.register(HandPlugin(next((tmp_path / "plugin").rglob("hand.toml"))), name="fit-gripper")
    hand = fresh_host.load_hand("fit_gripper")

    core_hands = xlsdk.load_core_hands()
    fit_head(hand, core_hands=core_hands, steps=1, progress=False)
    untrained = run_check("fit_gripper", "latent")
    assert not untrained.passed, untrained.explain()
    assert "reachable floor" in untrained.message

    result = fit_head(hand, core_hands=core_hands, progress=False)
    assert "reach_from_step" in result.metrics, "a gripper levels off above the check's limit: the IK pull starts"
    fitted = run_check("fit_gripper", "latent")
    assert fitted.passed, fitted.explain()
    floor, geometry = fitted.details["reachable_floor"], fitted.details["geometry_error"]
    assert MAX_GEOMETRY_ERROR < floor <= geometry < FLOOR_RATIO * floor, fitted.details
    assert "no joint vector of fit_gripper" in fitted.message
