"""The import corpus's shipped default fits (tests/data/corpus_heads/) and ``check --physics`` on them.

Why a helper module: tests/test_physics_corpus.py runs the full check of every eligible corpus hand in
two worker processes (one hand's check costs 10-25 s, the latent check's own IK banks most of it), and a
spawned worker imports the function it runs by module name, as tests import their helpers (this folder
is on ``sys.path``; see conftest.py).

The heads are ``head.safetensors`` + ``head.json`` exactly as ``xlsdk fit`` wrote them for the scaffold of
``xlsdk new-hand NAME --urdf FILE --yes``; ``head.json`` records that scaffold's kinematic digest and the
core latent's fingerprint, so a head copied into a scaffold that has changed since (or checked against
another core latent) is refused as stale and the check fails naming the fix: :data:`REGENERATE`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

SHIPPED_HEADS = Path(__file__).parent / "data" / "corpus_heads"
REGENERATE = ("regenerate the shipped heads with `.venv/bin/python benchmarks/corpus_fit.py --physics --physics-only "
              "--save-heads tests/data/corpus_heads`")
#: fields of every object's verdict in the physics check's JSON (docs/concepts/physics.md)
DIAGNOSIS = ("ik_residual_mm", "latent_roundtrip_rad", "backoff_mm", "pushed_mm", "touching", "penetration_mm",
             "grip_n", "weight_n", "saturated", "diagnosis", "attempts")


def with_shipped_head(name: str, model: Path, out: Path) -> Path:
    """Corpus hand ``name`` (model file ``model``) scaffolded into ``out`` as ``new-hand --yes`` does, with its
    shipped head copied, byte for byte, to where ``xlsdk fit`` writes one; the scaffold's hand.toml."""
    from xlsdk.hand import Hand
    from xlsdk.hand_spec import load_hand_spec
    from xlsdk.latent.head_loading import head_target, installed_core_manifest
    from xlsdk.new_hand import create_hand_plugin

    manifest = create_hand_plugin(name, model, out).manifest
    for target in head_target(Hand(load_hand_spec(manifest)), installed_core_manifest().fingerprint):
        shutil.copyfile(SHIPPED_HEADS / name / target.name, target)
    return manifest


def assert_passes_with_diagnosis(report, strip: Path, *, synthesised: int, exactly: bool = False) -> None:  # noqa: ANN001
    """Every check of ``report`` passed, the physics check says per object why it held or dropped it (and drew
    it), and ``synthesised`` objects (at least; ``exactly``: no more) were held by a synthesised grasp rather
    than the recorded power grasp."""
    failed = [r for r in report.results if not r.passed]
    stale = any(r.check == "head" for r in failed)
    assert not failed, "\n".join(r.explain() for r in failed) + (f"\n{REGENERATE}" if stale else "")
    result = next(r for r in report.results if r.check == "physics")
    for item in ("bottle", "ball", "cube"):
        verdict = result.details[item]
        assert set(DIAGNOSIS) <= set(verdict), verdict
        if verdict["held"]:
            assert verdict["grip_n"] > verdict["weight_n"] and len(verdict["touching"]) >= 2, verdict
            assert verdict["diagnosis"].startswith("held"), verdict
        else:
            assert verdict["diagnosis"] and not verdict["diagnosis"].startswith("held"), verdict
    by_synthesis = [item for item in ("bottle", "ball", "cube")
                    if result.details[item]["held"] and result.details[item]["grasp"] != "recorded"]
    assert len(by_synthesis) >= synthesised, f"synthesised grasps hold only {by_synthesis}: {result.message}"
    assert not exactly or len(by_synthesis) == synthesised, (
        f"synthesised grasps now hold {by_synthesis}: take the hand out of SYNTHESIS_HOLDS_ONE")
    assert "Hand model:" in result.message and strip.stat().st_size > 20_000, result.message


def one_thread() -> None:
    """A worker's initializer: one torch thread, one worker a core."""
    import torch

    torch.set_num_threads(1)


def check_with_shipped_head(name: str, model: Path, synthesised: int, exactly: bool = False) -> str:
    """``xlsdk check NAME --physics`` on a fresh scaffold with its shipped head, in this process; '' when it
    passes as :func:`assert_passes_with_diagnosis` asks, else why not (a worker reports, the test asserts)."""
    from conftest import HandPlugin

    from xlsdk.conformance import run_checks
    from xlsdk.plugins import get_plugin_host, reset_plugin_host

    previous = reset_plugin_host()
    try:
        with tempfile.TemporaryDirectory(prefix=f"xlsdk-{name}-") as tmp:
            manifest = with_shipped_head(name, model, Path(tmp) / name)
            get_plugin_host().register(HandPlugin(manifest), name=f"plugin-{name}")
            report = run_checks(name, physics=True, physics_out=Path(tmp))
            try:
                assert_passes_with_diagnosis(report, Path(tmp) / f"{name}_physics.png", synthesised=synthesised,
                                             exactly=exactly)
            except AssertionError as exc:
                return f"{name}: {exc}"
            return ""
    finally:
        reset_plugin_host(previous)
