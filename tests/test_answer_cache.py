"""The answer cache of ``xlsdk hands`` / ``xlsdk info``: it prints what computing prints, and never a stale answer.

Each command runs in a fresh process, the way a user runs it, against a cache folder in ``tmp_path``.
A stored answer is proved served (not recomputed) by the process never importing numpy, pydantic or
lxml, which computing the answer cannot avoid. Hands and plugins the tests change are real files: a
distribution laid out the way pip lays it out, on ``PYTHONPATH``. A file written less than
:data:`~xlsdk.cli.answer_cache.RACY_NS` before a run is never trusted (it is not stored), so the tests
wait that long after writing before the run whose answer they want stored.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from synthetic_hands import write_synthetic_hand

from xlsdk.cli import answer_cache, main
from xlsdk.plugins import get_plugin_host, reset_plugin_host

COMPUTING = ("numpy", "pydantic", "lxml")
_PROBE = ("import sys; from xlsdk.cli import main; code = main(sys.argv[1:]); "
          f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & {set(COMPUTING)!r}); "
          "sys.stderr.write('COMPUTED ' + repr(loaded)); sys.exit(code)")


def _run(args: list[str], cache: Path | None, *, site: Path | None = None, cwd: Path,
         env: dict[str, str] | None = None) -> tuple[int, str, str, bool]:
    """``xlsdk ARGS`` in a fresh process: exit code, stdout, stderr (probe line removed), whether it computed."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("XLSDK_")}
    environment.update(COLUMNS="100", **({"XLSDK_CACHE_DIR": str(cache)} if cache else {"XLSDK_NO_CACHE": "1"}))
    environment.update(env or {})
    if site is not None:
        environment["PYTHONPATH"] = str(site)
    # -P: the working directory is not put on sys.path (it is fresh, so it would make every answer racy)
    result = subprocess.run([sys.executable, "-P", "-c", _PROBE, *args], cwd=cwd, env=environment,
                            capture_output=True, text=True, timeout=300)
    err, _, probe = result.stderr.rpartition("COMPUTED ")
    return result.returncode, result.stdout, err, probe != "[]"


def _wait_out_racy_window() -> None:
    time.sleep(answer_cache.RACY_NS / 1e9 + 0.2)


def _install_hand_plugin(site: Path, name: str, *, module_body: str | None = None) -> Path:
    """A hand plugin distribution ``xlsdk-<name>`` in ``site``: dist-info with its entry point, a package
    registering its ``hand.toml``, and the synthetic hand's files; returns the package folder."""
    package = site / f"xlsdk_{name}"
    hand = write_synthetic_hand(package, name=name)
    (package / "__init__.py").write_text(module_body or textwrap.dedent(f"""\
        from pathlib import Path
        from xlsdk import hookimpl

        @hookimpl
        def xlsdk_register_hands(register):
            register(Path(__file__).parent / {hand.manifest.name!r})
        """))
    info = site / f"xlsdk_{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: xlsdk-{name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[xlsdk]\n{name} = xlsdk_{name}\n")
    return package


def _hand_names(stdout: str) -> list[str]:
    return [row["name"] for row in json.loads(stdout)["hands"]]


@pytest.mark.parametrize("args", [["hands"], ["hands", "--json"], ["hands", "--all"], ["info", "inspire"]])
def test_a_stored_answer_prints_what_computing_prints(tmp_path: Path, args: list[str]) -> None:
    computed = _run(args, None, cwd=tmp_path)
    assert computed[0] == 0 and computed[3], computed[2]
    stored = _store(args, tmp_path / "cache", None, tmp_path)
    assert stored == computed, "the run that stores the answer prints what computing prints"
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1


