"""`xlsdk new-hand` without --yes: it asks for every proposal on the terminal, and writes what was answered."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from synthetic_hands import write_synthetic_hand

FINGERS = ("thumb", "index", "middle", "ring")


def _new_hand(cwd: Path, out: str, *extra: str, answers: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xlsdk", "new-hand", "prompted", "--urdf", "prompted.urdf",
                           "--out", out, *extra], cwd=cwd, input=answers, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the hand's URDF (each test renders into its own --out below it)."""
    directory = tmp_path_factory.mktemp("prompted")
    write_synthetic_hand(directory, name="prompted", fingers=FINGERS, with_manifest=False)
    return directory


@pytest.fixture(scope="module")
def proposal(workdir: Path) -> dict:
    """What new-hand proposes for the hand (also the order its questions come in)."""
    result = _new_hand(workdir, "proposed", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_answers_are_written_into_the_manifest(workdir: Path, proposal: dict) -> None:
    assert list(proposal["fingers"]) == list(FINGERS)
    answers = [""]  # palm link: keep the proposal
    for finger in proposal["fingers"]:
        if finger == "ring":
            answers.append("skip")
        elif finger == "index":
            answers += ["index", "0 0 0.02"]
        else:
            answers += ["", ""]  # keep the proposed finger and offset
    answers.append("y")
    result = _new_hand(workdir, "answered", answers="\n".join(answers) + "\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Palm link" in result.stdout and "Canonical finger of the chain ending at" in result.stdout

    text = (workdir / "answered" / "xlsdk_prompted" / "hand.toml").read_text()
    manifest = tomllib.loads(text)
    assert list(manifest["fingers"]) == ["thumb", "index", "middle"], "the skipped chain is not a finger"
    assert manifest["fingers"]["index"]["offset"] == [0.0, 0.0, 0.02]
    assert manifest["fingers"]["thumb"]["offset"] == pytest.approx(proposal["fingers"]["thumb"]["offset"], abs=1e-6)
    assert "# edited" in text and "# confirmed" in text
    assert manifest["palm_link"] == proposal["palm_link"]


def test_declining_writes_nothing(workdir: Path, proposal: dict) -> None:
    answers = [""] + ["", ""] * len(proposal["fingers"]) + ["n"]
    result = _new_hand(workdir, "declined", answers="\n".join(answers) + "\n")
    assert result.returncode == 1
    assert "cancelled; nothing was written" in result.stderr
    assert not (workdir / "declined").exists()


@pytest.mark.parametrize(("answers", "message"), [
    (["no_such_link"], "link 'no_such_link' is not in prompted.urdf"),
    (["", "pinky"], "'pinky' is not a free canonical finger"),
    (["", "", "one two"], "tip offset 'one two' is not three numbers"),
])
def test_bad_answers_are_clear_errors_and_write_nothing(workdir: Path, proposal: dict, answers: list[str],
                                                        message: str) -> None:
    result = _new_hand(workdir, "bad", answers="\n".join(answers) + "\n")
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (workdir / "bad").exists()
