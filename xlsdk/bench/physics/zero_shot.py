"""Zero-shot hands: a URDF from the test corpus onboarded exactly as a vendor would, then registered.

``new-hand`` scaffolds the plugin from the URDF (:func:`xlsdk.new_hand.create_hand_plugin`, no prompts),
``fit`` trains its head against the frozen core latent (:func:`xlsdk.latent.fit.fit_head`), and the
plugin is registered in this process (what ``pip install -e`` does for a real vendor), so the hand
is an installed hand to every layer: physics world, action spaces, LeRobot processor steps.

The fit is ``xlsdk fit``'s with the latent cycle on (``--cycle-weight 1``, the option for a hand a latent
policy will drive; :mod:`xlsdk.latent.fit`), at its other defaults unless a step cap is given. The fitted
plugin is cached under ``cache/<name>-<digest>`` where the digest covers the URDF, the whole fit
configuration and the core latent's fingerprint: a rerun reuses it instead of refitting (a fit takes a
minute), and a fit made with another configuration is not reused.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from xlsdk.errors import XlsdkError
from xlsdk.hookspecs import hookimpl

if TYPE_CHECKING:
    from xlsdk.latent.fit import FitConfig

#: where the test corpus lives in a source checkout (the benchmark's zero-shot hands come from it)
CORPUS = Path(__file__).resolve().parents[3] / "tests" / "data" / "hands"
PLUGIN_PREFIX = "physics-bench-zero-shot:"


def corpus_urdf(name: str) -> Path:
    path = CORPUS / f"{name}.urdf"
    if not path.is_file():
        available = sorted(p.stem for p in CORPUS.glob("*.urdf")) if CORPUS.is_dir() else []
        raise XlsdkError(f"zero-shot hand {name!r}: no {path}",
                         hint=("corpus URDFs: " + ", ".join(available)) if available else
                         "the test corpus (tests/data/hands/) ships with a source checkout of xlsdk")
    return path


def onboard(name: str, cache: Path, *, fit_steps: int | None = None, cycle_weight: float = 1.0,
            progress: bool = False) -> str:
    """Scaffold + fit (or reuse the cached fit) corpus hand ``name``; returns the registered hand name.
    ``fit_steps``: a cap on the fit's steps (None: ``xlsdk fit``'s default, which stops early at its targets);
    ``cycle_weight``: the fit's latent cycle (``xlsdk fit --cycle-weight``)."""
    from xlsdk.latent.fit import FitConfig
    from xlsdk.latent.head_loading import installed_core_latent

    urdf = corpus_urdf(name)
    hand_name = f"zs_{name}".replace("-", "_")
    config = FitConfig(cycle_weight=cycle_weight, **({} if fit_steps is None else {"steps": fit_steps}))
    digest = hashlib.sha256(urdf.read_bytes() + f"{config.model_dump_json()}:{installed_core_latent().fingerprint}"
                            .encode()).hexdigest()[:12]
    directory = cache / f"{hand_name}-{digest}"
    manifest = next(directory.rglob("hand.toml"), None) if directory.is_dir() else None
    if manifest is None or not (manifest.parent / "head.safetensors").is_file():
        manifest = _scaffold_and_fit(hand_name, urdf, directory, config=config, progress=progress)
    register(hand_name, manifest)
    return hand_name


def _scaffold_and_fit(hand_name: str, urdf: Path, directory: Path, *, config: FitConfig, progress: bool) -> Path:
    from xlsdk import load_core_hands
    from xlsdk.hand import Hand
    from xlsdk.hand_spec import load_hand_spec
    from xlsdk.latent.fit import fit_head
    from xlsdk.new_hand import create_hand_plugin

    staging = directory.with_name(directory.name + ".partial")
    if staging.exists():
        shutil.rmtree(staging)
    staging.parent.mkdir(parents=True, exist_ok=True)
    result = create_hand_plugin(hand_name, urdf, staging / "plugin")
    hand = Hand(load_hand_spec(result.manifest), plugin=PLUGIN_PREFIX + hand_name)
    fit_head(hand, core_hands=load_core_hands(), config=config, progress=progress)
    if directory.exists():
        shutil.rmtree(directory)
    staging.rename(directory)  # only a finished fit is ever found in the cache
    return directory / result.manifest.relative_to(staging)


class _CorpusPlugin:
    """An in-memory xlsdk plugin registering one hand manifest (what its installed package would do)."""

    def __init__(self, manifest: Path) -> None:
        self.manifest = manifest

    @hookimpl
    def xlsdk_register_hands(self, register: object) -> None:
        register(self.manifest)  # type: ignore[operator]


def register(hand_name: str, manifest: Path) -> None:
    from xlsdk.plugins import get_plugin_host

    host = get_plugin_host()
    plugin_name = PLUGIN_PREFIX + hand_name
    if host.pm.get_plugin(plugin_name) is not None:
        host.unregister(plugin_name)
    host.register(_CorpusPlugin(manifest), name=plugin_name)
