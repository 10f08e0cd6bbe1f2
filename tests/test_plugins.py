"""The plugin host: discovery, isolation of broken plugins, duplicate names, switches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import INSTALLED_DOF, REFERENCE_DOF
from synthetic_hands import write_synthetic_hand

import xlsdk
from xlsdk import hookspecs
from xlsdk.errors import BrokenPluginError, PluginConflictError, UnknownHandError
from xlsdk.plugins import PluginHost


def _install_fake_distribution(site: Path, dist: str, module: str, body: str, entry_name: str) -> None:
    """Lay out a distribution the way pip does (dist-info with entry points + the module)."""
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[xlsdk]\n{entry_name} = {module}\n")
    (site / f"{module}.py").write_text(textwrap.dedent(body))


BROKEN_IMPORT = "raise ImportError('libvendor.so: cannot open shared object file')\n"


def test_reference_hands_are_discovered_with_their_dof() -> None:
    host = PluginHost()
    names = host.hand_names()
    for name, dof in REFERENCE_DOF.items():
        assert name in names
        assert host.load_hand(name).dof == dof
    assert "canonical" not in names, "the canonical hand belongs to the core, listed only on request"
    assert "canonical" in host.hand_names(include_core=True)


def test_broken_installed_plugin_is_reported_and_others_keep_working(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _install_fake_distribution(tmp_path, "xlsdk-brokenhand", "xlsdk_brokenhand", BROKEN_IMPORT, "brokenhand")
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost()
    broken = [p for p in host.plugin_records() if p.name == "brokenhand"]
    assert len(broken) == 1
    assert broken[0].distribution == "xlsdk-brokenhand"
    assert "ImportError: libvendor.so" in broken[0].error
    assert host.load_hand("canonical").dof == 17
    for name in REFERENCE_DOF:
        assert host.load_hand(name).name == name


def test_broken_plugin_in_the_cli_process(tmp_path: Path) -> None:
    """The real CLI in a real process: `xlsdk hands --json` lists the broken plugin next to the working hands."""
    _install_fake_distribution(tmp_path, "xlsdk-brokenhand", "xlsdk_brokenhand", BROKEN_IMPORT, "brokenhand")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "xlsdk", "hands", "--json"], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert {row["name"]: row["dof"] for row in listing["hands"]} == INSTALLED_DOF
    assert [b["plugin"] for b in listing["broken"]] == ["brokenhand"]
    assert "libvendor.so" in listing["broken"][0]["error"]


def test_plugin_whose_hook_raises_is_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = """
        from xlsdk import hookimpl

        @hookimpl
        def xlsdk_register_hands(register):
            raise RuntimeError("calibration table missing")
    """
    _install_fake_distribution(tmp_path, "xlsdk-raiser", "xlsdk_raiser", body, "raiser")
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost()
    record = next(p for p in host.plugin_records() if p.name == "raiser")
    assert record.error == "xlsdk_register_hands raised RuntimeError: calibration table missing"
    assert "inspire" in host.hand_names()


def test_invalid_manifest_lists_the_hand_as_broken(tmp_path: Path, hand_plugin) -> None:  # noqa: ANN001
    hand = write_synthetic_hand(tmp_path / "bad", name="badhand")
    hand.manifest.write_text(hand.manifest.read_text().replace('palm_link = "palm"', 'palm_link = "nope"'))
    host = PluginHost()
    host.register(hand_plugin(hand.manifest), name="badplugin")
    record = next(r for r in host.hand_records() if r.name == "badhand")
    assert "field `palm_link`: link 'nope' is not in badhand.urdf" in record.error
    assert "badhand" not in host.hand_names()
    with pytest.raises(BrokenPluginError, match="palm_link"):
        host.load_hand("badhand")
    assert host.load_hand("ability").dof == 6


def test_two_plugins_claiming_one_name_is_an_error_naming_both(tmp_path: Path, hand_plugin) -> None:  # noqa: ANN001
    first = write_synthetic_hand(tmp_path / "a", name="twin")
    second = write_synthetic_hand(tmp_path / "b", name="twin", fingers=("thumb", "index"))
    host = PluginHost()
    host.register(hand_plugin(first.manifest), name="vendor-a", distribution="xlsdk-twin-a")
    host.register(hand_plugin(second.manifest), name="vendor-b", distribution="xlsdk-twin-b")
    with pytest.raises(PluginConflictError) as caught:
        host.load_hand("twin")
    assert "plugin 'vendor-a' (xlsdk-twin-a)" in str(caught.value)
    assert "plugin 'vendor-b' (xlsdk-twin-b)" in str(caught.value)
    assert "twin" not in host.hand_names()
    assert host.load_hand("xhand").dof == 12


def test_a_driver_name_two_plugins_register_is_a_recorded_conflict() -> None:
    """Like a hand conflict: listing still works, the driver is left out, and using it names both plugins."""
    import xlsdk
    from xlsdk.drivers import DriverEntry, SimDriver, driver_entry, hand_drivers
    from xlsdk.plugins import reset_plugin_host

    class Twin:
        def __init__(self) -> None:
            self.xlsdk_register_drivers = lambda register: register(
                DriverEntry(name="twin-driver", factory=lambda hand, options: SimDriver(hand)))

    host = PluginHost()
    host.register(Twin(), name="vendor-a")
    host.register(Twin(), name="vendor-b")
    assert "ability" in host.hand_names() and [r.name for r in host.hand_records()]
    assert "twin-driver" not in {entry.name for entry in host.drivers_for("ability")}
    assert host.driver_conflicts() == {
        "twin-driver": "driver name 'twin-driver' is registered by plugin 'vendor-a' and plugin 'vendor-b'; "
                       "uninstall one of them"}
    previous = reset_plugin_host(host)
    try:
        hand = xlsdk.load_hand("ability")
        assert "sim" in hand_drivers(hand) and "twin-driver" not in hand_drivers(hand)
        with pytest.raises(PluginConflictError, match="'vendor-a' and plugin 'vendor-b'"):
            driver_entry(hand, "twin-driver")
    finally:
        reset_plugin_host(previous)


def test_in_memory_plugin_can_be_registered_and_removed(tmp_path: Path, hand_plugin) -> None:  # noqa: ANN001
    hand = write_synthetic_hand(tmp_path / "s", name="memhand")
    host = PluginHost()
    host.register(hand_plugin(hand.manifest), name="memory")
    assert host.load_hand("memhand").dof == len(hand.joints)
    host.unregister("memory")
    with pytest.raises(UnknownHandError):
        host.load_hand("memhand")


def test_unknown_hand_lists_the_installed_ones() -> None:
    with pytest.raises(UnknownHandError) as caught:
        PluginHost().load_hand("shadow")
    for name in REFERENCE_DOF:
        assert name in str(caught.value)


def test_allow_list_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLSDK_LOAD_PLUGINS", "ability")
    assert PluginHost().hand_names() == ["ability"]
    monkeypatch.setenv("XLSDK_LOAD_PLUGINS", "")
    assert PluginHost().hand_names() == []
    assert PluginHost().hand_names(include_core=True) == ["canonical"], "the core's own hand is always there"


def test_trace_switch_prints_hook_calls(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("XLSDK_TRACE_PLUGINS", "1")
    monkeypatch.setenv("XLSDK_LOAD_PLUGINS", "inspire")
    PluginHost().hand_names()
    err = capsys.readouterr().err
    assert "xlsdk: calling inspire.xlsdk_register_hands" in err
    assert "xlsdk: calling xlsdk-core.xlsdk_register_drivers" in err


def test_public_api_uses_the_process_host(fresh_host: PluginHost) -> None:
    assert xlsdk.hands() == fresh_host.hand_names()
    assert xlsdk.load_hand("paxini") is fresh_host.load_hand("paxini")


def test_every_hook_is_documented() -> None:
    """hookspecs.py is the plugin contract: every parameter of every hook is documented."""
    import inspect

    hooks = [name for name in dir(hookspecs) if name.startswith("xlsdk_")]
    assert hooks == ["xlsdk_register_drivers", "xlsdk_register_hands"], "a new hook needs docs and a test here"
    for name in hooks:
        spec = getattr(hookspecs, name)
        doc = inspect.getdoc(spec) or ""
        for parameter in inspect.signature(spec).parameters:
            assert f":param {parameter}:" in doc, f"{name} does not document {parameter!r}"


def test_hooks_work_as_their_docs_say(synthetic) -> None:  # noqa: ANN001
    """A plugin written from the hook docstrings alone: register(manifest_path), register(DriverEntry)."""
    from xlsdk.drivers import DriverEntry, SimDriver

    assert "``register(manifest_path)``" in (hookspecs.xlsdk_register_hands.__doc__ or "")
    assert "``register(entry)``" in (hookspecs.xlsdk_register_drivers.__doc__ or "")

    class FromTheDocs:
        @xlsdk.hookimpl
        def xlsdk_register_hands(self, register) -> None:  # noqa: ANN001
            register(synthetic.manifest)

        @xlsdk.hookimpl
        def xlsdk_register_drivers(self, register) -> None:  # noqa: ANN001
            register(DriverEntry(name="docs-driver", hands=(synthetic.name,), factory=lambda h, o: SimDriver(h),
                                 description="written from the hook docstring"))

    host = PluginHost(load_entry_points=False)
    host.register(FromTheDocs(), name="from-the-docs")
    assert synthetic.name in host.hand_names()
    drivers = [e.name for e in host.drivers_for(synthetic.name)]
    assert drivers[0] == "sim" and drivers[-1] == "docs-driver", drivers
    assert "docs-driver" not in [e.name for e in host.drivers_for("inspire")], "hands=(...) limits it"
    record = next(r for r in host.plugin_records() if r.name == "from-the-docs")
    assert record.hooks == ("xlsdk_register_drivers", "xlsdk_register_hands") and record.error is None
