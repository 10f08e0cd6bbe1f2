"""Core latents side by side: a plugin carries heads for several core fingerprints, the installed core picks
its own, and a hand (or a policy) made for another core is refused with the fix named.

The fast tests use untrained core latents (two seeds: two fingerprints) and random heads: they test the
layout and the messages. ``test_upgrade_from_the_shipped_core_to_a_trained_one`` is the upgrade end to end:
a second core latent trained here (small, seeded), heads fitted against both, the CLI's ``fit --all-stale``
and ``fit --for``, and ``xlsdk hands``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from synthetic_hands import write_synthetic_hand

import xlsdk
from xlsdk.cli import main
from xlsdk.errors import FingerprintMismatchError, LatentError
from xlsdk.geometry import GEOMETRY_VERSION
from xlsdk.hand import Hand
from xlsdk.hand_spec import load_hand_spec
from xlsdk.latent.core import CoreLatent
from xlsdk.latent.head import HeadConfig, LatentHead
from xlsdk.latent.head_file import write_head
from xlsdk.latent.heads import (
    carried_fingerprints,
    clear_core_latent_cache,
    find_core_latent,
    head_files,
    head_status,
    head_target,
    load_head,
    stale_hands,
)


def _untrained_core(directory: Path, seed: int) -> CoreLatent:
    canonical = xlsdk.load_hand("canonical")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        head = LatentHead(HeadConfig(hand="canonical", dof=canonical.dof, lower=canonical.spec.lower,
                                     upper=canonical.spec.upper))
    core = CoreLatent.from_heads({"canonical": head}, {"canonical": canonical.spec.digest},
                                 {"canonical": canonical.fingers})
    core.save(directory)
    return core


def _random_head(hand: Hand, seed: int) -> LatentHead:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return LatentHead(HeadConfig(hand=hand.name, dof=hand.dof, lower=hand.spec.lower, upper=hand.spec.upper))


def _write_for(hand: Hand, core: CoreLatent, seed: int) -> Path:
    weights, manifest = head_target(hand, core.fingerprint)
    write_head(_random_head(hand, seed), weights, manifest, hand_digest=hand.spec.digest, fingerprint=core.fingerprint,
               geometry_version=GEOMETRY_VERSION, origin="fit")
    return weights


@pytest.fixture
def two_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CoreLatent, CoreLatent]]:
    old, new = _untrained_core(tmp_path / "old", 1), _untrained_core(tmp_path / "new", 2)
    assert old.fingerprint != new.fingerprint
    monkeypatch.setenv("XLSDK_CORE_LATENT", str(tmp_path / "old"))
    clear_core_latent_cache()
    yield old, new
    clear_core_latent_cache()


def _use(core: CoreLatent, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLSDK_CORE_LATENT", str(core.source))
    clear_core_latent_cache()


def test_the_installed_core_picks_its_own_head(two_cores: tuple[CoreLatent, CoreLatent], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = two_cores
    hand = Hand(load_hand_spec(write_synthetic_hand(tmp_path / "gadget", name="gadget").manifest), plugin="gadget")
    top = _write_for(hand, old, seed=3)
    assert top == hand.head_path, "the first head takes the single-head layout every plugin starts with"
    beside = _write_for(hand, new, seed=4)
    assert beside == hand.head_dir / "heads" / new.fingerprint / "head.safetensors", "never over another core's head"
    assert carried_fingerprints(hand) == tuple(sorted((old.fingerprint, new.fingerprint)))
    q = hand.sample(5, torch.Generator().manual_seed(0))

    z_old = xlsdk.encode(hand, q)
    assert head_files(hand, old.fingerprint)[0] == hand.head_path
    _use(new, monkeypatch)
    assert head_status(hand).state == "fitted" and head_status(hand).fingerprints == carried_fingerprints(hand)
    z_new = xlsdk.encode(hand, q)
    assert head_files(hand, new.fingerprint)[0] == beside
    assert not torch.allclose(z_old, z_new), "each core decodes through the head fitted for it"
    # a refit for the installed core goes where its head already is
    assert head_target(hand, new.fingerprint)[0] == beside and head_target(hand, old.fingerprint)[0] == hand.head_path


def test_a_hand_with_only_another_cores_head_says_what_to_do(two_cores: tuple[CoreLatent, CoreLatent],
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = two_cores
    hand = Hand(load_hand_spec(write_synthetic_hand(tmp_path / "gadget", name="gadget").manifest), plugin="xlsdk-gadget")
    _write_for(hand, old, seed=3)
    _use(new, monkeypatch)
    with pytest.raises(FingerprintMismatchError) as info:
        load_head(hand)
    message = str(info.value)
    for part in (str(hand.head_dir), f"fitted against core latent {old.fingerprint[:12]}",
                 f"installed core latent {new.fingerprint[:12]}", "`xlsdk fit gadget`", "`xlsdk fit --all-stale`",
                 "release of xlsdk-gadget"):
        assert part in message, part
    status = head_status(hand)
    assert status.state == "fingerprint mismatch" and status.fingerprints == (old.fingerprint,)
    assert stale_hands([hand], new.manifest) == [hand] and stale_hands([hand], old.manifest) == []


def test_a_head_folder_must_hold_the_head_of_its_fingerprint(two_cores: tuple[CoreLatent, CoreLatent],
                                                             tmp_path: Path) -> None:
    """A head copied into the wrong heads/<fingerprint>/ folder is refused, never decoded through the wrong core."""
    old, new = two_cores
    hand = Hand(load_hand_spec(write_synthetic_hand(tmp_path / "gadget", name="gadget").manifest), plugin="gadget")
    folder = hand.head_dir / "heads" / old.fingerprint
    write_head(_random_head(hand, 5), folder / "head.safetensors", folder / "head.json", hand_digest=hand.spec.digest,
               fingerprint=new.fingerprint, geometry_version=GEOMETRY_VERSION, origin="fit")
    with pytest.raises(FingerprintMismatchError, match=f"fitted against core latent {new.fingerprint[:12]}"):
        load_head(hand)
    assert head_status(hand).state == "fingerprint mismatch"


def test_fit_for_finds_a_core_by_fingerprint_or_directory(two_cores: tuple[CoreLatent, CoreLatent],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = two_cores
    assert find_core_latent(old.fingerprint[:8]).fingerprint == old.fingerprint  # the installed one
    assert find_core_latent(str(new.source)).fingerprint == new.fingerprint
    with pytest.raises(LatentError, match=f"no known core latent has fingerprint {new.fingerprint[:12]}.*"
                                          f"known: {old.fingerprint[:12]}.*XLSDK_CORE_LATENT_PATH"):
        find_core_latent(new.fingerprint[:12])
    monkeypatch.setenv("XLSDK_CORE_LATENT_PATH", os.pathsep.join([str(new.source)]))
    assert find_core_latent(new.fingerprint[:12]).fingerprint == new.fingerprint
    with pytest.raises(LatentError, match="8 or more hex characters"):
        find_core_latent("abc")


def test_fit_cli_refuses_both_or_neither(two_cores: tuple[CoreLatent, CoreLatent],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit"]) == 1
    assert "name one HAND or pass --all-stale" in capsys.readouterr().err
    assert main(["fit", "inspire", "--all-stale"]) == 1
    assert main(["fit", "inspire", "--for", "zz"]) == 1
    assert "8 or more hex characters" in capsys.readouterr().err
