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
from xlsdk.errors import FingerprintMismatchError, HeadError, LatentError
from xlsdk.geometry import GEOMETRY_VERSION
from xlsdk.hand import Hand
from xlsdk.hand_spec import load_hand_spec
from xlsdk.latent.core import CoreLatent
from xlsdk.latent.head_network import HeadConfig, LatentHead
from xlsdk.latent.head_file import write_head
from xlsdk.latent.head_loading import (
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


def test_a_head_folder_linked_from_outside_the_plugin_is_refused(two_cores: tuple[CoreLatent, CoreLatent],
                                                                  tmp_path: Path) -> None:
    old, _ = two_cores
    hand = Hand(load_hand_spec(write_synthetic_hand(tmp_path / "gadget", name="gadget").manifest), plugin="gadget")
    elsewhere = tmp_path / "elsewhere"
    write_head(_random_head(hand, 5), elsewhere / "head.safetensors", elsewhere / "head.json",
               hand_digest=hand.spec.digest, fingerprint=old.fingerprint, geometry_version=GEOMETRY_VERSION,
               origin="fit")
    (hand.head_dir / "heads").mkdir()
    (hand.head_dir / "heads" / old.fingerprint).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(HeadError, match="outside the plugin's folder"):
        load_head(hand)
    assert head_status(hand).state == "corrupt"


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


# a fit small enough for a test: the heads only have to exist and differ per core, not to pass check
_SMALL_FIT = {"steps": 10, "pool": 512, "core_latents": 512, "batch_size": 64, "geometry_batch": 16,
              "decode_batch": 64, "check_every": 10, "reach_weight": 0.0, "reach_poses": 32}


def _train_core(directory: Path, member: Hand, seed: int) -> CoreLatent:
    """A small core latent (canonical + one reference hand), seeded. Uniform and closing poses only: the grasp
    banks' IK would cost 23 CPU seconds of the 24 such a training takes (measured), and these core latents only
    have to exist and differ."""
    from xlsdk.latent.train import LatentTrainConfig, train_core_latent

    config = LatentTrainConfig(hands=("canonical", member.name), steps=30, batch_size=32, hidden=(32, 32), seed=seed,
                               checkpoint_every=1000, mix={"uniform": 0.7, "pinch": 0.0, "tripod": 0.0, "close": 0.3})
    return train_core_latent(config, hands={"canonical": xlsdk.load_hand("canonical"), member.name: member},
                             out_dir=directory, checkpoint_dir=directory / "checkpoints", progress=False, evaluate=False)


@pytest.mark.slow
def test_upgrade_from_one_trained_core_to_another(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hand_plugin,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Two core latents trained here (small, seeded), vendor hands in a host of their own (no installed plugin's
    folder is written to): 'both' carries heads for both cores, 'only_old' for the old one, 'member' is a hand
    both cores were trained with (a reference hand: its heads come from the core latent itself)."""
    from xlsdk.latent.export import export_reference_heads
    from xlsdk.latent.fit import FitConfig, fit_head
    from xlsdk.plugins import PluginHost, get_plugin_host, reset_plugin_host

    sources = [write_synthetic_hand(tmp_path / name, name=name, fingers=fingers, scale=scale).manifest
               for name, fingers, scale in (("both", ("thumb", "index", "middle", "ring"), 1.0),
                                            ("only_old", ("thumb", "index", "middle"), 1.1),
                                            ("member", ("thumb", "index", "middle", "ring", "little"), 0.9))]
    previous = reset_plugin_host(PluginHost(load_entry_points=False))
    get_plugin_host().register(hand_plugin(*sources), name="vendor", distribution="xlsdk-vendor")
    monkeypatch.delenv("XLSDK_CORE_LATENT_PATH", raising=False)
    try:
        both, only_old, member = (xlsdk.load_hand(name) for name in ("both", "only_old", "member"))
        old = _train_core(tmp_path / "old_core", member, seed=5)
        new = _train_core(tmp_path / "new_core", member, seed=7)
        assert new.fingerprint != old.fingerprint
        _use(old, monkeypatch)
        export_reference_heads(old, {"member": member})  # what the member's plugin shipped for the old core
        for hand in (both, only_old):
            fit_head(hand, core_hands=xlsdk.load_core_hands(old), config=FitConfig(**_SMALL_FIT),
                     progress=False)  # top-level heads, for the old core
        _upgrade(old, new, both, only_old, member, monkeypatch, capsys)
    finally:
        reset_plugin_host(previous)
        clear_core_latent_cache()


def _upgrade(old: CoreLatent, new: CoreLatent, both: Hand, only_old: Hand, member: Hand,
             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    q = both.sample(6, torch.Generator().manual_seed(1))
    z_before = xlsdk.encode(both, q)
    # the vendor of 'both' adds a head for the new core before users upgrade (--for names it by directory)
    assert main(["fit", "both", "--for", str(new.source), "--steps", "10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["weights_path"].endswith(f"heads/{new.fingerprint}/head.safetensors")

    # the upgrade: the new core latent is installed, the old one kept on XLSDK_CORE_LATENT_PATH
    _use(new, monkeypatch)
    monkeypatch.setenv("XLSDK_CORE_LATENT_PATH", str(old.source))
    assert main(["hands", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["hands"]}
    assert rows["both"]["head"] == "fitted"
    assert rows["both"]["head_fingerprints"] == sorted([old.fingerprint, new.fingerprint])
    for name in ("only_old", "member"):
        assert rows[name]["head"] == "fingerprint mismatch" and rows[name]["head_fingerprints"] == [old.fingerprint]
        assert f"`xlsdk fit {name}`" in rows[name]["head_detail"] and "--all-stale" in rows[name]["head_detail"]
    assert main(["hands"]) == 0
    table = capsys.readouterr().out
    assert f"* the installed core latent ({new.fingerprint[:12]})" in table
    z_new = xlsdk.encode(both, q)
    assert not np.allclose(np.asarray(z_new), np.asarray(z_before)), "the new core decodes through its own head"
    # the hand carrying only the old head says exactly what to do
    with pytest.raises(FingerprintMismatchError) as info:
        xlsdk.retarget(only_old.mid_pose()[None], only_old, both)
    for part in (f"only_old carries heads fitted against core latent {old.fingerprint[:12]}",
                 f"none for the installed core latent {new.fingerprint[:12]}", "`xlsdk fit only_old`",
                 "`xlsdk fit --all-stale`", "release of vendor"):
        assert part in str(info.value), part

    # one command repairs every stale hand for the installed core: a fit for the vendor's hand, the core's own
    # head for the hand the core was trained with; 'both' is current and left alone
    assert main(["fit", "--all-stale", "--steps", "10", "--json"]) == 0
    refit = json.loads(capsys.readouterr().out)
    assert refit["core"] == new.fingerprint and [r["hand"] for r in refit["fitted"]] == ["only_old"]
    assert refit["from_core"] == [str(member.head_dir / "heads" / new.fingerprint / "head.safetensors")]
    for hand in (only_old, member):
        assert head_status(hand).state == "fitted"
        assert carried_fingerprints(hand) == tuple(sorted([old.fingerprint, new.fingerprint]))
    assert xlsdk.retarget(only_old.mid_pose()[None], only_old, both).shape == (1, both.dof)
    assert torch.equal(load_head(member).to_joints.weight, new.heads["member"].to_joints.weight)

    # and back: under the old core every hand still uses its untouched old head
    _use(old, monkeypatch)
    assert head_status(both).state == head_status(only_old).state == head_status(member).state == "fitted"
    assert torch.equal(torch.as_tensor(xlsdk.encode(both, q)), torch.as_tensor(z_before))


@pytest.mark.slow
def test_a_policy_trained_under_one_core_is_refused_under_another(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Trained under the shipped core latent, the policy records its fingerprint; `policy run` under another core
    latent is one red line naming both fingerprints and the two ways out, and under its own core it runs."""
    from xlsdk.bench.crosshand.dataset import write_hand_dataset
    from xlsdk.bench.crosshand.tasks import sample_scenes
    from xlsdk.latent.head_loading import installed_core_latent
    from xlsdk.policy.train import train_from_datasets

    monkeypatch.delenv("XLSDK_CORE_LATENT", raising=False)
    clear_core_latent_cache()
    shipped = installed_core_latent()
    inspire = xlsdk.load_hand("inspire")
    scenes = sample_scenes("open", 2, np.random.default_rng(0))
    data = write_hand_dataset(inspire, scenes, tmp_path / "data", frames=8, image_size=48, seed=0).root
    policy = tmp_path / "policy"
    train_from_datasets([data], policy, hands={"inspire": inspire}, steps=5, batch_size=8, progress=False)
    assert json.loads((policy / "config.json").read_text())["latent_fingerprint"] == shipped.fingerprint

    other = _untrained_core(tmp_path / "other_core", seed=3)
    _use(other, monkeypatch)
    assert main(["policy", "run", "inspire", "--policy", str(policy), "--task", "open"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    for part in (f"trained under core latent {shipped.fingerprint[:12]}",
                 f"the installed core latent is {other.fingerprint[:12]}", "XLSDK_CORE_LATENT=",
                 f"`xlsdk fit HAND --for {shipped.fingerprint[:12]}`", "`xlsdk policy train`"):
        assert part in err, part
    assert "Traceback" not in err

    monkeypatch.delenv("XLSDK_CORE_LATENT")
    clear_core_latent_cache()
    assert main(["policy", "run", "inspire", "--policy", str(policy), "--task", "open", "--json"]) == 0
    capsys.readouterr()
