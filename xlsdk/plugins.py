"""The plugin host: one pluggy PluginManager, entry points loaded once and lazily, broken plugins isolated.

pluggy's own ``load_setuptools_entrypoints`` stops at the first plugin that fails to import, so the
entry points of group ``xlsdk`` are iterated here one by one, each in its own try/except. A plugin that
fails to import, whose hook raises, or whose manifest is invalid is recorded as broken with its reason;
all other hands keep working.

Switches (read when the host is created):

* ``XLSDK_LOAD_PLUGINS=a,b`` loads only the named entry points (an empty value loads none);
* ``XLSDK_TRACE_PLUGINS=1`` prints every hook call to stderr.

Tests get a fresh host with :func:`reset_plugin_host` and register in-memory plugins with
``host.register(obj, name=...)``; no module-level state is filled at import time.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pluggy
from pydantic import BaseModel, ConfigDict

from xlsdk import hookspecs
from xlsdk.drivers.entry import DriverEntry
from xlsdk.errors import BrokenPluginError, PluginConflictError, UnknownHandError, XlsdkError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from xlsdk.hand import Hand
    from xlsdk.hand_spec import HandSpec

ENTRY_POINT_GROUP = "xlsdk"
#: the hooks of :mod:`xlsdk.hookspecs`, called on each plugin by name (see ``_collect_plugin``)
_HOOK_NAMES = ("xlsdk_register_hands", "xlsdk_register_drivers")
CORE_PLUGIN_NAME = "xlsdk-core"


class HandRecord(BaseModel):
    """One registered hand, as listed by ``xlsdk hands``: where it came from and whether it works."""

    model_config = ConfigDict(frozen=True)
    name: str
    manifest_path: str
    plugin: str
    distribution: str | None = None
    version: str | None = None
    core: bool = False
    error: str | None = None


PluginState = Literal["ok", "broken", "disabled"]


class PluginRecord(BaseModel):
    """One plugin, as ``xlsdk plugins`` lists it: entry-point name, distribution, the hooks it implements,
    what it registered, and its state (``broken`` with the reason in ``error``; ``disabled`` when
    ``XLSDK_LOAD_PLUGINS`` left it out)."""

    model_config = ConfigDict(frozen=True)
    name: str
    distribution: str | None = None
    version: str | None = None
    hooks: tuple[str, ...] = ()
    hands: tuple[str, ...] = ()
    drivers: tuple[str, ...] = ()
    core: bool = False
    error: str | None = None
    disabled: bool = False

    @property
    def state(self) -> PluginState:
        return "disabled" if self.disabled else "broken" if self.error is not None else "ok"


@dataclass
class _Registry:
    hands: list[HandRecord] = field(default_factory=list)
    specs: dict[str, HandSpec] = field(default_factory=dict)
    drivers: list[tuple[str, DriverEntry]] = field(default_factory=list)
    plugins: dict[str, PluginRecord] = field(default_factory=dict)
    driver_conflicts: dict[str, str] = field(default_factory=dict)  # driver name -> why it is unusable


class PluginHost:
    """Owns the PluginManager and everything plugins registered."""

    def __init__(self, *, load_entry_points: bool = True, allow: Iterable[str] | None = None) -> None:
        self.pm = pluggy.PluginManager("xlsdk")
        self.pm.add_hookspecs(hookspecs)
        self._origins: dict[str, tuple[str | None, str | None]] = {}
        self._import_errors: dict[str, PluginRecord] = {}
        self._disabled: dict[str, PluginRecord] = {}
        self._registry: _Registry | None = None
        self._hands: dict[str, Hand] = {}
        self._trace = bool(os.environ.get("XLSDK_TRACE_PLUGINS"))
        from xlsdk import builtin

        self.register(builtin, name=CORE_PLUGIN_NAME)
        if load_entry_points:
            if allow is None and "XLSDK_LOAD_PLUGINS" in os.environ:
                allow = [n.strip() for n in os.environ["XLSDK_LOAD_PLUGINS"].split(",") if n.strip()]
            self._load_entry_points(None if allow is None else set(allow))

    # --- registration -------------------------------------------------------------------------------

    def register(self, plugin: object, name: str, *, distribution: str | None = None,
                 version: str | None = None) -> None:
        """Register an in-memory plugin (tests, notebooks); invalidates what was collected."""
        self.pm.register(plugin, name=name)
        self._origins[name] = (distribution, version)
        self._invalidate()

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._origins.pop(name, None)
        self._invalidate()

    def _invalidate(self) -> None:
        self._registry = None
        self._hands.clear()

    def _load_entry_points(self, allow: set[str] | None) -> None:
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if self.pm.get_plugin(entry_point.name) is not None:
                continue
            distribution = entry_point.dist.name if entry_point.dist else None
            version = entry_point.dist.version if entry_point.dist else None
            if allow is not None and entry_point.name not in allow:
                self._disabled[entry_point.name] = PluginRecord(
                    name=entry_point.name, distribution=distribution, version=version, disabled=True)
                continue
            try:
                module = entry_point.load()
                self.register(module, name=entry_point.name, distribution=distribution, version=version)
            except Exception as exc:  # a broken plugin must never break the host
                self._import_errors[entry_point.name] = PluginRecord(
                    name=entry_point.name,
                    distribution=distribution,
                    version=version,
                    error=f"import of {entry_point.value!r} failed: {type(exc).__name__}: {exc}",
                )

    # --- collection ---------------------------------------------------------------------------------

    def _collect(self) -> _Registry:
        if self._registry is not None:
            return self._registry
        registry = _Registry()
        registry.plugins.update(self._import_errors)
        for plugin_name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            self._collect_plugin(registry, plugin_name, plugin)
        self._mark_conflicts(registry)
        self._registry = registry
        return registry

    def _collect_plugin(self, registry: _Registry, plugin_name: str, plugin: object) -> None:
        distribution, version = self._origins.get(plugin_name, (None, None))
        hand_records: list[HandRecord] = []
        driver_entries: list[DriverEntry] = []

        def register_hand(manifest: Path | str | Traversable, *, core: bool = False) -> None:
            from xlsdk.hand_spec import load_hand_spec

            path = Path(str(manifest))
            try:
                spec = load_hand_spec(path)
            except XlsdkError as exc:
                hand_records.append(HandRecord(
                    name=_guess_hand_name(path, plugin_name), manifest_path=str(path), plugin=plugin_name,
                    distribution=distribution, version=version, core=core, error=str(exc),
                ))
                return
            registry.specs[f"{plugin_name}:{spec.name}"] = spec
            hand_records.append(HandRecord(
                name=spec.name, manifest_path=str(spec.manifest_path), plugin=plugin_name,
                distribution=distribution, version=version, core=core,
            ))

        def register_driver(entry: DriverEntry) -> None:
            if not isinstance(entry, DriverEntry):
                raise TypeError(f"register() takes an xlsdk.drivers.DriverEntry, got {type(entry).__name__}")
            driver_entries.append(entry)

        error: str | None = None
        for hook_name, callback in zip(_HOOK_NAMES, (register_hand, register_driver), strict=True):
            implementation = getattr(plugin, hook_name, None)
            if implementation is None:
                continue
            if self._trace:
                print(f"xlsdk: calling {plugin_name}.{hook_name}", file=sys.stderr)
            try:
                implementation(register=callback)
            except Exception as exc:  # isolate the plugin, keep the others
                error = f"{hook_name} raised {type(exc).__name__}: {exc}"
                break
        if error is None:
            registry.hands.extend(hand_records)
            registry.drivers.extend((plugin_name, entry) for entry in driver_entries)
        hooks = tuple(sorted(name for name in _HOOK_NAMES if getattr(plugin, name, None) is not None))
        registry.plugins[plugin_name] = PluginRecord(
            name=plugin_name, distribution=distribution, version=version, hooks=hooks,
            hands=tuple(r.name for r in hand_records), drivers=tuple(e.name for e in driver_entries),
            core=plugin_name == CORE_PLUGIN_NAME, error=error,
        )

    @staticmethod
    def _mark_conflicts(registry: _Registry) -> None:
        by_name: dict[str, list[HandRecord]] = {}
        for record in registry.hands:
            by_name.setdefault(record.name, []).append(record)
        marked: list[HandRecord] = []
        for record in registry.hands:
            claimants = by_name[record.name]
            if len(claimants) > 1:
                who = " and ".join(
                    f"plugin {c.plugin!r}" + (f" ({c.distribution})" if c.distribution else "") for c in claimants
                )
                record = record.model_copy(update={
                    "error": f"hand name {record.name!r} is claimed by {who}; uninstall one of them",
                })
            marked.append(record)
        registry.hands = marked
        plugins_of: dict[str, list[str]] = {}
        for plugin_name, entry in registry.drivers:
            plugins_of.setdefault(entry.name, []).append(plugin_name)
        for name, claimants in plugins_of.items():
            if len(claimants) > 1:
                who = " and ".join(f"plugin {c!r}" for c in claimants)
                registry.driver_conflicts[name] = f"driver name {name!r} is registered by {who}; uninstall one of them"

    # --- queries ------------------------------------------------------------------------------------

    def hand_records(self, *, include_core: bool = False) -> list[HandRecord]:
        records = [r for r in self._collect().hands if include_core or not r.core]
        return sorted(records, key=lambda r: (r.core, r.name))

    def plugin_records(self, *, include_disabled: bool = False) -> list[PluginRecord]:
        """Every plugin that was loaded or failed to load (and, with ``include_disabled``, those left out)."""
        records = list(self._collect().plugins.values())
        return records + list(self._disabled.values()) if include_disabled else records

    def hand_names(self, *, include_core: bool = False) -> list[str]:
        """Names of working hands (broken ones are left out; see :meth:`hand_records`)."""
        names: list[str] = []
        for record in self.hand_records(include_core=include_core):
            if record.error is None and record.name not in names:
                names.append(record.name)
        return names

    def load_hand(self, name: str) -> Hand:
        if name in self._hands:
            return self._hands[name]
        registry = self._collect()
        records = [r for r in registry.hands if r.name == name]
        if not records:
            raise UnknownHandError(name, self.hand_names())
        record = records[0]
        if record.error is not None:
            error_type = PluginConflictError if len(records) > 1 else BrokenPluginError
            raise error_type(f"hand {name!r} cannot be loaded: {record.error}")
        from xlsdk.hand import Hand

        spec = registry.specs[f"{record.plugin}:{name}"]
        hand = Hand(spec, plugin=record.plugin)
        self._hands[name] = hand
        return hand

    def drivers(self) -> list[DriverEntry]:
        return [entry for _, entry in self._collect().drivers]

    def drivers_for(self, hand_name: str) -> list[DriverEntry]:
        """Drivers that can drive ``hand_name``: the generic ones plus those naming the hand.

        A driver name two plugins register is left out (see :meth:`driver_conflicts`), like a hand two
        plugins claim: listing hands keeps working, and only using that driver fails.
        """
        registry = self._collect()
        return [entry for _, entry in registry.drivers
                if entry.supports(hand_name) and entry.name not in registry.driver_conflicts]

    def driver_conflicts(self) -> dict[str, str]:
        """Driver names registered by more than one plugin, each with the message saying who."""
        return dict(self._collect().driver_conflicts)


def _guess_hand_name(path: Path, fallback: str) -> str:
    """Best-effort hand name for a manifest that failed validation (for the broken-hands listing)."""
    try:
        import tomllib

        name = tomllib.loads(path.read_text(encoding="utf-8")).get("name")
        if isinstance(name, str) and name:
            return name
    except Exception:
        pass
    return fallback


def get_plugins() -> list[PluginRecord]:
    """Every plugin of the process-wide host, like ``llm plugins``: the core's own first, then by name.

    Each record says which hooks the plugin implements, what it registered, its distribution and version,
    and its state: ``ok``, ``broken`` (``error`` says why) or ``disabled`` (left out by ``XLSDK_LOAD_PLUGINS``).
    """
    records = get_plugin_host().plugin_records(include_disabled=True)
    return sorted(records, key=lambda r: (not r.core, r.name))


_host: PluginHost | None = None


def get_plugin_host() -> PluginHost:
    """The process-wide host, created on first use (entry points load then, once)."""
    global _host
    if _host is None:
        _host = PluginHost()
    return _host


def has_plugin_host() -> bool:
    """Whether the process-wide host exists: it may hold in-memory plugins, which no file on disk records
    (so an answer cached from files alone, like the command line's, must not stand in for it)."""
    return _host is not None


def reset_plugin_host(host: PluginHost | None = None) -> PluginHost | None:
    """Drop (or replace) the process-wide host; the next :func:`get_plugin_host` builds a fresh one."""
    global _host
    previous, _host = _host, host
    return previous
