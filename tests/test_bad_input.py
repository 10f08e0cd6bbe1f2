"""The bad-input corpus (issue 15): every case a hostile user tried, kept so the count only grows.

Each case is one ``xlsdk`` command run in-process through :func:`xlsdk.cli.main` (or one library call)
and asserts four things: the exit code (or error type); a message naming the file, field or joint; no
traceback; and that no input was replaced or lost (every file present before the run is byte-identical
after it, and a failed run leaves no new file behind, not even a temporary one). Every test has a
timeout, so a case that hangs fails instead of stalling the suite. A handful of real subprocesses at the
end prove the same at the process level.

Files broken in one way live in ``tests/data/bad/`` (written by ``make_corpus.py`` there); variants that
read better built on the fly (manifests, URDFs, plugins, heads) are made in ``tmp_path``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from synthetic_hands import write_synthetic_hand
from xlsdk.cli import main
from xlsdk.errors import ManifestError, SafetyError, UrdfError
from xlsdk.plugins import PluginHost, reset_plugin_host

BAD = Path(__file__).parent / "data" / "bad"
ROOT = Path(__file__).resolve().parents[1]
INSPIRE_PACKAGE = ROOT / "plugins" / "xlsdk-inspire" / "xlsdk_inspire"
pytestmark = pytest.mark.timeout(60)


# --- the case machinery ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Cli:
    """One command: ``{w}`` in argv and in the expected fragments is the case's working directory."""

    argv: tuple[str, ...]
    code: int
    says: tuple[str, ...]
    never: tuple[str, ...] = ()  # fragments that must not appear (misleading messages of the past)
    prepare: Callable[[Path], None] | None = None
    hands: Callable[[Path], list[Path | object]] | None = None  # manifests (or plugin objects) to register
    changed: tuple[str, ...] = ()  # inputs the command is asked to replace (--force)
    check: Callable[[Path, str], None] | None = None  # more checks on the outputs and stdout
    stdout_json: bool = False  # stdout must be exactly one JSON document
    installed: tuple[str, ...] = ("ability", "xhand", "paxini")  # installed plugins loaded beside ``hands``