def test_an_error_is_never_stored(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for _ in range(2):
        code, out, err, _ = _run(["info", "no-such-hand"], cache, cwd=tmp_path)
        assert code == 1 and out == "" and "no-such-hand" in err
    assert list(cache.glob("*.json")) == []


def _store(args: list[str], cache: Path, site: Path | None, cwd: Path,
           env: dict[str, str] | None = None) -> tuple[int, str, str, bool]:
    """Run once the racy window is over (the answer is stored) and prove the next run prints it from the cache.

    Tried three times: in a shared checkout another process may touch a file behind the answer (a module
    of xlsdk saved) within the window, and then not storing is the right answer; never storing is a bug.
    """
    for _ in range(3):
        _wait_out_racy_window()
        stored = _run(args, cache, site=site, cwd=cwd, env=env)
        served = _run(args, cache, site=site, cwd=cwd, env=env)
        assert stored[0] == 0, stored[2]
        if not served[3]:
            assert served[:3] == stored[:3], "the stored answer prints what computing printed"
            return stored
    raise AssertionError(f"xlsdk {' '.join(args)}: never served from the cache")


def test_a_changed_manifest_or_urdf_is_never_served_stale(tmp_path: Path) -> None:
    site, cache = tmp_path / "site", tmp_path / "cache"
    package = _install_hand_plugin(site, "synthcache")
    info = ["info", "synthcache"]  # the tables: the title in the first line, the limits with 4 decimals
    out = _store(info, cache, site, tmp_path)[1]
    assert "Cache Test Hand" not in out

    manifest = package / "hand.toml"
    text = manifest.read_text()
    title_line = next(line for line in text.splitlines() if line.startswith("title"))
    manifest.write_text(text.replace(title_line, 'title = "Cache Test Hand"'))
    code, out, err, computed = _run(info, cache, site=site, cwd=tmp_path)
    assert code == 0 and computed, err
    assert out.startswith("Cache Test Hand")

    _store(info, cache, site, tmp_path)
    urdf = next(package.glob("*.urdf"))
    name, lower, upper = re.search(r'<joint name="(\w+)" type="revolute">.*?lower="([^"]+)" upper="([^"]+)"',
                                   urdf.read_text(), flags=re.S).groups()
    narrower = round(float(upper) - 0.0123, 4)
    assert narrower > float(lower)

    def row(table: str) -> str:
        return next(line for line in table.splitlines() if f" {name} " in line)

    assert f"{narrower:.4f}" not in row(out)
    urdf.write_text(urdf.read_text().replace(f'upper="{upper}"', f'upper="{narrower}"', 1))
    code, out, err, computed = _run(info, cache, site=site, cwd=tmp_path)
    assert code == 0 and computed, err
    assert f"{narrower:.4f}" in row(out)


def test_installing_removing_or_breaking_a_plugin_is_seen(tmp_path: Path) -> None:
    site, cache = tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    baseline = _store(["hands", "--json"], cache, site, tmp_path)
    assert "synthnew" not in _hand_names(baseline[1])

    _install_hand_plugin(site, "synthnew")  # pip install
    code, out, err, computed = _run(["hands", "--json"], cache, site=site, cwd=tmp_path)
    assert code == 0 and computed, err
    assert "synthnew" in _hand_names(out)

    _store(["hands", "--json"], cache, site, tmp_path)
    module = site / "xlsdk_synthnew" / "__init__.py"
    module.write_text("raise ImportError('libvendor.so: cannot open shared object file')\n")  # its code breaks
    code, out, err, computed = _run(["hands", "--json"], cache, site=site, cwd=tmp_path)
    assert code == 0 and computed, err
    listing = json.loads(out)
    assert "synthnew" not in _hand_names(out)
    assert [row["plugin"] for row in listing["broken"]] == ["synthnew"]
    assert "libvendor.so" in listing["broken"][0]["error"]

    table = _store(["hands"], cache, site, tmp_path)  # the broken plugin's line, from the cache too
    assert "broken" in table[1] and "libvendor.so" in table[1]

    shutil.rmtree(site / "xlsdk_synthnew-0.1.dist-info")  # pip uninstall
    shutil.rmtree(site / "xlsdk_synthnew")
    code, out, err, computed = _run(["hands", "--json"], cache, site=site, cwd=tmp_path)
    assert code == 0 and computed, err
    assert json.loads(out) == json.loads(baseline[1])


def test_a_core_latent_appearing_where_the_variable_points_is_seen(tmp_path: Path) -> None:
    """Nothing is opened while the folder is missing (only probed), so the variable's path is what tells."""
    site, cache, core = tmp_path / "site", tmp_path / "cache", tmp_path / "cores" / "retrained"
    site.mkdir()
    (tmp_path / "cores").mkdir()
    env_core = {"XLSDK_CORE_LATENT": str(core)}
    missing = _store(["hands", "--json"], cache, site, tmp_path, env=env_core)
    assert {row["head"] for row in json.loads(missing[1])["hands"]} == {"no core latent"}
    shutil.copytree(Path(answer_cache.__file__).parents[1] / "latent" / "data", core)
    code, out, err, computed = _run(["hands", "--json"], cache, site=site, cwd=tmp_path, env=env_core)
    assert code == 0 and computed, err
    assert {row["head"] for row in json.loads(out)["hands"]} == {"fitted"}


@pytest.mark.parametrize("corruption", [b"", b"\x00\xff not json", b'{"format": 1, "context": ', b"[]",
                                        b'{"format": 1, "context": {}, "files": [], "answer": {}}', "wrong types"])
def test_a_corrupt_entry_is_recomputed_never_a_crash(tmp_path: Path, corruption: bytes | str) -> None:
    cache = tmp_path / "cache"
    expected = _run(["hands", "--json"], None, cwd=tmp_path)
    _run(["hands", "--json"], cache, cwd=tmp_path)
    (entry,) = cache.glob("*.json")
    if corruption == "wrong types":
        stored = json.loads(entry.read_text())
        stored["files"] = [[1, 2, 3, 4, 5]] + stored["files"]
        entry.write_text(json.dumps(stored))
    else:
        entry.write_bytes(corruption)
    code, out, err, computed = _run(["hands", "--json"], cache, cwd=tmp_path)
    assert (code, out, err) == expected[:3]
    assert computed
    assert not _run(["hands", "--json"], cache, cwd=tmp_path)[3], "and the entry was written again, whole"


def test_the_switch_turns_the_cache_off(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "XLSDK_CACHE_DIR": str(cache), "XLSDK_NO_CACHE": "1", "COLUMNS": "100"}
    for _ in range(2):
        result = subprocess.run([sys.executable, "-P", "-m", "xlsdk", "hands"], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    assert not cache.exists()


def test_a_plugin_host_in_the_process_is_never_bypassed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture,
                                                       hand_plugin) -> None:  # noqa: ANN001
    """In-memory plugins (tests, notebooks) are in no file: with a host in the process, the cache steps aside."""
    monkeypatch.setenv("XLSDK_CACHE_DIR", str(tmp_path / "cache"))
    synthetic = write_synthetic_hand(tmp_path / "mem", name="synthmem")
    previous = reset_plugin_host()
    try:
        for _ in range(3):  # no host yet: computed and stored (the host exists now); retried as in _store
            reset_plugin_host()
            assert main(["hands", "--json"]) == 0
            stored = capsys.readouterr().out
            if list((tmp_path / "cache").glob("*.json")):
                break
            _wait_out_racy_window()
        assert len(list((tmp_path / "cache").glob("*.json"))) == 1
        get_plugin_host().register(hand_plugin(synthetic.manifest), name="in-memory")
        assert main(["hands", "--json"]) == 0
        listed = _hand_names(capsys.readouterr().out)
        assert "synthmem" in listed and "synthmem" not in _hand_names(stored)
    finally:
        reset_plugin_host(previous)
