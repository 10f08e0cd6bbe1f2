"""A corpus hand, scaffolded with ``new-hand --yes`` and fitted at default settings, passes ``xlsdk check``.

The smallest real-style hand of the import corpus (a 3-finger humanoid hand, thumb opposite index and
middle) goes the whole way in-process: scaffold, register from its folder (no pip), default fit, every
conformance check. The 16- and 22-DOF corpus hands are fitted in benchmarks/budgets.py and every corpus
hand in benchmarks/corpus_fit.py (minutes each, too slow for the suite).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import HandPlugin

from xlsdk.cli import main
from xlsdk.conformance import run_checks
from xlsdk.latent.fit import fit_head

HANDS = Path(__file__).parent / "data" / "hands"


@pytest.mark.slow
def test_default_fit_of_a_corpus_hand_passes_check(tmp_path: Path, fresh_host, capsys) -> None:  # noqa: ANN001
    assert main(["new-hand", "fit_dex3", "--urdf", str(HANDS / "dex3_right.urdf"), "--yes",
                 "--out", str(tmp_path / "plugin")]) == 0
    capsys.readouterr()
    manifest = next((tmp_path / "plugin").rglob("hand.toml"))
    fresh_host.register(HandPlugin(manifest), name="fit-corpus")
    hand = fresh_host.load_hand("fit_dex3")
    state = torch.random.get_rng_state()

    result = fit_head(hand, progress=False)

    assert torch.equal(torch.random.get_rng_state(), state), "the fit must not touch the global torch RNG"
    assert result.metrics["recon_rad"] < 0.03, result.metrics
    report = run_checks("fit_dex3")
    assert report.passed, "\n".join(r.explain() for r in report.results if not r.passed)