def _snapshot(root: Path) -> dict[str, str]:
    """Every file's digest (a symlink's target: it may point at a file no one can read)."""
    return {str(p.relative_to(root)): f"-> {os.readlink(p)}" if p.is_symlink() else
            hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _run_cli(case: Cli, work: Path, capsys: pytest.CaptureFixture) -> None:
    shutil.copytree(BAD, work / "bad", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    write_synthetic_hand(work / "synth", with_manifest=False)
    if case.prepare is not None:
        case.prepare(work)
    host = None
    if case.hands is not None:
        from conftest import HandPlugin

        registered = case.hands(work)
        host = PluginHost(allow=list(case.installed))
        host.register(HandPlugin(*[m for m in registered if isinstance(m, Path)]), name="bad_input_hands")
        for index, plugin in enumerate(m for m in registered if not isinstance(m, Path)):
            host.register(plugin, name=f"bad_input_plugin_{index}")
    before = _snapshot(work)
    argv = [part.replace("{w}", str(work)) for part in case.argv]
    previous = reset_plugin_host(host) if host is not None else None
    capsys.readouterr()
    try:
        code = main(argv)
    finally:
        if host is not None:
            reset_plugin_host(previous)
    out, err = capsys.readouterr()
    text = out + err
    assert code == case.code, f"exit code {code}, expected {case.code}; output:\n{text}"
    assert "Traceback" not in text
    for fragment in case.says:
        assert fragment.replace("{w}", str(work)) in text, f"{fragment!r} not in:\n{text}"
    for fragment in case.never:
        assert fragment not in text, f"misleading {fragment!r} in:\n{text}"
    after = _snapshot(work)
    for name, digest in before.items():
        assert name in after, f"input {name} was lost"
        if name not in case.changed:
            assert after[name] == digest, f"input {name} was modified"
    if case.code != 0:
        assert set(after) == set(before), f"a failed run left files behind: {sorted(set(after) - set(before))}"
    if case.stdout_json:
        json.loads(out)
    if "--json" in argv and out.strip():
        json.loads(out)  # stdout holds one whole JSON document (a report) or nothing, never half of one
    if case.check is not None:
        case.check(work, out)


def R(source: str, out: str = "out.npy", *extra: str, src: str = "inspire", dst: str = "ability") -> tuple[str, ...]:
    """``xlsdk retarget`` of ``bad/<source>`` to ``<out>`` (both relative to the working directory)."""
    return ("retarget", "--from", src, "--to", dst, f"{{w}}/bad/{source}", f"{{w}}/{out}", *extra)


def _poses_written(name: str, shape: tuple[int, int]) -> Callable[[Path, str], None]:
    def check(work: Path, out: str) -> None:
        assert np.load(work / name).shape == shape

    return check


def _extras_carried_csv(work: Path, out: str) -> None:
    import csv

    with open(work / "out.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["grip_force"] for row in rows] == [repr(0.5 * i) for i in range(20)]
    assert rows[3]["notes"] == "closing, slowly" and rows[7]["notes"] == "contact" and rows[0]["notes"] == ""
    assert "thumb_cmc_yaw" in rows[0], "the target hand's joints, then what was carried"


def _extras_carried_npz(work: Path, out: str) -> None:
    with np.load(work / "out.npz") as archive:
        assert sorted(archive.files) == ["calibration", "gripper", "q", "timestamp"]
        np.testing.assert_array_equal(archive["gripper"], np.linspace(0.0, 1.0, 20))
        np.testing.assert_array_equal(archive["calibration"], [1.0, 2.0, 3.0])
        assert archive["q"].shape == (20, 6)


def _csv_has_timestamps(work: Path, out: str) -> None:
    lines = (work / "out.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("timestamp,"), "the BOM did not cost the timestamp column"
    assert len(lines) == 21 and float(lines[2].split(",")[0]) == pytest.approx(0.1)


def _outside_in_json(work: Path, out: str) -> None:
    summary = json.loads(out)
    assert summary["outside_source_limits"]["poses"] == 5
    assert summary["outside_source_limits"]["joints"] == ["pinky_mcp", "thumb_cmc_yaw"]


def _write(relative: str, content: str | bytes) -> Callable[[Path], None]:
    def prepare(work: Path) -> None:
        path = work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return prepare


def _mkdir(relative: str) -> Callable[[Path], None]:
    return lambda work: (work / relative).mkdir(parents=True)


def _hardlink(work: Path) -> None:
    os.link(work / "bad" / "good.npy", work / "link.npy")


RETARGET = {
    # data loss (item 4): OUT is IN, existing OUT
    "out-is-in": Cli(R("good.npy", "bad/good.npy"), 1, ("{w}/bad/good.npy", "is the input itself")),
    "out-is-in-through-dotdot": Cli(R("good.npy", "bad/../bad/good.npy"), 1, ("is the input itself",)),
    "out-is-in-even-with-force": Cli(R("good.npy", "bad/good.npy", "--force"), 1, ("is the input itself",)),
    "out-is-a-hard-link-of-in": Cli(R("good.npy", "link.npy"), 1, ("link.npy", "is the input itself"),
                                    prepare=_hardlink),
    "existing-out-without-force": Cli(R("good.npy"), 1, ("{w}/out.npy", "already exists", "--force"),
                                      prepare=_write("out.npy", "precious")),
    "existing-out-with-force": Cli(R("good.npy", "out.npy", "--force"), 0, ("retargeted 20 poses",),
                                   prepare=_write("out.npy", "precious"), changed=("out.npy",),
                                   check=_poses_written("out.npy", (20, 6))),
    # tracebacks (item 10): OUT under a file, OUT a directory, odd files
    "out-under-a-file": Cli(R("good.npy", "bad/good.npy/x.npy"), 1, ("{w}/bad/good.npy", "is a file, not a directory")),
    "out-is-a-directory": Cli(R("good.npy", "outdir"), 1, ("{w}/outdir", "is a directory"), prepare=_mkdir("outdir")),
    "out-with-unknown-suffix": Cli(R("good.npy", "out.txt"), 1, ("out.txt", "unsupported output format .txt")),
    "csv-with-utf8-bom": Cli(R("bom.csv", "out.csv"), 0, ("retargeted 20 poses",), check=_csv_has_timestamps),
    "latin1-csv": Cli(R("latin1.csv", "out.csv"), 1, ("{w}/bad/latin1.csv", "is not UTF-8 text", "0xe9")),
    "npz-with-object-member": Cli(R("object_member.npz"), 1, ("object_member.npz", "array 'q'", "Python objects")),
    "npz-that-is-not-a-zip": Cli(R("not_zip.npz"), 1, ("{w}/bad/not_zip.npz", "not an .npz archive")),
    "npy-header-claiming-1e11-rows": Cli(R("huge_header.npy"), 1,
                                         ("huge_header.npy", "(100000000000, 6)", "truncated")),
    "text-file-named-npy": Cli(R("text.npy"), 1, ("{w}/bad/text.npy", "not a .npy array"), never=("pickled",)),
    "pickled-npy": Cli(R("pickle.npy"), 1, ("pickle.npy", "Python objects", "never unpickled")),
    "complex-npy": Cli(R("complex.npy"), 1, ("complex.npy", "complex numbers", "imaginary part")),
    "complex-npz": Cli(R("complex.npz"), 1, ("complex.npz", "array 'q'", "complex numbers")),
    "string-npy": Cli(R("strings.npy"), 1, ("strings.npy", "has dtype <U3")),
    "nan-in-npy": Cli(R("nan.npy"), 1, ("nan.npy", "non-finite value nan at row 2, joint 'index_mcp'")),
    "inf-in-csv-names-the-file-line": Cli(R("inf.csv", "out.csv"), 1,
                                          ("inf.csv", "non-finite value inf at line 4, joint 'thumb_cmc_yaw'"),
                                          never=("row 2",)),
    "text-cell-in-csv": Cli(R("text_cell.csv", "out.csv"), 1, ("line 5, column 'ring_mcp': 'closed' is not a number",)),
    "short-csv-row": Cli(R("short_row.csv", "out.csv"), 1, ("short_row.csv", "line 3 has 3 cells")),
    "csv-without-header": Cli(R("numeric_header.csv", "out.csv"), 1, ("numeric_header.csv", "line 1 is numbers")),
    "csv-duplicate-column": Cli(R("duplicate_column.csv", "out.csv"), 1, ("'pinky_mcp' appear more than once",)),
    "empty-csv": Cli(R("empty.csv", "out.csv"), 1, ("empty.csv", "empty CSV file")),
    "csv-header-only": Cli(R("header_only.csv", "out.csv"), 1, ("header_only.csv", "holds no poses")),
    "csv-wrong-columns": Cli(R("wrong_columns.csv", "out.csv"), 1, ("header must name the joints", "pinky_mcp")),
    # NaN/inf timestamps and their shapes (items 7, 15)
    "nan-timestamp-csv": Cli(R("nan_timestamp.csv", "out.csv"), 1, ("non-finite timestamp nan at line 3",)),
    "nan-timestamp-npz": Cli(R("nan_timestamp.npz", "out.npz"), 1, ("nan_timestamp.npz", "timestamp nan at row 5")),
    "inf-timestamp-npz": Cli(R("inf_timestamp.npz", "out.npz"), 1, ("timestamp inf at row 0",)),
    "timestamps-of-shape-20x2": Cli(R("timestamps_2d.npz", "out.npz"), 1,
                                    ("timestamps have shape (20, 2); expected (20,), one per pose",),
                                    never=("20 timestamps for 20 poses",)),
    "too-few-timestamps": Cli(R("timestamps_short.npz", "out.npz"), 1, ("shape (5,); expected (20,)",)),
    "npz-without-q": Cli(R("no_q.npz"), 1, ("no_q.npz", "no array named q, action or positions (found joints)")),
    "truncated-npy": Cli(R("truncated.npy"), 1, ("truncated.npy", "truncated")),
    "truncated-npz-member": Cli(R("truncated_member.npz"), 1, ("truncated_member.npz", "array 'q'", "truncated")),
    "too-many-joints": Cli(R("wide.npy"), 1, ("wide.npy", "expected shape (T, 6)", "got (4, 9)")),
    "three-dimensional-array": Cli(R("three_d.npy"), 1, ("three_d.npy", "got (2, 3, 6)")),
    "no-poses": Cli(R("empty.npy"), 1, ("empty.npy", "holds no poses")),
    # huge and far-out values (item 6)
    "huge-values-npy": Cli(R("huge_values.npy"), 1, ("huge_values.npy", "non-finite values for 3 pose(s)",
                                                     "nothing was written")),
    "huge-values-refined": Cli(R("huge_values.npy", "out.npy", "--refine", "--refine-steps", "2"), 1,
                               ("huge_values.npy", "non-finite values")),
    "huge-values-csv": Cli(R("huge_values.csv", "out.csv"), 1, ("huge_values.csv", "non-finite values")),
    "far-outside-limits-warns": Cli(R("far_outside.npy"), 0,
                                    ("warning", "5 of 20 pose(s) lie outside the inspire limits",
                                     "joints pinky_mcp, thumb_cmc_yaw")),
    "far-outside-limits-json": Cli(R("far_outside.npy", "out.npy", "--json"), 0, ("outside_source_limits",),
                                   stdout_json=True, check=_outside_in_json),
    "missing-input": Cli(R("nowhere.npy"), 1, ("{w}/bad/nowhere.npy", "file not found")),
    "input-is-a-plain-directory": Cli(R("plain"), 1, ("{w}/bad/plain", "is a directory, not a trajectory file"),
                                      prepare=_mkdir("bad/plain")),
    "input-with-unknown-suffix": Cli(R("in.txt"), 1, ("in.txt", "unsupported trajectory format .txt"),
                                     prepare=_write("bad/in.txt", "1,2,3")),
    "lerobot-corrupt-info-json": Cli(R("lerobot_corrupt_info", "out_ds"), 1,
                                     ("lerobot_corrupt_info/meta/info.json", "not a readable JSON file")),
    "lerobot-info-without-features": Cli(R("lerobot_no_features", "out_ds"), 1,
                                         ("lerobot_no_features/meta/info.json", "has no `features` object")),
    "lerobot-existing-output": Cli(R("lerobot_no_features", "bad/lerobot_corrupt_info"), 1,
                                   ("lerobot_corrupt_info", "already exists")),
    "unknown-source-hand": Cli(R("good.npy", src="nosuch"), 1, ("unknown hand 'nosuch'",)),
    "failed-json-run-prints-no-json": Cli(R("nan.npy", "out.npy", "--json"), 1, ("nan.npy", "joint 'index_mcp'")),
    "good-csv-keeps-timestamps": Cli(R("good.csv", "out.csv"), 0, ("retargeted 20 poses",), check=_csv_has_timestamps),
    # issue 22 item 10: a FIFO named .npy made retarget wait forever for a writer
    "fifo-named-npy": Cli(R("fifo.npy"), 1, ("{w}/bad/fifo.npy", "not a regular file"),
                          prepare=lambda work: os.mkfifo(work / "bad" / "fifo.npy")),
    # issue 22 item 5: columns and arrays besides the joints are carried through, or refused, never dropped
    "extra-csv-columns-carried": Cli(R("extra_columns.csv", "out.csv"), 0, ("retargeted 20 poses",),
                                     check=_extras_carried_csv),
    "extra-csv-columns-into-npy": Cli(R("extra_columns.csv", "out.npy"), 1, (
        "{w}/out.npy", "extra_columns.csv holds 'grip_force', 'notes' besides the joints", "would be dropped")),
    "extra-npz-arrays-carried": Cli(R("extra_arrays.npz", "out.npz"), 0, ("retargeted 20 poses",),
                                    check=_extras_carried_npz),
    "extra-npz-arrays-into-npy": Cli(R("extra_arrays.npz", "out.npy"), 1, ("'calibration', 'gripper'",
                                                                          "would be dropped")),
    "extra-npz-array-not-per-pose-into-csv": Cli(R("extra_arrays.npz", "out.csv"), 1, ("'calibration'",
                                                                                      "one value per pose")),
    # issue 22 item 6: a legal 250-character OUT failed because the temporary name beside it was longer
    "out-name-of-250-characters": Cli(R("good.npy", "o" * 246 + ".npy"), 0, ("retargeted 20 poses",),
                                      check=_poses_written("o" * 246 + ".npy", (20, 6))),
    # issue 22 item 13: a negative step count was accepted
    "refine-steps-negative": Cli(R("good.npy", "out.npy", "--refine", "--refine-steps", "-5"), 2,
                                 ("--refine-steps", "greater than or equal to 1")),
}


@pytest.mark.parametrize("name", sorted(RETARGET))
def test_retarget(name: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _run_cli(RETARGET[name], tmp_path, capsys)


# --- manifests (item 1 and the rest of the manifest's validation) ---------------------------------

def _manifest_variant(edit: Callable[[str], str]) -> Callable[[Path], Path]:
    def make(work: Path) -> Path:
        hand = write_synthetic_hand(work / "variant")
        hand.manifest.write_text(edit(hand.manifest.read_text()))
        return hand.manifest

    return make


def _append(extra: str) -> Callable[[str], str]:
    return lambda text: text + "\n" + extra + "\n"


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new)

    return edit


LIMIT = "[limits.fi_mcp]\nlower = {lower}\nupper = {upper}"
MIDDLE_OFFSET = "offset = [-0, 0, 0.023]"
PALM_RPY = "rpy = [1.57079632679, -0, 1.57079632679]"
MANIFESTS: dict[str, tuple[Callable[[str], str], tuple[str, ...]]] = {
    "limit-lower-nan": (_append(LIMIT.format(lower="nan", upper="1.0")), ("field `limits.fi_mcp.lower` is nan",)),
    "limit-upper-inf": (_append(LIMIT.format(lower="0.0", upper="inf")), ("field `limits.fi_mcp.upper` is inf",)),
    "limit-lower-minus-inf": (_append(LIMIT.format(lower="-inf", upper="1.0")), ("`limits.fi_mcp.lower` is -inf",)),
    "limit-both-nan": (_append(LIMIT.format(lower="nan", upper="nan")), ("limits.fi_mcp.lower", "limits.fi_mcp.upper")),
    "tip-offset-nan": (_replace(MIDDLE_OFFSET, "offset = [nan, 0, 0.023]"),
                       ("field `fingers.middle.offset.0` is nan",)),
    "tip-offset-inf": (_replace(MIDDLE_OFFSET, "offset = [0, 0, inf]"), ("field `fingers.middle.offset.2` is inf",)),
    "palm-rpy-nan": (_replace(PALM_RPY, "rpy = [nan, 0, 1.57]"), ("field `palm_frame.rpy.0` is nan",)),
    "palm-xyz-inf": (_replace(PALM_RPY, PALM_RPY + "\nxyz = [0, -inf, 0]"), ("field `palm_frame.xyz.1` is -inf",)),
    "limit-lower-above-upper": (_append(LIMIT.format(lower="1.0", upper="0.5")), ("lower 1.0 is above upper 0.5",)),
    "limit-widens-urdf": (_append(LIMIT.format(lower="-5.0", upper="5.0")), ("limits.fi_mcp", "widens the URDF range")),
    "limit-of-unactuated-joint": (_append("[limits.fi_dip]\nlower = 0.0\nupper = 0.5"),
                                  ("limits.fi_dip", "is not an actuated joint")),
    "unknown-field": (_replace('version = "0.1.0"', 'version = "0.1.0"\ncolour = "red"'),
                      ("field `colour` is not a manifest field",)),
    "schema-2": (_replace("schema = 1", "schema = 2"), ("field `schema` must be 1",)),
    "missing-name": (_replace('name = "synth"\n', ""), ("field `name` is required",)),
    "not-toml": (_append("[fingers.index"), ("not valid TOML",)),
    "non-canonical-finger": (_replace("[fingers.middle]", "[fingers.pinky]"),
                             ("`fingers.pinky` is not a canonical finger",)),
    "joint-listed-twice": (_replace('"fm_pip"]', '"fm_pip", "fi_mcp"]'), ("joint 'fi_mcp' is listed twice",)),
    "unknown-joint": (_replace('"fm_pip"]', '"fm_pip", "ghost"]'), ("joint 'ghost' is not in synth.urdf",)),
    "urdf-missing": (_replace('urdf = "synth.urdf"', 'urdf = "nowhere.urdf"'), ("field `urdf`", "does not exist")),
    "driver-name": (_replace('drivers = ["sim"]', 'drivers = ["Sim!"]'), ("driver name 'Sim!'",)),
    "palm-link-missing": (_replace('palm_link = "palm"', 'palm_link = "wrist"'), ("field `palm_link`", "'wrist'")),
    "offset-of-two-numbers": (_replace(MIDDLE_OFFSET, "offset = [0, 0]"), ("`fingers.middle.offset` needs exactly 3",)),
    "empty-file": (lambda text: "", ("field `schema` is required",)),
    "name-with-capitals": (_replace('name = "synth"', 'name = "Synth"'), ("field `name`",)),
    # issue 22 item 13: strict types (booleans and quoted numbers were read as numbers)
    "limits-false-and-true": (_append(LIMIT.format(lower="false", upper="true")),
                              ("field `limits.fi_mcp.lower` is false, not a number",
                               "field `limits.fi_mcp.upper` is true, not a number")),
    "offset-as-strings": (_replace(MIDDLE_OFFSET, 'offset = ["0", "0", "0.023"]'),
                          ("field `fingers.middle.offset.0` is '0', not a number", "fingers.middle.offset.2")),
    "palm-rpy-as-a-string": (_replace(PALM_RPY, 'rpy = ["1.57", 0, 1.57]'), ("field `palm_frame.rpy.0` is '1.57'",)),
    "schema-true": (_replace("schema = 1", "schema = true"), ("field `schema`", "not true")),
}


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_manifest(name: str, tmp_path: Path) -> None:
    from xlsdk.hand_spec import load_hand_spec

    edit, fragments = MANIFESTS[name]
    manifest = _manifest_variant(edit)(tmp_path)
    before = manifest.read_bytes()
    with pytest.raises(ManifestError) as caught:
        load_hand_spec(manifest)
    message = str(caught.value)
    assert str(manifest) in message, "the message names the file"
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert "Traceback" not in message and manifest.read_bytes() == before


def test_nan_limit_never_reaches_a_driver(tmp_path: Path) -> None:
    """Issue 15 item 1 as filed: a copied plugin with ``lower = nan`` used to make SimDriver send NaN."""
    from xlsdk.drivers import SimDriver
    from xlsdk.hand import Hand
    from xlsdk.hand_spec import load_hand_spec

    package = tmp_path / "xlsdk_inspire"
    shutil.copytree(INSPIRE_PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = package / "hand.toml"
    manifest.write_text(manifest.read_text() + "\n[limits.pinky_mcp]\nlower = nan\nupper = 1.0\n")
    with pytest.raises(ManifestError, match=r"field `limits.pinky_mcp.lower` is nan"):
        load_hand_spec(manifest)
    # and were such a spec built anyway, the safety layer under every driver refuses it
    good = load_hand_spec(INSPIRE_PACKAGE / "hand.toml")
    broken = good.model_copy(update={"lower": (math.nan, *good.lower[1:])})
    with pytest.raises(SafetyError, match="pinky_mcp"):
        SimDriver(Hand(broken), watchdog_thread=False)


SAFETY = {
    "limits-with-nan": (lambda: _layer(lower=[math.nan, 0.0]), "joint(s) a"),
    "limits-with-inf": (lambda: _layer(upper=[1.0, math.inf]), "joint(s) b"),
    "limits-inverted": (lambda: _layer(lower=[2.0, 0.0]), "joint(s) a"),
    "limits-of-wrong-length": (lambda: _layer(lower=[0.0]), "shape mismatch"),
    "nan-command": (lambda: _layer().apply([math.nan, 0.5], None, None), "joint(s) a"),
    "inf-command": (lambda: _layer().apply([0.5, -math.inf], None, None), "joint(s) b"),
    "command-of-wrong-length": (lambda: _layer().apply([0.5], None, None), "shape (1,)"),
    "text-command": (lambda: _layer().apply(["open", "shut"], None, None), "not a numeric vector"),
    "complex-command": (lambda: _layer().apply([0.5 + 1j, 0.5], None, None), "not a numeric vector"),
    "nan-previous-position": (lambda: _layer().apply([0.5, 0.5], np.array([math.nan, 0.0]), 0.01), "nothing was sent"),
}


def _layer(lower: list[float] | None = None, upper: list[float] | None = None):  # noqa: ANN202
    from xlsdk.drivers import SafetyLayer

    return SafetyLayer(("a", "b"), np.array(lower or [0.0, 0.0]), np.array(upper or [1.0, 1.0]))


@pytest.mark.parametrize("name", sorted(SAFETY))
def test_safety_layer(name: str) -> None:
    call, fragment = SAFETY[name]
    with pytest.raises(SafetyError) as caught:
        call()
    assert fragment in str(caught.value)


# --- URDFs ----------------------------------------------------------------------------------------

_LAUGHS = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10))
_JOINT = ('<robot name="r"><link name="palm"/><link name="a"/><joint name="j" type="revolute"><parent link="palm"/>'
          '<child link="a"/>{origin}<axis xyz="{axis}"/><limit lower="{lower}" upper="1" effort="1" velocity="1"/>'
          "</joint></robot>")
_SHAPE = ('<robot name="r"><link name="palm"/><link name="a"><collision><geometry>{shape}</geometry></collision>'
          '</link><joint name="j" type="revolute"><parent link="palm"/><child link="a"/><axis xyz="1 0 0"/>'
          '<limit lower="0" upper="1" effort="1" velocity="1"/></joint></robot>')
_MIMIC_CHAIN = ('<robot name="r"><link name="palm"/><link name="a"/><link name="b"/><link name="c"/>'
                + "".join(f'<joint name="j{c}" type="revolute"><parent link="{p}"/><child link="{c}"/><axis xyz="1 0 0"/>'
                          f'<limit lower="0" upper="1" effort="1" velocity="1"/>{m}</joint>'
                          for p, c, m in (("palm", "a", ""), ("a", "b", '<mimic joint="ja" multiplier="1e200"/>'),
                                          ("b", "c", '<mimic joint="jb" multiplier="1e200"/>')))
                + "</robot>")
URDFS = {
    "billion-laughs": (f'<?xml version="1.0"?><!DOCTYPE robot [{_LAUGHS}]><robot name="r"><link name="&l9;"/></robot>',
                       ("not valid XML", "amplification")),
    "external-entity": ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                        '<robot name="r"><link name="&x;"/></robot>', ("external entity 'x'",)),
    "nan-origin": (_JOINT.format(origin='<origin xyz="0 nan 0"/>', axis="1 0 0", lower="0"),
                   ("joint 'j'", '<origin xyz="0 nan 0"> needs three numbers')),
    "nan-limit": (_JOINT.format(origin="", axis="1 0 0", lower="nan"),
                  ("joint 'j'", '<limit lower="nan"> is not a number')),
    "inf-axis": (_JOINT.format(origin="", axis="0 0 inf", lower="0"), ('<axis xyz="0 0 inf"> needs three numbers',)),
    "empty-file": ("", ("not valid XML",)),
    "binary-garbage": ("\x00\x01\x02garbage", ("not valid XML",)),
    # issue 22 items 11, 12: shape sizes and couplings that put fingertips at NaN or infinity
    "nan-sphere-radius": (_SHAPE.format(shape='<sphere radius="nan"/>'),
                          ("link 'a' <collision>", '<sphere radius="nan"> holds nan', "finite")),
    "cylinder-length-1e309": (_SHAPE.format(shape='<cylinder radius="0.01" length="1e309"/>'),
                              ('<cylinder length="1e309"> holds inf',)),
    "box-with-one-size": (_SHAPE.format(shape='<box size="0.02"/>'), ('<box size="0.02"> needs three numbers',)),
    "negative-box-size": (_SHAPE.format(shape='<box size="0.02 0.02 -0.01"/>'), ("holds -0.01",)),
    "mesh-scale-inf": (_SHAPE.format(shape='<mesh filename="a.stl" scale="inf"/>'), ('<mesh scale="inf">',)),
    "chained-mimic-multipliers-1e200": (_MIMIC_CHAIN, ("joint 'jb'", "multiplier 1e+200", "joint 'jc'",
                                                       "through jc -> jb -> ja", "fix the multiplier")),
}


@pytest.mark.parametrize("name", sorted(URDFS))
def test_urdf(name: str, tmp_path: Path) -> None:
    from xlsdk.urdf import load_urdf

    text, fragments = URDFS[name]
    path = tmp_path / f"{name}.urdf"
    path.write_text(text)
    with pytest.raises(UrdfError) as caught:
        load_urdf(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


@pytest.mark.timeout(25)
def test_propose_manifest_of_a_2000_joint_urdf_finishes(tmp_path: Path) -> None:
    """Issue 15 item 16: ``propose_manifest`` was quadratic (2000 joints: 49 s). The timeout is the check."""
    from xlsdk.manifest_proposal import propose_manifest
    from xlsdk.urdf import load_urdf

    links, joints = ['<link name="palm"/>'], []
    for finger in range(5):
        parent = "palm"
        for index in range(400):
            child = f"f{finger}_l{index}"
            links.append(f'<link name="{child}"/>')
            xyz = f"{0.02 * (finger - 2)} 0 0.01" if index == 0 else "0 0 0.001"
            joints.append(f'<joint name="f{finger}_j{index}" type="revolute"><parent link="{parent}"/>'
                          f'<child link="{child}"/><origin xyz="{xyz}"/><axis xyz="1 0 0"/>'
                          '<limit lower="0" upper="0.01" effort="1" velocity="1"/></joint>')
            parent = child
    path = tmp_path / "long.urdf"
    path.write_text('<robot name="long">' + "".join(links + joints) + "</robot>")
    proposal = propose_manifest(load_urdf(path))
    assert len(proposal.joints) == 2000


# --- new-hand (items 12, 13, 14) ------------------------------------------------------------------

def N(name: str, out: str, *extra: str, urdf: str = "{w}/synth/synth.urdf") -> tuple[str, ...]:
    return ("new-hand", name, "--urdf", urdf, "--out", f"{{w}}/{out}", "--yes", *extra)


def _quote_in_joint_name(work: Path) -> None:
    urdf = work / "synth" / "synth.urdf"
    urdf.write_text(urdf.read_text().replace('"fi_mcp"', '"fi_mcp&quot;x\\y"'))


def _rendered(expect: dict[str, object]) -> Callable[[Path, str], None]:
    def check(work: Path, out: str) -> None:
        plugin = work / "plugin"
        manifest = tomllib.loads((plugin / "xlsdk_gadget" / "hand.toml").read_text(encoding="utf-8"))
        for key, value in expect.items():
            assert (value in manifest[key]) if key == "joints" else manifest[key] == value, key
        pyproject = tomllib.loads((plugin / "pyproject.toml").read_text(encoding="utf-8"))
        assert pyproject["project"]["name"] == "xlsdk-gadget"
        for source in plugin.rglob("*.py"):
            py_compile.compile(str(source), doraise=True)
        from xlsdk.hand_spec import load_hand_spec

        assert load_hand_spec(plugin / "xlsdk_gadget" / "hand.toml").name == "gadget"

    return check


def _mode_follows_umask(work: Path, out: str) -> None:
    assert (work / "plugin").stat().st_mode & 0o777 == 0o755, oct((work / "plugin").stat().st_mode)


NEW_HAND = {
    "out-is-an-existing-file": Cli(N("gadget", "bad/good.npy"), 1, ("{w}/bad/good.npy is a file",)),
    "out-under-a-file": Cli(N("gadget", "bad/good.npy/plugin"), 1, ("cannot be created", "{w}/bad/good.npy is a file")),
    "out-is-a-populated-directory": Cli(N("gadget", "bad"), 1, ("{w}/bad already exists and is not empty",)),
    "name-of-an-installed-hand": Cli(N("inspire", "plugin"), 1, ("hand name 'inspire' is taken",)),
    "reserved-name-canonical": Cli(N("canonical", "plugin"), 1, ("hand name 'canonical' is reserved",)),
    "reserved-name-sim": Cli(N("sim", "plugin"), 1, ("hand name 'sim' is reserved",)),
    "malformed-name": Cli(N("Bad-Hand", "plugin"), 1, ("hand name 'Bad-Hand' must be lowercase",)),
    "name-too-long": Cli(N("h" * 41, "plugin"), 1, ("at most 40 characters",)),
    "vendor-with-a-newline": Cli(N("gadget", "plugin", "--vendor", "ACME\nInc"), 1, ("vendor", "control characters")),
    "missing-urdf": Cli(N("gadget", "plugin", urdf="{w}/nowhere.urdf"), 1, ("{w}/nowhere.urdf", "file not found")),
    "urdf-not-xml": Cli(N("gadget", "plugin", urdf="{w}/bad/good.csv"), 1, ("{w}/bad/good.csv", "not valid XML")),
    "vendor-with-backslash": Cli(N("gadget", "plugin", "--vendor", "C:\\hands"), 0, ("created",),
                                 check=_rendered({"vendor": "C:\\hands"})),
    "title-with-quotes-and-backslashes": Cli(N("gadget", "plugin", "--title", 'Gadget "G1" C:\\x\\N'), 0, ("created",),
                                             check=_rendered({"title": 'Gadget "G1" C:\\x\\N'})),
    "joint-name-with-quote": Cli(N("gadget", "plugin"), 0, ("created",), prepare=_quote_in_joint_name,
                                 check=_rendered({"joints": 'fi_mcp"x\\y'})),
    "directory-permissions-follow-umask": Cli(N("gadget", "plugin"), 0, ("created",), check=_mode_follows_umask),
    # issue 22 item 11: tracebacks before
    "out-is-a-dangling-symlink": Cli(N("gadget", "link"), 1, ("{w}/link is a symlink to nothing", "plain directory"),
                                     prepare=lambda work: (work / "link").symlink_to(work / "nowhere")),
    "out-is-a-symlink-to-an-empty-directory": Cli(N("gadget", "link"), 1, ("{w}/link is a symlink",),
                                                  prepare=lambda work: (_mkdir("empty")(work),
                                                                        (work / "link").symlink_to(work / "empty"))),
    "out-in-a-folder-no-one-may-write": Cli(("new-hand", "gadget", "--urdf", "{w}/synth/synth.urdf", "--out",
                                             "/sys/xlsdk-plugin", "--yes"), 1,
                                            ("/sys/xlsdk-plugin cannot be created", "nothing was written")),
}


@pytest.mark.parametrize("name", sorted(NEW_HAND))
def test_new_hand(name: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    umask = os.umask(0o022)
    try:
        _run_cli(NEW_HAND[name], tmp_path, capsys)
    finally:
        os.umask(umask)


def test_a_second_new_hand_into_the_same_out_is_a_clear_error(tmp_path: Path) -> None:
    """Issue 22 item 11: two runs, one --out; the loser died with "Directory not empty" (a traceback).

    The other run is played by the ``choose`` step, which runs after the destination was checked and before
    anything is written: it fills the destination as a concurrent run finishing first would.
    """
    from xlsdk.errors import NewHandError
    from xlsdk.new_hand import create_hand_plugin

    hand = write_synthetic_hand(tmp_path / "synth", with_manifest=False)
    out = tmp_path / "plugin"

    def other_run_finishes_first(proposal, model):  # noqa: ANN001, ANN202 - the Chooser signature
        out.mkdir()
        (out / "pyproject.toml").write_text("the winner's plugin")
        return proposal

    with pytest.raises(NewHandError, match="could not be put in place .*a second new-hand run.*nothing was written"):
        create_hand_plugin("gadget", hand.urdf, out, choose=other_run_finishes_first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plugin", "synth"], "no staging folder left behind"
    assert [p.name for p in out.iterdir()] == ["pyproject.toml"]
    assert (out / "pyproject.toml").read_text() == "the winner's plugin"


def test_new_hand_without_out_in_a_folder_no_one_may_write(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22 item 11: no --out in a read-only working directory was a traceback (/sys refuses even root)."""
    hand = write_synthetic_hand(tmp_path / "synth", with_manifest=False)
    monkeypatch.chdir("/sys")
    assert main(["new-hand", "gadget", "--urdf", str(hand.urdf), "--yes"]) == 1
    err = capsys.readouterr().err
    assert "/sys/xlsdk-gadget cannot be created" in err and "Traceback" not in err


def test_the_next_run_removes_the_staging_a_killed_run_left(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Issue 22 item 6: SIGKILL leaves ``.xlsdk-<pid>-*`` staging beside OUT (no ``finally`` runs); the next
    run in that folder removes what belongs to processes that are gone, and leaves a live process's alone."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead_pid = int(dead.stdout)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        stale_dir, stale_file = tmp_path / f".xlsdk-{dead_pid}-k1ll3d", tmp_path / f".xlsdk-{dead_pid}-k1ll3d.tmp"
        busy = tmp_path / f".xlsdk-{live.pid}-busy01.tmp"
        stale_dir.mkdir()
        (stale_dir / "half.npy").write_bytes(b"half")
        stale_file.write_bytes(b"half")
        busy.write_bytes(b"in progress")
        assert main(["retarget", "--from", "inspire", "--to", "ability", str(BAD / "good.npy"),
                     str(tmp_path / "out.npy")]) == 0
        capsys.readouterr()
        assert not stale_dir.exists() and not stale_file.exists(), "a dead run's staging is removed"
        assert busy.read_bytes() == b"in progress", "a live run's staging is left alone"
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([busy.name, "out.npy"])
    finally:
        live.kill()
        live.wait()


# --- vendor files from strangers (issue 22, items 1-3): a xacro runs no code, nothing outside leaks in ----------

XACRO_HAND = ROOT / "tests" / "data" / "hands" / "xacro_hand.urdf.xacro"
SECRET_FILE_TEXT = "outside-file-text-5d1e"  # in files beside, not inside, the model's folder
SECRET_ENV = "XLSDK_BAD_INPUT_SECRET"
SECRET_ENV_TEXT = "environment-text-83b0"
XACRO_NS = 'xmlns:xacro="http://www.ros.org/wiki/xacro"'
_SECRET_STL = (f"solid {SECRET_FILE_TEXT}\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 0.01 0 0\n"
               "vertex 0 0.01 0\nendloop\nendfacet\nendsolid\n")


def _outside_files(work: Path) -> None:
    outside = work / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.yaml").write_text(f"key: {SECRET_FILE_TEXT}\n")
    (outside / "props.xacro").write_text(f'<robot {XACRO_NS}><xacro:property name="stolen" '
                                         f'value="{SECRET_FILE_TEXT}"/></robot>')
    (outside / "secret.stl").write_text(_SECRET_STL)


def _vendor_xacro(in_material: str = "", head: str = "", *, files: dict[str, str] | None = None,
                  links: dict[str, str] | None = None) -> Callable[[Path], None]:
    """The corpus xacro hand in ``model/``, ``in_material`` in its palm's material name, ``head`` added first.

    Without the sandbox each of these files expands (the payload sits in a free-text name), so a case
    passes only because the payload is refused. ``{w}`` is the case's working directory; ``files`` are
    more files in ``model/``; ``links`` are symlinks in ``model/`` to paths under the working directory.
    """
    def prepare(work: Path) -> None:
        _outside_files(work)
        model = work / "model"
        model.mkdir()
        text = XACRO_HAND.read_text()
        opening = text.index(">", text.index("<robot ")) + 1
        text = text[:opening] + head + text[opening:]
        text = text.replace("<visual>", f'<visual><material name="palm_grey{in_material}"/>', 1)
        (model / "hand.urdf.xacro").write_text(text.replace("{w}", str(work)))
        for relative, content in (files or {}).items():
            (model / relative).parent.mkdir(parents=True, exist_ok=True)
            (model / relative).write_text(content.replace("{w}", str(work)))
        for relative, target in (links or {}).items():
            (model / relative).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(work / target, model / relative)

    return prepare


def _nothing_leaked(work: Path, out: str) -> None:
    """No code ran (no PWNED anywhere) and no outside or environment text is in any file written."""
    assert not (work / "PWNED").exists() and not (Path.cwd() / "PWNED").exists(), "the xacro ran code"
    for path in work.rglob("*"):
        if path.is_file() and not path.is_symlink() and "outside" not in path.relative_to(work).parts:
            data = path.read_bytes()
            assert SECRET_FILE_TEXT.encode() not in data, f"outside-file text copied into {path}"
            assert SECRET_ENV_TEXT.encode() not in data, f"environment text copied into {path}"


def X(payload: str = "", head: str = "", *says: str, code: int = 1, check: Callable[[Path, str], None] | None = None,
      **files: dict[str, str]) -> Cli:
    """``new-hand`` of the vendor xacro carrying ``payload``; refused with a message naming the file."""
    def checks(work: Path, out: str) -> None:
        _nothing_leaked(work, out)
        if check is not None:
            check(work, out)

    fragments = (("{w}/model/",) if code else ()) + says
    return Cli(N("gadget", "plugin", urdf="{w}/model/hand.urdf.xacro"), code, fragments,
               never=(SECRET_FILE_TEXT, SECRET_ENV_TEXT), prepare=_vendor_xacro(payload, head, **files),
               check=checks)


_FRAME_WALK = ("${[(g := (g.gi_frame.f_back.f_back.f_globals for _ in [1])), python.list(g)][1][0]['os']"
               ".system('touch {w}/PWNED')}")
_MACRO_BOMB = ('<xacro:macro name="m0"><link name="bomb"/></xacro:macro>'
               + "".join(f'<xacro:macro name="m{i}"><xacro:m{i - 1}/><xacro:m{i - 1}/></xacro:macro>' for i in range(1, 40))
               + "<xacro:m39/>")
_LEGIT_PARTS = (f'<robot {XACRO_NS}><xacro:property name="camera_lift" value="${{lift * 2}}"/>'
                '<xacro:macro name="mount" params="name z"><link name="${name}"/>'
                '<joint name="${name}_joint" type="fixed"><parent link="palm"/><child link="${name}"/>'
                '<origin xyz="0 0 ${z}" rpy="0 ${radians(90) if \'$(arg side)\' == \'right\' else -pi / 2} 0"/></joint>'
                "</xacro:macro></robot>")


def _legit_features_expanded(work: Path, out: str) -> None:
    urdf = (work / "plugin" / "xlsdk_gadget" / "urdf" / "gadget.urdf").read_text()
    assert 'name="wrist_camera"' in urdf and 'xyz="0 0 0.19"' in urdf and "1.5707963" in urdf
    assert 'name="palm_grey_right"' in urdf and 'name="not_kept"' not in urdf
    assert "autogenerated by xacro" not in urdf and str(work) not in urdf, "no path of this machine in the plugin"


XACRO = {
    # item 1: code execution
    "walks-generator-frames-to-os-system": X(_FRAME_WALK, "", "hand.urdf.xacro", "xacro expression ${[(g := ",
                                             "touch"),
    "dunder-import": X("${__import__('os').system('touch {w}/PWNED')}", "", "__import__"),
    "calls-a-python-builtin": X("${python.type(1)}", "", "python.type"),
    "lambda": X("${(lambda: 1)()}", "", "Lambda"),
    # item 2: local data copied into the plugin
    "load-yaml-outside": X("${xacro.load_yaml('../outside/secret.yaml')['key']}", "", "xacro.load_yaml"),
    "load-yaml-absolute": X("${load_yaml('{w}/outside/secret.yaml')}", "", "load_yaml"),
    "env-variable": X(f"$(env {SECRET_ENV})", "", f"$(env {SECRET_ENV})", "environment variable"),
    "optenv-variable": X(f"$(optenv {SECRET_ENV} fallback)", "", "$(optenv", "environment variable"),
    "env-through-an-arg-default": X("$(arg side)", f'<xacro:arg name="side" default="$(env {SECRET_ENV})"/>',
                                    "$(env"),
    "eval-substitution": X("$(eval 6 * 7)", "", "$(eval 6 * 7)", "runs Python"),
    "find-a-ros-package": X("", '<xacro:include filename="$(find secret_pkg)/hand.xacro"/>', "$(find secret_pkg)",
                            "relative to the xacro file"),
    "include-through-dotdot": X("${stolen}", '<xacro:include filename="../outside/props.xacro"/>',
                                "filename='../outside/props.xacro'", "outside the xacro file's folder"),
    "include-absolute-path": X("${stolen}", '<xacro:include filename="{w}/outside/props.xacro"/>',
                               "not a path relative to the xacro file"),
    "include-a-symlink-to-outside": X("${stolen}", '<xacro:include filename="parts/props.xacro"/>',
                                      "filename='parts/props.xacro'", "symlink", links={
                                          "parts/props.xacro": "outside/props.xacro"}),
    "include-glob-outside": X("${stolen}", '<xacro:include filename="../outside/*.xacro"/>',
                              "outside the xacro file's folder"),
    "xml-external-entity": X("", "", "declares XML entities", files={
        "hand.urdf.xacro": ('<?xml version="1.0"?><!DOCTYPE robot [<!ENTITY x SYSTEM "file://{w}/outside/secret.yaml">'
                            f']><robot name="r" {XACRO_NS}><link name="palm"><visual>&x;</visual></link></robot>')}),
    # item 3: bounded evaluation
    "sum-of-a-huge-range": X("${python.sum(python.range(10**13))}", "", "python.sum"),
    "tower-of-powers": X("${9**9**9}", "", "${9**9**9}", "computes a power"),
    "huge-string-repetition": X("${'x' * 10**10}", "", "builds a string of 10000000000 characters"),
    "shift-to-a-huge-integer": X("${1 &lt;&lt; 10**9}", "", "LShift"),
    "macro-bomb": X("", _MACRO_BOMB, "nothing was expanded"),  # the element count or the time limit stops it
    "macro-calling-itself": X("", '<xacro:macro name="loop"><xacro:loop/></xacro:macro><xacro:loop/>',
                              "nest too deeply"),
    # the sandbox keeps what real vendor xacros use: properties, macros, includes inside the folder,
    # conditionals, $(arg) defaults, arithmetic and math
    "legit-includes-macros-conditionals-math": X(
        "_$(arg side)", '<xacro:arg name="side" default="right"/><xacro:property name="lift" value="0.095"/>'
        '<xacro:include filename="parts/mount.xacro"/>'
        "<xacro:if value=\"${lift > 0.05 and '$(arg side)' == 'right'}\">"
        '<xacro:mount name="wrist_camera" z="${camera_lift}"/></xacro:if>'
        '<xacro:unless value="${math.cos(0) == 1}"><link name="not_kept"/></xacro:unless>',
        "created", code=0, check=_legit_features_expanded, files={"parts/mount.xacro": _LEGIT_PARTS}),
}


def _mesh_in_synth(filename: str, *, target: str | None = None) -> Callable[[Path], None]:
    """A mesh on the synthetic hand's palm; ``target`` makes ``synth/<filename>`` a symlink to it."""
    def prepare(work: Path) -> None:
        _outside_files(work)
        urdf = work / "synth" / "synth.urdf"
        mesh = f'<visual><geometry><mesh filename="{filename}"/></geometry></visual>'
        urdf.write_text(urdf.read_text().replace('<link name="palm">', f'<link name="palm">{mesh}', 1))
        if target is not None:
            (work / "synth" / filename).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(work / target, work / "synth" / filename)
        elif not filename.startswith("package://"):
            (work / "synth" / filename).parent.mkdir(parents=True, exist_ok=True)
            (work / "synth" / filename).write_text(_SECRET_STL.replace(SECRET_FILE_TEXT, "palm"))

    return prepare


def _mesh_copied(relative: str, copied: bool) -> Callable[[Path, str], None]:
    def check(work: Path, out: str) -> None:
        _nothing_leaked(work, out)
        assert (work / "plugin" / "xlsdk_gadget" / "urdf" / relative).is_file() == copied

    return check


MESHES = {
    "mesh-symlink-to-a-file-outside": Cli(N("gadget", "plugin"), 0, ("'meshes/tip.stl' resolves outside",
                                                                     "not copied into the plugin"),
                                          never=(SECRET_FILE_TEXT,), prepare=_mesh_in_synth(
                                              "meshes/tip.stl", target="outside/secret.stl"),
                                          check=_mesh_copied("meshes/tip.stl", False)),
    "package-mesh-found-in-a-folder-above": Cli(N("gadget", "plugin"), 0, ("'package://outside/secret.stl' resolves "
                                                                           "outside",), never=(SECRET_FILE_TEXT,),
                                                prepare=_mesh_in_synth("package://outside/secret.stl"),
                                                check=_mesh_copied("outside/secret.stl", False)),
    "mesh-inside-the-folder-is-copied": Cli(N("gadget", "plugin"), 0, ("created",), never=("resolves outside",),
                                            prepare=_mesh_in_synth("meshes/palm.stl"),
                                            check=_mesh_copied("meshes/palm.stl", True)),
}


@pytest.mark.parametrize("name", sorted(XACRO) + sorted(MESHES))
def test_vendor_file(name: str, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET_ENV_TEXT)  # what a leaking $(env ...) would copy into the plugin
    monkeypatch.chdir(tmp_path)  # a payload that escaped would run here
    _run_cli(XACRO.get(name) or MESHES[name], tmp_path, capsys)


# --- bad values named in the right file (issue 22 items 11-15) --------------------------------------------

def _synth_edit(*edits: tuple[str, str, str]) -> Callable[[Path], None]:
    """Edit ``synth/synth.urdf``: each ``(element start, old, new)`` replaces ``old`` inside that element once."""
    def prepare(work: Path) -> None:
        urdf = work / "synth" / "synth.urdf"
        text = urdf.read_text()
        for start, old, new in edits:
            begin = text.index(start)
            end = text.index(">", begin) + 1 if not old else text.index(old, begin) + len(old)
            text = text[:end - len(old)] + new + text[end:] if old else text[:end] + new + text[end:]
        urdf.write_text(text)

    return prepare


def _tip_mesh(vertices: str) -> Callable[[Path], None]:
    """A tip mesh on the middle finger's distal link whose vertices are ``vertices`` (three per facet)."""
    edit = _synth_edit(('<link name="fm_l3">', "", '<visual><geometry><mesh filename="tip.stl"/></geometry></visual>'))

    def prepare(work: Path) -> None:
        edit(work)
        facet = "".join(f"vertex {v}\n" for v in vertices.split(","))
        (work / "synth" / "tip.stl").write_text(f"solid tip\nfacet normal 0 0 1\nouter loop\n{facet}endloop\nendfacet\n"
                                                 "endsolid\n")

    return prepare


def _finite_middle_offset(work: Path, out: str) -> None:
    manifest = tomllib.loads((work / "plugin" / "xlsdk_gadget" / "hand.toml").read_text(encoding="utf-8"))
    assert all(math.isfinite(v) and abs(v) < 1 for v in manifest["fingers"]["middle"]["offset"])
    assert "RuntimeWarning" not in out


_MJCF = """<mujoco model="md"><worldbody><body name="palm"><geom type="box" size="0.03 0.01 0.04" pos="0 0 0.04"/>
  <body name="md0" pos="0 0 0.08"><joint name="md_a" axis="0 1 0" range="-0.3 0.3"/>
    <joint name="md_b" axis="1 0 0" range="0 1.5"/><geom type="capsule" fromto="0 0 0 0 0 0.04" size="0.008"/>
    <body name="md0__md_a" pos="0 0 0.04"><joint name="md_c" axis="1 0 0" range="0 1.5"/>
      <geom type="capsule" fromto="0 0 0 0 0 0.03" size="0.007"/></body></body>
  <body name="th" pos="-0.03 0.01 0.03" euler="0 -0.8 0"><joint name="th_a" axis="1 0 0" range="0 1.2"/>
    <geom type="capsule" fromto="0 0 0 0 0 0.04" size="0.008"/></body></body></worldbody>{equality}</mujoco>"""
_FI_MCP = '<joint name="fi_mcp"'
DRIVE_MUJOCO = ("drive", "inspire", "--driver", "mujoco", "--option")
BAD_VALUES = {
    # item 11: a traceback before
    "tip-box-with-one-size": Cli(N("gadget", "plugin"), 1, ("{w}/synth/synth.urdf", "link 'fi_l3'",
                                                            '<box size="0.02"> needs three numbers'),
                                 prepare=_synth_edit(('<link name="fi_l3">', "", '<collision><geometry><box size="0.02"/>'
                                                                                 "</geometry></collision>"))),
    "scene-is-a-directory": Cli((*DRIVE_MUJOCO, "scene={w}/bad"), 1, ("scene={w}/bad: is a directory",)),
    "scene-is-a-number": Cli((*DRIVE_MUJOCO, "scene=1"), 1, ("scene=1: file not found",)),
    # item 12: values that put fingertips at NaN or 5e299 m
    "mimic-multipliers-1e200-chained": Cli(N("gadget", "plugin"), 1, (
        "{w}/synth/synth.urdf", "joint 'fi_dip2'", "through fi_dip2 -> fi_dip -> fi_pip"),
        prepare=_synth_edit(('<joint name="fi_dip"', 'multiplier="0.7"', 'multiplier="1e200"'),
                            ('<joint name="fi_dip2"', 'multiplier="0.5"', 'multiplier="1e200"'))),
    "mjcf-polycoef-1e300": Cli(N("gadget", "plugin", urdf="{w}/hand.xml"), 1, ("{w}/hand.xml", "joint 'md_c'",
                                                                              "multiplier 1e+300"),
                               prepare=_write("hand.xml", _MJCF.format(equality='<equality><joint joint1="md_c" '
                                                                       'joint2="md_b" polycoef="0 1e300 0 0 0"/>'
                                                                       "</equality>"))),
    "nan-sphere-on-a-link": Cli(N("gadget", "plugin"), 1, ("{w}/synth/synth.urdf", '<sphere radius="nan"> holds nan'),
                                never=("hand.toml",), prepare=_synth_edit(
                                    ('<link name="palm">', "", '<collision><geometry><sphere radius="nan"/></geometry>'
                                                               "</collision>"))),
    "cylinder-of-1e309": Cli(N("gadget", "plugin"), 1, ("{w}/synth/synth.urdf", '<cylinder length="1e309"> holds inf'),
                             never=("hand.toml",), prepare=_synth_edit(
                                 ('<link name="palm">', "", '<collision><geometry><cylinder radius="0.01" '
                                                            'length="1e309"/></geometry></collision>'))),
    "tip-mesh-with-nan-vertices": Cli(N("gadget", "plugin"), 0, ("created",), never=("nan", "RuntimeWarning"),
                                      prepare=_tip_mesh("0 0 0,nan 0 0.03,0 0.01 0.02"), check=_finite_middle_offset),
    "tip-mesh-at-1e300": Cli(N("gadget", "plugin"), 0, ("created",), never=("e+299", "e+300", "RuntimeWarning"),
                             prepare=_tip_mesh("0 0 0,0 0 1e300,0 0.01 0.02"), check=_finite_middle_offset),
    # item 14: the scene's fault, not the hand's
    "scene-object-yaw-nan": Cli((*DRIVE_MUJOCO, "scene={w}/scene.json"), 1, ("objects.0.yaw", "finite"),
                                never=("hand 'inspire'",), prepare=_write(
                                    "scene.json", '{"objects": [{"name": "a", "kind": "cube", "yaw": NaN}]}')),
    "scene-object-mass-1e308": Cli((*DRIVE_MUJOCO, "scene={w}/scene.json"), 1, ("objects.0.mass", "100"),
                                   never=("hand 'inspire'",), prepare=_write(
                                       "scene.json", '{"objects": [{"name": "a", "kind": "cube", "mass": 1e308}]}')),
    # item 15: the message names the vendor's file, not a hand.toml that does not exist
    "actuated-joint-with-lower-equal-upper": Cli(N("gadget", "plugin"), 1, (
        "{w}/synth/synth.urdf", "joint 'fi_mcp' has an empty range [0.5, 0.5]"), never=("hand.toml",),
        prepare=_synth_edit((_FI_MCP, 'lower="-0.1" upper="1.6"', 'lower="0.5" upper="0.5"'))),
    "mjcf-body-named-like-a-made-up-link": Cli(N("gadget", "plugin", urdf="{w}/hand.xml"), 0, ("created",),
                                               never=("duplicate link name",),
                                               prepare=_write("hand.xml", _MJCF.format(equality=""))),
}


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_bad_value(name: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _run_cli(BAD_VALUES[name], tmp_path, capsys)


# --- drivers, viewer, exit codes, --json, heads, policies -----------------------------------------

DRIVE = ("drive", "inspire")
MODBUS = (*DRIVE, "--driver", "inspire-modbus", "--simulate")
COMMANDS = {
    # drivers (items 11, 15)
    "simulate-with-the-sim-driver": Cli((*DRIVE, "--driver", "sim", "--simulate"), 1, ("drop --simulate",),
                                        never=("use --driver sim",)),
    "drive-unknown-hand": Cli(("drive", "nosuch"), 1, ("unknown hand 'nosuch'",)),
    "drive-unknown-driver": Cli((*DRIVE, "--driver", "bogus"), 1, ("no driver 'bogus'", "inspire-modbus")),
    "modbus-unknown-option": Cli((*MODBUS, "--option", "bogus=1"), 1, ("bogus",)),
    "modbus-device-id-300": Cli((*MODBUS, "--option", "device_id=300"), 1, ("device_id",)),
    "speed-zero": Cli((*DRIVE, "--speed", "0"), 1, ("speed",)),
    "speed-negative": Cli((*DRIVE, "--speed", "-1"), 1, ("speed",)),
    "speed-nan": Cli((*DRIVE, "--speed", "nan"), 1, ("speed",)),
    "speed-inf": Cli((*DRIVE, "--speed", "inf"), 1, ("speed",)),
    # issue 22 item 10: a speed that plays the motion for days (or overflows a sleep)
    "speed-1e-6": Cli((*DRIVE, "--speed", "1e-6"), 1, ("speed 1e-06", "more than 600 s", "at least 0.0117")),
    "speed-1e-300": Cli((*DRIVE, "--speed", "1e-300"), 1, ("speed 1e-300", "more than 600 s")),
    # issue 22 item 11: options a driver's transport refused with a traceback
    "sim-seed-negative": Cli((*DRIVE, "--option", "seed=-1"), 1, ("option seed=-1", "greater than or equal to 0")),
    "ability-baudrate-negative": Cli(("drive", "ability", "--driver", "ability-serial", "--simulate", "--option",
                                      "baudrate=-1"), 1, ("option baudrate=-1", "greater than 0")),
    "sim-unknown-option": Cli((*DRIVE, "--option", "bogus=1"), 1, ("bogus",)),
    "option-without-equals": Cli((*DRIVE, "--option", "bogus"), 1, ("KEY=VALUE",)),
    "vendor-sdk-missing": Cli(("drive", "xhand", "--driver", "xhand-sdk"), 1, ("xhand_controller", "not installed")),
    # viewer (item 9): bad ports and hosts fail at once instead of hanging
    "view-port-70000": Cli(("view", "inspire", "--port", "70000"), 1, ("70000",)),
    "view-port-negative": Cli(("view", "inspire", "--port", "-5"), 1, ("-5",)),
    "view-unreachable-host": Cli(("view", "inspire", "--host", "8.8.8.8"), 1, ("8.8.8.8",)),
    "view-unknown-host": Cli(("view", "inspire", "--host", "not_a_host"), 1, ("not_a_host",)),
    # exit codes (item 3)
    "check-unknown-hand": Cli(("check", "nosuch"), 1, ("unknown hand 'nosuch'",)),
    "info-unknown-hand": Cli(("info", "nosuch"), 1, ("unknown hand 'nosuch'",)),
    "info-unknown-hand-json": Cli(("info", "nosuch", "--json"), 1, ("unknown hand 'nosuch'",)),
    "fit-unknown-hand": Cli(("fit", "nosuch"), 1, ("unknown hand 'nosuch'",)),
    # --json: errors stay on stderr, stdout holds a whole document or nothing
    "check-unknown-hand-json": Cli(("check", "nosuch", "--json"), 1, ("nosuch",)),
    "drive-unknown-hand-json": Cli(("drive", "nosuch", "--json"), 1, ("unknown hand 'nosuch'",)),
    "new-hand-over-a-file-json": Cli(N("gadget", "bad/good.npy", "--json"), 1, ("{w}/bad/good.npy is a file",)),
    "retarget-huge-values-json": Cli(R("huge_values.npy", "out.npy", "--json"), 1, ("non-finite values",)),
    "new-hand-billion-laughs-urdf": Cli(N("gadget", "plugin", urdf="{w}/laughs.urdf"), 1,
                                        ("{w}/laughs.urdf", "amplification"),
                                        prepare=_write("laughs.urdf", URDFS["billion-laughs"][0])),
    "retarget-without-target": Cli(("retarget", "--from", "inspire", "{w}/bad/good.npy", "{w}/o.npy"), 2, ("--to",)),
}


def _synthetic(work: Path) -> list[Path]:
    return [write_synthetic_hand(work / "plugin_synth").manifest]


def _nan_limit_hand(work: Path) -> list[Path]:
    hand = write_synthetic_hand(work / "plugin_synth")
    hand.manifest.write_text(hand.manifest.read_text() + "\n" + LIMIT.format(lower="nan", upper="1.0") + "\n")
    return [hand.manifest]


def _continuous_joint_hand(work: Path) -> list[Path]:
    hand = write_synthetic_hand(work / "plugin_synth")
    hand.urdf.write_text(hand.urdf.read_text().replace('<joint name="th_rot" type="revolute">',
                                                       '<joint name="th_rot" type="continuous">'))
    return [hand.manifest]


def _inspire_copy(edit: Callable[[Path], None]) -> Callable[[Path], list[Path]]:
    """The inspire package copied (and registered in place of the installed one), its head edited."""
    def make(work: Path) -> list[Path]:
        package = work / "plugin_inspire" / "xlsdk_inspire"
        shutil.copytree(INSPIRE_PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        edit(package)
        return [package / "hand.toml"]

    return make


def _edit_head_json(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(package: Path) -> None:
        head = json.loads((package / "head.json").read_text())
        change(head)
        (package / "head.json").write_text(json.dumps(head))

    return edit


def _set_config(key: str, value: object) -> Callable[[dict], None]:
    return lambda head: head["config"].__setitem__(key, value)


def _edit_weights(value: float) -> Callable[[Path], None]:
    """Overwrite one weight tensor with ``value`` and re-sign the file (sha256 updated)."""
    def edit(package: Path) -> None:
        from safetensors.torch import load_file, save_file

        tensors = load_file(str(package / "head.safetensors"))
        first = sorted(tensors)[0]
        tensors[first] = tensors[first].clone().fill_(value)
        save_file(tensors, str(package / "head.safetensors"))
        head = json.loads((package / "head.json").read_text())
        head["sha256"] = hashlib.sha256((package / "head.safetensors").read_bytes()).hexdigest()
        (package / "head.json").write_text(json.dumps(head))

    return edit


def _unreadable(filename: str) -> Callable[[Path], None]:
    """Every ``filename`` of the package made a file the kernel refuses to read, even to root.

    ``chmod 000`` (what the issue did) binds no one when the suite runs as root; a symlink to
    ``/proc/self/mem`` fails every read with EIO, as an unreadable file fails with EACCES: an OSError.
    """
    def edit(package: Path) -> None:
        for path in package.rglob(filename):
            path.unlink()
            path.symlink_to("/proc/self/mem")

    return edit


def _impostor(name: str) -> Callable[[Path], list[Path]]:
    """A second plugin whose hand.toml says ``name = "<name>"`` (a synthetic hand), beside the installed one."""
    def make(work: Path) -> list[Path]:
        hand = write_synthetic_hand(work / "impostor")
        hand.manifest.write_text(hand.manifest.read_text().replace('name = "synth"', f'name = "{name}"'))
        return [hand.manifest]

    return make


def _listed_broken(fragment: str) -> Callable[[Path, str], None]:
    def check(work: Path, out: str) -> None:
        assert fragment in out, f"{fragment!r} not in the listing:\n{out}"

    return check


class TwinDriverPlugin:
    """A plugin registering a driver named like another plugin's (a conflict, not a crash)."""

    def xlsdk_register_drivers(self, register):  # noqa: ANN001 - hook signature
        from xlsdk.drivers import DriverEntry, SimDriver

        register(DriverEntry(name="twin", hands=("ability",), factory=lambda hand, options: SimDriver(hand)))


def _twin_drivers(work: Path) -> list[Path | object]:
    return [TwinDriverPlugin(), TwinDriverPlugin()]


ABILITY_TO_INSPIRE = ("retarget", "--from", "ability", "--to", "inspire", "{w}/bad/good.npy", "{w}/o.npy")
PLUGINS = {
    # one broken plugin must not break every hand (items 1, 8)
    "nan-limit-hand-listed-as-broken": Cli(("hands", "--json"), 0, ("limits.fi_mcp.lower",), hands=_nan_limit_hand,
                                           stdout_json=True),
    "nan-limit-hand-info": Cli(("info", "synth"), 1, ("field `limits.fi_mcp.lower` is nan",), hands=_nan_limit_hand),
    "continuous-joint-names-its-limits-table": Cli(("info", "synth"), 1, ("joint 'th_rot' is continuous",
                                                                          "give its range in [limits.th_rot]"),
                                                   hands=_continuous_joint_hand),
    "check-of-a-continuous-joint-hand": Cli(("check", "synth"), 1, ("give its range in [limits.th_rot]",),
                                            hands=_continuous_joint_hand),
    "hands-lists-a-continuous-joint-hand": Cli(("hands",), 0, ("[limits.th_rot]",), hands=_continuous_joint_hand),
    "check-of-a-hand-without-head": Cli(("check", "synth"), 1, ("synth",), hands=_synthetic),
    "head-hidden-empty-lists-every-hand": Cli(("hands", "--json"), 0, ('"ability"', "hidden"), stdout_json=True,
                                              hands=_inspire_copy(_edit_head_json(_set_config("hidden", [])))),
    "head-negative-width": Cli(("hands", "--json"), 0, ('"ability"', "hidden"), stdout_json=True,
                               hands=_inspire_copy(_edit_head_json(_set_config("hidden", [-4, 8])))),
    "head-lower-of-wrong-length": Cli(("hands", "--json"), 0, ('"ability"', "lower"), stdout_json=True,
                                      hands=_inspire_copy(_edit_head_json(_set_config("lower", [0.0, 0.0])))),
    "duplicate-driver-name-across-plugins": Cli(("hands", "--json"), 0, ('"ability"', '"xhand"'), stdout_json=True,
                                                hands=_twin_drivers),
    "driving-a-duplicate-driver": Cli(("drive", "ability", "--driver", "twin"), 1,
                                      ("'twin'", "bad_input_plugin_0", "bad_input_plugin_1"), hands=_twin_drivers),
    # head validated against the hand (item 2)
    "head-upper-of-10-rad": Cli(ABILITY_TO_INSPIRE, 1, ("head.json", "config.upper"),
                                hands=_inspire_copy(_edit_head_json(_set_config("upper", [10.0] * 6)))),
    "head-nan-weights": Cli(ABILITY_TO_INSPIRE, 1, ("head.safetensors", "NaN"),
                            hands=_inspire_copy(_edit_weights(math.nan))),
    "head-json-not-json": Cli(ABILITY_TO_INSPIRE, 1, ("head.json",),
                              hands=_inspire_copy(lambda package: (package / "head.json").write_text("{"))),
    "head-weights-truncated": Cli(ABILITY_TO_INSPIRE, 1, ("head.safetensors", "checksum"),
                                  hands=_inspire_copy(lambda package: (package / "head.safetensors").write_bytes(
                                      (package / "head.safetensors").read_bytes()[:100]))),
    "head-json-of-another-hand": Cli(ABILITY_TO_INSPIRE, 1, ("head.json", "'ability'"), hands=_inspire_copy(
        _edit_head_json(lambda head: head.__setitem__("hand", "ability")))),
    "head-huge-weights": Cli(ABILITY_TO_INSPIRE, 1, ("head.safetensors",), hands=_inspire_copy(_edit_weights(1e30))),
    # issue 22 item 7: an unreadable head file of one plugin (permissions) broke `xlsdk hands` for every hand
    "head-json-unreadable-lists-every-hand": Cli(("hands", "--json"), 0, ('"ability"', '"inspire"', "head.json",
                                                                         "cannot be read"), stdout_json=True,
                                                 hands=_inspire_copy(_unreadable("head.json"))),
    "head-json-unreadable": Cli(ABILITY_TO_INSPIRE, 1, ("head.json: cannot be read", "permissions"),
                                hands=_inspire_copy(_unreadable("head.json"))),
    "head-weights-unreadable-lists-every-hand": Cli(("hands",), 0, ("ability", "inspire", "xhand"),
                                                    hands=_inspire_copy(_unreadable("head.safetensors"))),
    "head-weights-unreadable": Cli(ABILITY_TO_INSPIRE, 1, ("head.safetensors: cannot be read", "permissions"),
                                   hands=_inspire_copy(_unreadable("head.safetensors"))),
    # issue 22 item 8: a plugin claiming an installed hand's name is a conflict, both listed, never a takeover
    "impostor-named-inspire-listed-as-a-conflict": Cli(
        ("hands", "--json"), 0, ('"plugin": "inspire"', '"plugin": "bad_input_hands"', "is claimed by plugin 'inspire'"),
        stdout_json=True, hands=_impostor("inspire"), installed=("inspire", "ability")),
    "info-of-a-name-two-plugins-claim": Cli(("info", "inspire"), 1, ("claimed by plugin 'inspire'", "bad_input_hands",
                                                                     "uninstall one of them"),
                                            hands=_impostor("inspire"), installed=("inspire", "ability")),
}


@pytest.mark.parametrize("name", sorted(COMMANDS) + sorted(PLUGINS))
def test_command(name: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _run_cli(COMMANDS.get(name) or PLUGINS[name], tmp_path, capsys)


def _policy_run(policy: str) -> tuple[str, ...]:
    """``xlsdk policy run`` with HAND given the way this CLI takes it (an option today, positional later)."""
    from xlsdk.cli.policy import run_command

    hand = inspect.signature(run_command).parameters.get("hand_name")
    as_option = hand is not None and type(hand.default).__name__ == "OptionInfo"
    return ("policy", "run", "--policy", f"{{w}}/bad/{policy}", *(("--hand", "inspire") if as_option else ("inspire",)))


POLICIES = {
    "corrupt-json": ("policy_corrupt", ("policy_corrupt/xlsdk_policy.json", "not a valid xlsdk policy record")),
    "impossible-fields": ("policy_bad_fields", ("policy_bad_fields/xlsdk_policy.json", "action_space", "fps")),
    "not-a-policy-directory": ("lerobot_no_features", ("lerobot_no_features", "not an xlsdk policy directory")),
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_policy(name: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    directory, fragments = POLICIES[name]
    _run_cli(Cli(_policy_run(directory), 1, fragments), tmp_path, capsys)


# --- policy files: a real tiny LeRobot dataset and a policy trained on it, then broken one way each ------

@pytest.fixture(scope="module")
def policy_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A two-episode inspire dataset (benchmark generator) and a policy trained on it for two steps."""
    import xlsdk
    from xlsdk.bench.crosshand.dataset import write_hand_dataset
    from xlsdk.bench.crosshand.tasks import sample_scenes
    from xlsdk.policy.train import train_from_datasets

    root = tmp_path_factory.mktemp("policy_inputs")
    scenes = sample_scenes("pinch", 2, np.random.default_rng(0))
    inspire = xlsdk.load_hand("inspire")
    dataset = write_hand_dataset(inspire, scenes, root / "ds", frames=4, image_size=48, seed=0).root
    train_from_datasets([dataset], root / "policy", hands={"inspire": inspire}, steps=2, batch_size=4, progress=False,
                        device="cpu")
    return {"ds": dataset, "policy": root / "policy"}


def _dataset_with(feature: str, episode: int, frame: int, column: int, value: float) -> Callable[[Path, dict], None]:
    """The tiny dataset at ``{w}/ds`` with one number of one stored frame replaced (parquet rewritten)."""
    def prepare(work: Path, inputs: dict[str, Path]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        shutil.copytree(inputs["ds"], work / "ds")
        for part in sorted((work / "ds" / "data").rglob("*.parquet")):
            table = pq.read_table(part)
            rows = [i for i, (e, f) in enumerate(zip(table.column("episode_index").to_pylist(),
                                                      table.column("frame_index").to_pylist(), strict=True))
                    if (e, f) == (episode, frame)]
            if rows:
                values = table.column(feature).to_pylist()
                values[rows[0]] = [value if i == column else v for i, v in enumerate(values[rows[0]])]
                index = table.schema.get_field_index(feature)
                pq.write_table(table.set_column(index, feature, pa.array(values, type=table.schema.field(feature).type)),
                               part)
                return
        raise AssertionError(f"no episode {episode} frame {frame} in the tiny dataset")
    return prepare


def _policy_with(edit: Callable[[Path], None]) -> Callable[[Path, dict], None]:
    """The tiny trained policy at ``{w}/bad/policy`` with ``edit`` applied."""
    def prepare(work: Path, inputs: dict[str, Path]) -> None:
        shutil.copytree(inputs["policy"], work / "bad" / "policy")
        edit(work / "bad" / "policy")
    return prepare


def _weights_pickled(name: str) -> Callable[[Path], None]:
    """``model.safetensors`` replaced by a pickle named ``name`` that would create a file if unpickled."""
    def edit(policy: Path) -> None:
        (policy / "model.safetensors").unlink()
        (policy / name).write_bytes(b"cposix\nsystem\n(S'touch UNPICKLED'\ntR.")  # os.system, if ever loaded
    return edit


def _truncated_config(policy: Path) -> None:
    text = (policy / "config.json").read_text()
    (policy / "config.json").write_text(text[: len(text) // 2])


def T(*extra: str) -> tuple[str, ...]:
    return ("policy", "train", "--dataset", "{w}/ds", "--out", "{w}/out", "--steps", "2", "--batch-size", "4",
            "--device", "cpu", *extra)


POLICY_FILES = {
    "train-nan-action": (Cli(T("--json"), 1, ("{w}/ds", "action[3] of episode 1, frame 2 is nan")),
                         _dataset_with("action", 1, 2, 3, float("nan"))),
    "train-inf-state": (Cli(T(), 1, ("{w}/ds", "observation.state[0] of episode 0, frame 1 is inf")),
                        _dataset_with("observation.state", 0, 1, 0, float("inf"))),
    "train-json-is-valid-json": (Cli(T("--json"), 0, ('"first_loss"',), stdout_json=True),
                                 _dataset_with("action", 0, 0, 0, 0.5)),
    "run-pickle-named-model-safetensors": (
        Cli(_policy_run("policy"), 1, ("policy/model.safetensors", "not a safetensors file", "never unpickled")),
        _policy_with(_weights_pickled("model.safetensors"))),
    "run-only-a-pickled-pytorch-model-bin": (
        Cli(_policy_run("policy"), 1, ("policy/model.safetensors: missing", "pytorch_model.bin is a pickle")),
        _policy_with(_weights_pickled("pytorch_model.bin"))),
    "run-truncated-config-json": (Cli(_policy_run("policy"), 1, ("policy/config.json: not valid JSON", "truncated")),
                                  _policy_with(_truncated_config)),
}


@pytest.mark.parametrize("name", sorted(POLICY_FILES))
def test_policy_file(name: str, policy_inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    case, prepare = POLICY_FILES[name]
    _run_cli(Cli(case.argv, case.code, case.says, prepare=lambda work: prepare(work, policy_inputs),
                 stdout_json=case.stdout_json), tmp_path, capsys)
    assert not (tmp_path / "UNPICKLED").exists() and not Path("UNPICKLED").exists()
    if case.code != 0:
        assert not (tmp_path / "out").exists()


def test_a_non_finite_loss_stops_training_with_an_error(policy_inputs: dict[str, Path]) -> None:
    """Finite data, a learning rate of 1e30: the weights blow up and the loss turns NaN at step 2."""
    import xlsdk
    from xlsdk.errors import PolicyError
    from xlsdk.policy.action_space import space_of
    from xlsdk.policy.configuration_xlvla import XlvlaConfig
    from xlsdk.policy.train import make_config, read_demo_frames, to_training_set, train_policy

    config = make_config("latent", optimizer_lr=1e30)
    hands = {"inspire": xlsdk.load_hand("inspire")}
    frames = read_demo_frames([policy_inputs["ds"]], XlvlaConfig(action_space="latent"), hands)
    data = to_training_set(frames, space_of(config), hands=hands)
    with pytest.raises(PolicyError, match="training diverged: the loss is nan at step"):
        train_policy(data, config, steps=6, batch_size=4, progress=False, device="cpu")


@pytest.mark.slow  # a fresh interpreter writing a dataset: ~25 s
@pytest.mark.timeout(180)
def test_make_dataset_says_a_missing_video_decoder_in_one_line(tmp_path: Path) -> None:
    """Without FFmpeg, LeRobot logs pages of torchcodec tracebacks and falls back to pyav; xlsdk says it once."""
    result = subprocess.run([sys.executable, "-m", "xlsdk", "policy", "make-dataset", "inspire", "--out", "ds",
                             "--tasks", "pinch", "--scenes", "1", "--frames", "3", "--json"],
                            capture_output=True, text=True, timeout=150, cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len([line for line in result.stderr.splitlines() if "torchcodec" in line]) <= 1, result.stderr
    assert json.loads(result.stdout)["episodes"] == 1 and (tmp_path / "ds" / "meta" / "info.json").is_file()


# which cases hold each numbered item of issue 15 (the rest of the corpus is the bad input tried around them)
ITEMS = {
    1: ["manifest:limit-lower-nan", "manifest:tip-offset-nan", "manifest:palm-rpy-nan", "safety:limits-with-nan",
        "command:nan-limit-hand-info", "test_nan_limit_never_reaches_a_driver"],
    2: ["command:head-upper-of-10-rad", "command:head-nan-weights", "command:head-huge-weights"],
    3: ["command:check-of-a-hand-without-head", "command:check-unknown-hand"],
    4: ["retarget:out-is-in", "retarget:out-is-a-hard-link-of-in", "retarget:existing-out-without-force"],
    5: ["retarget:csv-with-utf8-bom"],
    6: ["retarget:huge-values-npy", "retarget:huge-values-refined", "retarget:huge-values-csv",
        "retarget:far-outside-limits-warns"],
    7: ["retarget:complex-npy", "retarget:complex-npz", "retarget:nan-timestamp-npz", "retarget:inf-timestamp-npz"],
    8: ["command:head-hidden-empty-lists-every-hand", "command:head-negative-width",
        "command:head-lower-of-wrong-length", "command:duplicate-driver-name-across-plugins",
        "command:driving-a-duplicate-driver"],
    9: ["command:view-port-70000", "command:view-port-negative", "command:view-unreachable-host",
        "command:view-unknown-host", "process:view-port-70000"],
    10: ["retarget:out-under-a-file", "retarget:out-is-a-directory", "retarget:latin1-csv",
         "retarget:npz-with-object-member", "retarget:npz-that-is-not-a-zip", "retarget:npy-header-claiming-1e11-rows",
         "retarget:lerobot-corrupt-info-json"],
    11: ["command:modbus-unknown-option", "command:modbus-device-id-300", "command:speed-zero", "command:speed-nan",
         "command:sim-unknown-option"],
    12: ["new-hand:out-is-an-existing-file", "policy:corrupt-json", "policy:impossible-fields"],
    13: ["new-hand:vendor-with-backslash", "new-hand:title-with-quotes-and-backslashes",
         "new-hand:joint-name-with-quote"],
    14: ["new-hand:name-of-an-installed-hand", "new-hand:reserved-name-canonical", "new-hand:reserved-name-sim",
         "new-hand:directory-permissions-follow-umask"],
    15: ["retarget:inf-in-csv-names-the-file-line", "retarget:text-file-named-npy", "retarget:timestamps-of-shape-20x2",
         "command:simulate-with-the-sim-driver"],
    16: ["test_propose_manifest_of_a_2000_joint_urdf_finishes"],
}


def test_every_item_of_the_issue_has_cases() -> None:
    tables = {"retarget": RETARGET, "manifest": MANIFESTS, "safety": SAFETY, "urdf": URDFS, "new-hand": NEW_HAND,
              "command": {**COMMANDS, **PLUGINS}, "policy": POLICIES, "process": PROCESSES}
    assert sorted(ITEMS) == list(range(1, 17))
    for item, cases in ITEMS.items():
        for case in cases:
            table, _, name = case.partition(":")
            assert (name in tables[table]) if name else case in globals(), f"item {item}: no case {case}"


# which cases hold each numbered item of issue 22 (round 2) that has cases so far
ROUND_2 = {
    1: ["vendor:walks-generator-frames-to-os-system", "vendor:dunder-import", "vendor:calls-a-python-builtin",
        "process:new-hand-of-a-xacro-that-runs-code"],
    2: ["vendor:load-yaml-outside", "vendor:env-variable", "vendor:optenv-variable", "vendor:env-through-an-arg-default",
        "vendor:include-through-dotdot", "vendor:include-a-symlink-to-outside", "vendor:xml-external-entity",
        "vendor:mesh-symlink-to-a-file-outside", "vendor:package-mesh-found-in-a-folder-above"],
    3: ["vendor:sum-of-a-huge-range", "vendor:tower-of-powers", "vendor:huge-string-repetition", "vendor:macro-bomb"],
    12: ["values:mimic-multipliers-1e200-chained", "values:mjcf-polycoef-1e300", "values:tip-mesh-with-nan-vertices",
         "values:tip-mesh-at-1e300", "urdf:nan-sphere-radius", "urdf:cylinder-length-1e309",
         "urdf:chained-mimic-multipliers-1e200"],
    13: ["manifest:limits-false-and-true", "manifest:offset-as-strings", "retarget:refine-steps-negative"],
    14: ["values:scene-object-yaw-nan", "values:scene-object-mass-1e308"],
    5: ["retarget:extra-csv-columns-carried", "retarget:extra-csv-columns-into-npy", "retarget:extra-npz-arrays-carried",
        "retarget:extra-npz-arrays-into-npy", "retarget:extra-npz-array-not-per-pose-into-csv"],
    6: ["retarget:out-name-of-250-characters", "test_the_next_run_removes_the_staging_a_killed_run_left"],
    7: ["command:head-json-unreadable-lists-every-hand", "command:head-json-unreadable",
        "command:head-weights-unreadable-lists-every-hand", "command:head-weights-unreadable"],
    8: ["command:impostor-named-inspire-listed-as-a-conflict", "command:info-of-a-name-two-plugins-claim"],
    9: ["test_drive_cli.py::test_a_stop_signal_halts_the_hand_and_closes_the_transport",
        "test_drive_cli.py::test_sigterm_halts_a_real_modbus_hand"],
    10: ["command:speed-1e-6", "command:speed-1e-300", "retarget:fifo-named-npy",
         "test_drive_cli.py::test_a_slow_replay_keeps_the_watchdog_fed"],
    11: ["values:tip-box-with-one-size", "values:scene-is-a-directory", "values:scene-is-a-number",
         "urdf:box-with-one-size", "new-hand:out-is-a-dangling-symlink", "new-hand:out-in-a-folder-no-one-may-write",
         "test_a_second_new_hand_into_the_same_out_is_a_clear_error", "command:sim-seed-negative",
         "test_new_hand_without_out_in_a_folder_no_one_may_write",
         "command:ability-baudrate-negative",
         "test_trajectories.py::test_lerobot_dataset_into_a_folder_no_one_may_write_is_one_line",
         "policy-file:run-pickle-named-model-safetensors", "policy-file:run-only-a-pickled-pytorch-model-bin",
         "policy-file:run-truncated-config-json", "test_make_dataset_says_a_missing_video_decoder_in_one_line"],
    16: ["test_physics.py::test_a_urdf_with_unbalanced_inertias_gets_a_world_with_its_masses"],
    4: ["policy-file:train-nan-action", "policy-file:train-inf-state", "policy-file:train-json-is-valid-json",
        "test_a_non_finite_loss_stops_training_with_an_error"],
    15: ["values:actuated-joint-with-lower-equal-upper", "values:nan-sphere-on-a-link", "values:cylinder-of-1e309",
         "values:mjcf-body-named-like-a-made-up-link"],
}


def test_every_item_of_round_2_has_cases() -> None:
    tables = {"retarget": RETARGET, "manifest": MANIFESTS, "safety": SAFETY, "urdf": URDFS, "new-hand": NEW_HAND,
              "command": {**COMMANDS, **PLUGINS}, "policy": POLICIES, "process": PROCESSES,
              "vendor": {**XACRO, **MESHES}, "values": BAD_VALUES, "policy-file": POLICY_FILES}
    for item, cases in ROUND_2.items():
        for case in cases:
            if "::" in case:  # a test in another module of the suite
                module, _, test = case.partition("::")
                assert f"def {test}(" in (Path(__file__).parent / module).read_text(), f"item {item}: no {case}"
                continue
            table, _, name = case.partition(":")
            assert (name in tables[table]) if name else case in globals(), f"item {item}: no case {case}"


def test_corpus_size() -> None:
    """The issue asks for at least 80 cases; the count only grows."""
    count = (len(RETARGET) + len(MANIFESTS) + len(SAFETY) + len(URDFS) + len(NEW_HAND) + len(COMMANDS)
             + len(PLUGINS) + len(POLICIES) + len(PROCESSES) + len(XACRO) + len(MESHES) + len(BAD_VALUES)
             + len(POLICY_FILES)
             + 2)  # + the item-1 and item-16 tests
    print(f"bad-input corpus: {count} cases")
    assert count >= 80


# --- the process level: no traceback, no hang -----------------------------------------------------

PROCESSES = {
    "retarget-nan": (lambda w: ["retarget", "--from", "inspire", "--to", "ability", str(BAD / "nan.npy"),
                                str(w / "o.npy")], "nan.npy"),
    "new-hand-over-a-file": (lambda w: ["new-hand", "gadget", "--urdf", str(write_synthetic_hand(w / "src").urdf),
                                        "--out", str(BAD / "good.npy"), "--yes"], "good.npy is a file"),
    "view-port-70000": (lambda w: ["view", "inspire", "--port", "70000"], "70000"),
    "new-hand-of-a-xacro-that-runs-code": (lambda w: _vendor_xacro_argv(w, _FRAME_WALK), "xacro expression ${[(g"),
}


def _vendor_xacro_argv(work: Path, payload: str) -> list[str]:
    """The payload's xacro written under ``work`` (a ``touch {w}/PWNED`` that ran would change ``work``)."""
    _vendor_xacro(payload)(work)
    return ["new-hand", "gadget", "--urdf", str(work / "model" / "hand.urdf.xacro"), "--out", str(work / "plugin"),
            "--yes"]


@pytest.mark.slow  # a fresh interpreter importing torch: seconds each
@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_process(name: str, tmp_path: Path) -> None:
    make_argv, fragment = PROCESSES[name]
    argv = make_argv(tmp_path)
    before, inputs = _snapshot(BAD), _snapshot(tmp_path)
    try:
        result = subprocess.run([sys.executable, "-m", "xlsdk", *argv], capture_output=True, text=True,
                                timeout=45, cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    except subprocess.TimeoutExpired:
        pytest.fail(f"xlsdk {' '.join(argv)} hung")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert fragment in re.sub(r"\s+", " ", result.stderr + result.stdout), result.stderr
    assert _snapshot(BAD) == before and _snapshot(tmp_path) == inputs
