"""The scaffolding both benchmarks share (xlsdk.bench.harness) gives each the answers it gave on its own."""

from __future__ import annotations

import json
import time
from pathlib import Path

from pydantic import BaseModel

from xlsdk.bench import harness


def test_splits_in_order_of_precedence() -> None:
    combos = (("inspire", "pinch"),)
    split = lambda hand, task, **kw: harness.split_of(hand, task, held_out_hand="ability",  # noqa: E731
                                                      held_out_combos=combos, **kw)
    assert split("inspire", "pinch") == "held-out combination"
    assert split("inspire", "power") == "seen"
    assert split("ability", "pinch") == "held-out hand"
    assert split("ability", "pinch", zero_shot=["ability"]) == "zero-shot hand"  # zero-shot wins
    assert harness.split_of("xhand", "pinch", held_out_hand=None, held_out_combos=()) == "seen"
    assert harness.SPLITS == ("seen", "held-out combination", "held-out hand", "zero-shot hand")


def test_the_reproduce_commands_are_the_ones_the_reports_recorded() -> None:
    from xlsdk.bench.crosshand.benchmark import reproduce_command as crosshand
    from xlsdk.bench.physics.benchmark import reproduce_command as physics

    assert crosshand(quick=True, seed=0) == "xlsdk bench crosshand --quick"
    assert crosshand(quick=False, seed=3) == "xlsdk bench crosshand --seed 3"
    assert physics(quick=True) == "xlsdk bench physics --quick --obs state"
    assert (physics(quick=False, obs="vision", zero_shot=("a", "b"))
            == "xlsdk bench physics --obs vision --zero-shot-hand a --zero-shot-hand b")
    assert (physics(quick=False, arms=("latent", "raw", "slots"), steps=24000, seeds=2)
            == "xlsdk bench physics --obs state --arms latent,raw,slots --steps 24000 --seeds 2")
    assert physics(quick=True, arms=("latent", "raw", "act-latent"), seeds=3) == physics(quick=True)
    assert (physics(quick=True, arms=("latent", "raw", "slots", "act-latent"))
            == "xlsdk bench physics --quick --obs state --arms latent,raw,slots,act-latent")
    assert physics(quick=False, arms=("latent", "raw", "slots", "act-latent")) == physics(quick=False)
    assert (physics(quick=True, arms=("act-latent",), act_execution="ensemble")
            == "xlsdk bench physics --quick --obs state --arms act-latent --act-execution ensemble")


def test_median_ms_times_the_call_and_not_its_preparation() -> None:
    prepared, called = [], []

    def prepare():  # noqa: ANN202
        time.sleep(0.02)  # untimed: a fresh controller
        prepared.append(1)
        return lambda: (called.append(1), time.sleep(0.002))

    median = harness.median_ms(prepare, 5)
    assert len(prepared) == len(called) == 5
    assert 1.5 < median < 15.0  # the 2 ms call, not the 20 ms preparation


class _Report(BaseModel):
    value: float

    def table(self) -> str:
        return f"| value |\n|---|\n| {self.value} |"


def test_report_files(tmp_path: Path) -> None:
    path = harness.write_report_files(_Report(value=0.5), tmp_path, "demo", html="<p>page</p>")
    assert path == tmp_path / "demo.json" and json.loads(path.read_text()) == {"value": 0.5}
    assert (tmp_path / "demo.md").read_text().endswith("| 0.5 |\n")
    assert (tmp_path / "demo.html").read_text() == "<p>page</p>"
    harness.write_report_files(_Report(value=1.0), tmp_path / "plain", "x")
    assert sorted(p.name for p in (tmp_path / "plain").iterdir()) == ["x.json", "x.md"]


def test_feature_records() -> None:
    names = ["a.pos", "b.pos"]
    assert harness.vector_feature(names) == {"dtype": "float32", "shape": (2,), "names": names}
    assert harness.image_feature(48) == {"dtype": "image", "shape": (48, 48, 3),
                                         "names": ["height", "width", "channels"]}
