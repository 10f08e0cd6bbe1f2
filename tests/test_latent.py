"""The shipped core latent: quality targets, fitting a new hand with everything frozen, retargeting."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REFERENCE_DOF
from synthetic_hands import write_synthetic_hand

import xlsdk
from xlsdk.hand import Hand
from xlsdk.hand_spec import load_hand_spec
from xlsdk.latent.core import CORE_WEIGHTS
from xlsdk.latent.evaluate import evaluate_latent
from xlsdk.latent.fit import FitConfig, fit_head
from xlsdk.latent.head_loading import core_latent_dir, head_status, installed_core_latent
from xlsdk.latent.retarget import StreamRetargeter


@pytest.fixture(scope="module")
def report():
    hands = {name: xlsdk.load_hand(name) for name in REFERENCE_DOF}
    return evaluate_latent(hands, n=512, seed=777)


def test_shipped_latent_and_heads_are_fitted() -> None:
    core = installed_core_latent()
    assert set(core.manifest.hands) == {"canonical", *REFERENCE_DOF}
    assert core.latent_dim == 32
    for name in REFERENCE_DOF:
        assert head_status(xlsdk.load_hand(name)).state == "fitted"


def test_reconstruction_below_three_centiradians(report) -> None:  # noqa: ANN001
    for metrics in report.hands:
        assert metrics.recon_rad < 0.03, f"{metrics.hand}: {metrics.recon_rad:.4f} rad"


def test_cross_hand_geometry_beats_the_naive_mapping_for_every_pair(report) -> None:  # noqa: ANN001
    assert len(report.pairs) == 12
    for pair in report.pairs:
        assert pair.geometry_error < 0.8 * pair.naive_error, (
            f"{pair.source} -> {pair.target}: latent {pair.geometry_error:.3f} vs naive {pair.naive_error:.3f}")


def test_pinches_stay_pinches(report) -> None:  # noqa: ANN001
    kept = np.mean([pair.pinch_kept for pair in report.pairs])
    naive = np.mean([pair.naive_pinch_kept for pair in report.pairs])
    assert kept > naive


def test_latent_paths_are_smooth(report) -> None:  # noqa: ANN001
    for pair in report.pairs:
        assert pair.smoothness < 4.0, f"{pair.source} -> {pair.target} jumps ({pair.smoothness:.2f})"


def test_retarget_api_numpy_and_torch() -> None:
    inspire = xlsdk.load_hand("inspire")
    q = inspire.sample(7, torch.Generator().manual_seed(0))
    out_torch = xlsdk.retarget(q, "inspire", "xhand")
    assert isinstance(out_torch, torch.Tensor) and out_torch.shape == (7, 12)
    out_numpy = xlsdk.retarget(q.numpy().astype(np.float64), "inspire", "xhand")
    assert isinstance(out_numpy, np.ndarray) and out_numpy.dtype == np.float64
    np.testing.assert_allclose(out_numpy, out_torch.numpy(), atol=1e-5)
    single = xlsdk.retarget(q[0].numpy(), "inspire", "xhand")
    assert single.shape == (12,)
    xhand = xlsdk.load_hand("xhand")
    assert (out_numpy >= xhand.lower().numpy() - 1e-6).all() and (out_numpy <= xhand.upper().numpy() + 1e-6).all()


def test_stream_retargeter_matches_batched() -> None:
    q = xlsdk.load_hand("ability").sample(5, torch.Generator().manual_seed(1))
    stream = StreamRetargeter(xlsdk.load_hand("ability"), xlsdk.load_hand("paxini"))
    streamed = np.stack([stream(row) for row in q.numpy()])
    np.testing.assert_allclose(streamed, xlsdk.retarget(q.numpy(), "ability", "paxini"), atol=1e-4)


def test_refinement_improves_geometry() -> None:
    from xlsdk.latent.objectives import tip_error

    source, target = xlsdk.load_hand("xhand"), xlsdk.load_hand("inspire")
    q = source.sample(64, torch.Generator().manual_seed(2))
    fingers = ("thumb", "index", "middle", "ring", "little")
    plain = torch.as_tensor(xlsdk.retarget(q, source, target))
    refined = torch.as_tensor(xlsdk.retarget(q, source, target, refine=True))
    goal = source.geometry(q).select(fingers)
    before = tip_error(target.geometry(plain).select(fingers), goal).mean()
    after = tip_error(target.geometry(refined).select(fingers), goal).mean()
    assert after < before


def _digest_tree(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.mark.slow
def test_fit_new_hand_with_everything_frozen(tmp_path: Path) -> None:
    """A 3-finger hand the core never saw: fitted on CPU, core and reference heads bit-identical after.

    A shortened fit (the freezing does not depend on the length); the full default fit, its quality
    and its retargeting to and from every installed hand are checked in the vendor journey
    (tests/test_vendor_journey.py), its time against the five-minute budget in benchmarks/budgets.py.
    """
    generated = write_synthetic_hand(tmp_path / "tri", name="trifinger", fingers=("thumb", "index", "middle"))
    hand = Hand(load_hand_spec(generated.manifest), plugin="test")
    frozen = [core_latent_dir() / CORE_WEIGHTS] + [xlsdk.load_hand(n).head_path for n in REFERENCE_DOF]
    before = _digest_tree(frozen)
    fingerprint = installed_core_latent().fingerprint
    in_memory = {n: {k: v.clone() for k, v in h.state_dict().items()} for n, h in installed_core_latent().heads.items()}

    result = fit_head(hand, core_hands=xlsdk.load_core_hands(), config=FitConfig(seed=3, steps=400, check_every=200),
                      progress=False)

    assert result.steps == 400 and result.metrics["recon_rad"] < 0.1, result.metrics
    assert _digest_tree(frozen) == before
    assert installed_core_latent().fingerprint == fingerprint
    for name, head in installed_core_latent().heads.items():
        for key, tensor in head.state_dict().items():
            assert torch.equal(tensor, in_memory[name][key]), f"{name}.{key} changed during the fit"
    assert head_status(hand).state == "fitted"
    # it retargets to and from every reference hand
    q = hand.sample(10, torch.Generator().manual_seed(4))
    for name in REFERENCE_DOF:
        other = xlsdk.load_hand(name)
        there = xlsdk.retarget(q, hand, other)
        back = xlsdk.retarget(there, other, hand)
        assert there.shape == (10, other.dof) and back.shape == (10, hand.dof)
        assert torch.isfinite(back).all()


def test_fit_head_takes_the_core_hands_and_names_a_missing_one(tmp_path: Path) -> None:
    """The latent resolves no names (issue 23): ``fit_head`` needs the core latent's hands as Hands, which
    the faces load with ``xlsdk.load_core_hands``; one missing is named before anything is fitted or written."""
    from xlsdk.latent.fit import _checked_core_hands

    generated = write_synthetic_hand(tmp_path / "tri", name="trifinger", fingers=("thumb", "index", "middle"))
    hand = Hand(load_hand_spec(generated.manifest), plugin="test")
    core = installed_core_latent()
    core_hands = xlsdk.load_core_hands()
    assert list(_checked_core_hands(core, core_hands)) == list(core.manifest.hands), "the helper loads them all"
    missing = sorted(REFERENCE_DOF)[0]
    with pytest.raises(xlsdk.LatentError, match=f"{missing!r} is missing from core_hands"):
        fit_head(hand, core_hands={n: h for n, h in core_hands.items() if n != missing}, steps=1, progress=False)
    with pytest.raises(TypeError, match="core_hands"):
        fit_head(hand, steps=1, progress=False)  # type: ignore[call-arg]
    assert not list(generated.manifest.parent.glob("head*")), "nothing written"


@pytest.mark.parametrize("value", [1e30, np.nan, np.inf])
def test_retarget_refuses_to_answer_non_finite_joints(value: float) -> None:
    """The Python API refuses, as the CLI does: a NaN answer must never reach a caller (or a driver)."""
    q = np.zeros((4, 6))
    q[2, 1] = value
    with pytest.raises(xlsdk.DataFormatError, match=r"non-finite values for 1 pose\(s\) \(first: row 2\)"):
        xlsdk.retarget(q, "inspire", "xhand")
    assert np.isfinite(xlsdk.retarget(np.zeros((4, 6)), "inspire", "xhand")).all()


def test_a_fitted_encoder_reads_back_what_its_decoder_does(tmp_path: Path) -> None:
    """The fit's cycle term: a core latent decoded to this hand's pose and encoded again lands near where it
    started. Without it the geometry terms leave the encoder free in every direction the frozen decoders
    ignore, and a policy reading the hand's state through the encoder sees states it never saw in training."""
    generated = write_synthetic_hand(tmp_path / "tri", name="trifinger", fingers=("thumb", "index", "middle"))
    hand = Hand(load_hand_spec(generated.manifest), plugin="test")
    cycles = {}
    for weight in (0.0, 1.0):
        config = FitConfig(seed=3, steps=100, check_every=100, cycle_weight=weight)
        result = fit_head(hand, core_hands=xlsdk.load_core_hands(), config=config, out=tmp_path / f"w{weight}",
                          progress=False)
        cycles[weight] = result.metrics["latent_cycle"]
    assert cycles[1.0] < 0.65 * cycles[0.0], cycles
