"""Vendor-style hands in physics: the MuJoCo model a vendor's URDF gets, and `check --physics` after a default fit.

The import corpus's hands in the styles that failed (issue 25): a 16-DOF four-finger hand with numbered
joints, a 22-DOF five-finger hand with a wrist above the palm (and its left twin: a left hand's side grasp
turns the other way), a 22-DOF hand with a vendor's primitive collision model on every phalanx, a 20-DOF
hand with 2 N m servos. Each is scaffolded with
``new-hand --yes``, fitted at the defaults and must hold two of the three standard objects; the
check's JSON must say, per object, why it held or dropped it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import HandPlugin

pytest.importorskip("mujoco")

HANDS = Path(__file__).parent / "data" / "hands"
DIAGNOSIS = ("ik_residual_mm", "latent_roundtrip_rad", "backoff_mm", "pushed_mm", "touching", "penetration_mm",
             "grip_n", "weight_n", "saturated", "diagnosis", "attempts")


def _scaffold(name: str, urdf: Path, tmp_path: Path, fresh_host, capsys) -> None:  # noqa: ANN001
    from xlsdk.cli import main

    assert main(["new-hand", name, "--urdf", str(urdf), "--yes", "--out", str(tmp_path / name)]) == 0
    capsys.readouterr()
    fresh_host.register(HandPlugin(next((tmp_path / name).rglob("hand.toml"))), name=f"plugin-{name}")


def test_vendor_meshes_are_drawn_and_primitives_collide(tmp_path: Path, fresh_host, capsys) -> None:  # noqa: ANN001
    """leap16's STL meshes (its only geometry) are drawn, capsules fitted under them collide; prim22's primitive
    collision model is what collides, its unshipped meshes are reported; five22's wrist above the palm is welded."""
    from xlsdk.physics.hand_model import HIDDEN_GROUP, model_choice
    from xlsdk.physics.world import World

    _scaffold("v_leap", HANDS / "leap16" / "urdf" / "leap16.urdf", tmp_path, fresh_host, capsys)
    _scaffold("v_prim", HANDS / "prim22.urdf", tmp_path, fresh_host, capsys)
    _scaffold("v_five", HANDS / "five22.urdf", tmp_path, fresh_host, capsys)
    leap, prim, five = (fresh_host.load_hand(n) for n in ("v_leap", "v_prim", "v_five"))

    choice = model_choice(leap)
    assert {m.visual for m in choice.links.values()} == {"meshes"}
    assert sorted(choice.mesh_files) == ["fingertip.stl", "palm.stl", "phalanx.stl"]
    assert "vendor meshes on 17 of 17 links" in choice.explain() and "capsules fitted" in choice.explain()
    world = World(leap)
    model = world.model
    drawn = [g for g in range(model.ngeom) if model.geom_type[g] == 7]  # mjGEOM_MESH
    assert model.nmesh == 17 and len(drawn) == 17
    assert all(model.geom_contype[g] == 0 and model.geom_group[g] == 0 for g in drawn), "visual meshes never collide"
    hand_geoms = [g for g in range(model.ngeom) if model.body(model.geom_bodyid[g]).name.startswith("hand/")]
    colliding = [g for g in hand_geoms if model.geom_contype[g]]
    assert colliding and all(model.geom_group[g] == HIDDEN_GROUP for g in colliding), "hidden under the meshes"

    choice = model_choice(prim)
    assert choice.unresolved == 23 and not choice.mesh_files
    assert sum(m.collision == "URDF primitives" for m in choice.links.values()) == 23
    assert "no vendor visual mesh resolves" in choice.explain()
    assert World(prim).model.nmesh == 0

    world = World(five)
    names = {world.model.joint(j).name for j in range(world.model.njnt)}
    assert "hand/rh_FFJ1" in names and not {"hand/rh_WRJ1", "hand/rh_WRJ2"} & names


def test_collision_meshes_collide_as_convex_hulls(tmp_path: Path, fresh_host, capsys) -> None:  # noqa: ANN001
    """A URDF whose <collision> elements are meshes collides with those meshes (their hulls), not fitted capsules."""
    from xlsdk.physics.hand_model import model_choice
    from xlsdk.physics.world import World

    source = HANDS / "leap16"
    folder = tmp_path / "leapcoll"
    (folder / "meshes").mkdir(parents=True)
    for mesh in (source / "meshes").iterdir():
        (folder / "meshes" / mesh.name).write_bytes(mesh.read_bytes())
    text = (source / "urdf" / "leap16.urdf").read_text(encoding="utf-8")
    # every visual mesh doubles as the link's collision mesh, as many vendor URDFs ship them
    import re

    text = re.sub(r"<visual>(.*?)</visual>", r"<visual>\1</visual><collision>\1</collision>", text)
    (folder / "urdf").mkdir()
    (folder / "urdf" / "leapcoll.urdf").write_text(text.replace("package://leap16/", "package://leapcoll/"),
                                                  encoding="utf-8")
    _scaffold("v_coll", folder / "urdf" / "leapcoll.urdf", tmp_path, fresh_host, capsys)
    hand = fresh_host.load_hand("v_coll")
    assert {m.collision for m in model_choice(hand).links.values()} == {"convex hulls of URDF meshes"}
    model = World(hand).model
    meshes = [g for g in range(model.ngeom) if model.geom_type[g] == 7]
    assert sum(model.geom_contype[g] != 0 for g in meshes) == 17, "one colliding hull per link"
    assert not any(model.geom_type[g] == 3 for g in range(model.ngeom)
                   if model.body(model.geom_bodyid[g]).name.startswith("hand/")), "no fitted capsules"


def test_preshape_keeps_every_finger_out_of_the_object(tmp_path: Path, fresh_host, capsys) -> None:  # noqa: ANN001
    """An object where five22's open thumb is: the pre-shape bends the thumb out of it and leaves the rest open."""
    from xlsdk.physics import grasps

    _scaffold("v_five", HANDS / "five22.urdf", tmp_path, fresh_host, capsys)
    hand = fresh_host.load_hand("v_five")
    q_open = grasps.open_pose(hand)
    open_tips = np.asarray(hand.fk(q_open))
    centre, radius = open_tips[0] + np.array([0.0, 0.02, 0.0]), 0.03  # the thumb tip 1 cm inside the ball
    q = grasps.preshape(hand, centre, radius)
    tips = np.asarray(hand.fk(q))
    assert np.linalg.norm(tips - centre, axis=1).min() > radius + 0.005, tips
    assert tips[:, 1].max() < centre[1] + radius + 0.002, "no fingertip past the object's far side"
    assert np.abs(tips[1:] - open_tips[1:]).max() < 0.01, "the fingers clear of the object stay open"
    assert np.array_equal(grasps.preshape(hand, centre + [0.0, 0.3, 0.0], radius), q_open), "clear: the open pose"


@pytest.mark.slow
@pytest.mark.parametrize("model", ["numbered16.urdf", "five22.urdf", "five22_left.urdf", "prim22.urdf", "weak20.urdf"])
def test_vendor_style_hand_holds_the_standard_objects_after_a_default_fit(model: str, tmp_path: Path, fresh_host,
                                                                          capsys) -> None:  # noqa: ANN001
    from xlsdk.conformance import _check_physics
    from xlsdk.latent.fit import fit_head

    name = "p_" + model.split(".")[0]
    _scaffold(name, HANDS / model, tmp_path, fresh_host, capsys)
    fit_head(fresh_host.load_hand(name), progress=False)

    result = _check_physics(name, tmp_path)

    assert result.passed, result.message
    for item in ("bottle", "ball", "cube"):
        verdict = result.details[item]
        assert set(DIAGNOSIS) <= set(verdict), verdict
        if verdict["held"]:
            assert verdict["grip_n"] > verdict["weight_n"] and len(verdict["touching"]) >= 2, verdict
            assert verdict["diagnosis"].startswith("held")
    assert "Hand model:" in result.message and (tmp_path / f"{name}_physics.png").stat().st_size > 20_000
