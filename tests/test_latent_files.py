"""Core-latent and head files: fingerprints, checksums, shapes, staleness — every failure names the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from synthetic_hands import SyntheticHand

from xlsdk.errors import FingerprintMismatchError, HeadError, LatentError
from xlsdk.geometry import GEOMETRY_VERSION
from xlsdk.hand import Hand
from xlsdk.hand_spec import load_hand_spec
from xlsdk.latent.core import CORE_WEIGHTS, CoreLatent
from xlsdk.latent.head_network import HeadConfig, LatentHead
from xlsdk.latent.head_file import read_head, write_head
from xlsdk.latent.head_loading import (
    clear_core_latent_cache,
    decode,
    encode,
    head_status,
    installed_core_latent,
    invalidate_heads,
    load_head,
)


def _head_for(hand: Hand, seed: int = 0) -> LatentHead:
    torch.manual_seed(seed)
    return LatentHead(HeadConfig(hand=hand.name, dof=hand.dof, lower=hand.spec.lower, upper=hand.spec.upper))


@pytest.fixture
def core_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small untrained core latent (canonical head only) installed through XLSDK_CORE_LATENT."""
    import xlsdk

    canonical = xlsdk.load_hand("canonical")
    core = CoreLatent.from_heads({"canonical": _head_for(canonical)}, {"canonical": canonical.spec.digest},
                                 {"canonical": canonical.fingers})
    directory = tmp_path / "core"
    core.save(directory)
    monkeypatch.setenv("XLSDK_CORE_LATENT", str(directory))
    clear_core_latent_cache()
    yield directory
    clear_core_latent_cache()


@pytest.fixture
def fitted(core_dir: Path, synthetic: SyntheticHand) -> Hand:
    hand = Hand(load_hand_spec(synthetic.manifest), plugin="test")
    core = installed_core_latent()
    write_head(_head_for(hand, 1), hand.head_path, hand.head_manifest_path, hand_digest=hand.spec.digest,
               fingerprint=core.fingerprint, geometry_version=GEOMETRY_VERSION, origin="fit")
    return hand


def test_core_latent_round_trip(core_dir: Path) -> None:
    core = installed_core_latent()
    again = CoreLatent.load(core_dir)
    assert again.fingerprint == core.fingerprint and len(core.fingerprint) == 64
    for name, tensor in again.canonical.state_dict().items():
        assert torch.equal(tensor, core.canonical.state_dict()[name])
    assert all(not p.requires_grad for p in core.canonical.parameters()), "the core latent is frozen"


def test_fingerprint_covers_weights_and_definitions(core_dir: Path) -> None:
    import xlsdk

    canonical = xlsdk.load_hand("canonical")
    base = installed_core_latent()
    changed_weights = CoreLatent.from_heads({"canonical": _head_for(canonical, seed=5)},
                                            {"canonical": canonical.spec.digest}, {"canonical": canonical.fingers})
    changed_digest = CoreLatent.from_heads({"canonical": base.canonical}, {"canonical": "0" * 64},
                                           {"canonical": canonical.fingers})
    assert len({base.fingerprint, changed_weights.fingerprint, changed_digest.fingerprint}) == 3


def test_edited_core_weights_are_refused(core_dir: Path) -> None:
    path = core_dir / CORE_WEIGHTS
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(LatentError, match=f"{path}: checksum mismatch"):
        CoreLatent.load(core_dir)


def test_missing_core_latent_says_how_to_make_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLSDK_CORE_LATENT", str(tmp_path / "nowhere"))
    clear_core_latent_cache()
    with pytest.raises(LatentError, match="xlsdk latent train"):
        installed_core_latent()


def test_head_loads_and_is_frozen(fitted: Hand) -> None:
    head = load_head(fitted)
    assert head.config.hand == fitted.name
    assert head_status(fitted).state == "fitted"
    z = encode(fitted, fitted.sample(4).numpy())
    assert z.shape == (4, 32)
    q = decode(fitted, z)
    assert ((q >= fitted.lower().numpy() - 1e-6) & (q <= fitted.upper().numpy() + 1e-6)).all()


def test_missing_head(core_dir: Path, synthetic: SyntheticHand) -> None:
    hand = Hand(load_hand_spec(synthetic.manifest), plugin="test")
    assert head_status(hand).state == "none"
    with pytest.raises(HeadError, match=f"{hand.head_path}: missing.*xlsdk fit"):
        load_head(hand)


def test_truncated_head_is_refused_naming_the_file(fitted: Hand) -> None:
    data = fitted.head_path.read_bytes()
    fitted.head_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(HeadError, match=f"{fitted.head_path}: checksum mismatch"):
        load_head(fitted)
    assert head_status(fitted).state == "corrupt"


def test_head_with_bad_shapes_is_refused(fitted: Hand) -> None:
    from safetensors.torch import save_file

    manifest = json.loads(fitted.head_manifest_path.read_text())
    wrong = LatentHead(HeadConfig(hand=fitted.name, dof=fitted.dof, hidden=(16, 16), lower=fitted.spec.lower,
                                  upper=fitted.spec.upper))
    save_file({k: v.contiguous() for k, v in wrong.named_parameters()}, str(fitted.head_path))
    import hashlib

    manifest["sha256"] = hashlib.sha256(fitted.head_path.read_bytes()).hexdigest()
    fitted.head_manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(HeadError, match="bad shapes"):
        load_head(fitted)


def test_head_for_another_latent_is_a_fingerprint_mismatch(fitted: Hand) -> None:
    manifest = json.loads(fitted.head_manifest_path.read_text())
    manifest["latent_fingerprint"] = "f" * 64
    fitted.head_manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(FingerprintMismatchError, match="fitted against core latent ffffffffffff"):
        load_head(fitted)
    status = head_status(fitted)
    assert status.state == "fingerprint mismatch" and "xlsdk fit" in status.detail


def test_head_for_an_edited_urdf_is_stale(fitted: Hand, synthetic: SyntheticHand) -> None:
    text = synthetic.urdf.read_text()
    synthetic.urdf.write_text(text.replace('upper="1.7"', 'upper="1.5"', 1))
    edited = Hand(load_hand_spec(synthetic.manifest), plugin="test")
    with pytest.raises(HeadError, match="different version"):
        load_head(edited)
    assert head_status(edited).state == "stale"


def test_cosmetic_urdf_edit_keeps_the_head(fitted: Hand, synthetic: SyntheticHand) -> None:
    synthetic.urdf.write_text(synthetic.urdf.read_text().replace("<robot", "<!-- reviewed by the vendor -->\n<robot", 1))
    assert head_status(Hand(load_hand_spec(synthetic.manifest), plugin="test")).state == "fitted"


def test_invalid_head_manifest(fitted: Hand) -> None:
    fitted.head_manifest_path.write_text("{not json")
    with pytest.raises(HeadError, match=f"{fitted.head_manifest_path}: not a valid head manifest"):
        load_head(fitted)


def test_no_pickle_anywhere() -> None:
    """Weights load only through safetensors: no torch.load / pickle in the package."""
    root = Path(__import__("xlsdk").__file__).parent
    for source in root.rglob("*.py"):
        text = source.read_text()
        assert "torch.load(" not in text, source
        assert "import pickle" not in text, source


def test_read_head_checks_the_hand_name(fitted: Hand) -> None:
    with pytest.raises(HeadError, match="not 'other'"):
        read_head(fitted.head_path, fitted.head_manifest_path, expected_hand="other", hand_digest=fitted.spec.digest,
                  fingerprint=installed_core_latent().fingerprint, dof=fitted.dof)


def _edit_manifest(hand: Hand, **config: object) -> None:
    manifest = json.loads(hand.head_manifest_path.read_text())
    manifest["config"].update(config)
    hand.head_manifest_path.write_text(json.dumps(manifest))


@pytest.mark.parametrize(("edit", "field"), [
    ({"hidden": []}, "config.hidden"),
    ({"hidden": [64, -5, 64]}, "config.hidden"),
    ({"lower": [0.0]}, "config.lower has 1 values"),
    ({"dof": 0}, "config.dof"),
    ({"latent_dim": -3}, "config.latent_dim"),
])
def test_impossible_head_config_is_corrupt_for_that_hand_only(fitted: Hand, edit: dict, field: str) -> None:
    """A hand-edited head.json is refused naming the file and field, and never crashes head_status."""
    _edit_manifest(fitted, **edit)
    with pytest.raises(HeadError, match=f"{fitted.head_manifest_path}: not a valid head manifest .*{field}") as info:
        load_head(fitted)
    assert info.value.reason == "corrupt"
    status = head_status(fitted)
    assert status.state == "corrupt" and str(fitted.head_manifest_path) in status.detail
    import xlsdk

    assert head_status(xlsdk.load_hand("canonical")).state == "fitted", "other hands are unaffected"


def test_head_limits_must_be_the_hands(fitted: Hand) -> None:
    """config.lower/upper are outside the sha256: a head squashing into other limits is refused."""
    head = load_head(fitted)
    _edit_manifest(fitted, upper=[10.0] * fitted.dof)
    with pytest.raises(HeadError, match=rf"field `config.upper`: joint '{fitted.joint_names[0]}' is 10.0") as info:
        load_head(fitted)
    assert info.value.reason == "mismatch"
    assert head_status(fitted).state == "corrupt"
    assert head is not None, "the head loaded before the edit; the cache did not hide the edit"


@pytest.mark.parametrize("value", [float("nan"), 1e30])
def test_non_finite_head_weights_are_refused(fitted: Hand, value: float) -> None:
    import hashlib

    from safetensors.torch import load_file, save_file

    tensors = load_file(str(fitted.head_path))
    tensors["encoder.0.weight"] = torch.full_like(tensors["encoder.0.weight"], value)
    tensors["decoder.0.weight"] = torch.full_like(tensors["decoder.0.weight"], value)
    save_file(tensors, str(fitted.head_path))
    manifest = json.loads(fitted.head_manifest_path.read_text())
    manifest["sha256"] = hashlib.sha256(fitted.head_path.read_bytes()).hexdigest()
    fitted.head_manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(HeadError, match=f"{fitted.head_path}: tensor 'decoder.0.weight' holds "
                                        "(NaN or infinite values|values up to 1e\\+30)"):
        load_head(fitted)
    assert head_status(fitted).state == "corrupt"


def test_parameter_shapes_are_the_modules() -> None:
    """head_status checks tensor shapes without torch, from the config: it must agree with LatentHead."""
    from xlsdk.latent.manifests import parameter_shapes

    for hidden in ((64, 128, 64), (16,), (8, 24)):
        for skip in (False, True):
            config = HeadConfig(hand="h", dof=5, latent_dim=7, hidden=hidden, lower=(0.0,) * 5, upper=(1.0,) * 5,
                                linear_skip=skip)
            assert parameter_shapes(config) == {n: tuple(p.shape) for n, p in LatentHead(config).named_parameters()}


def test_linear_skip_option_is_backwards_compatible() -> None:
    """Off, a head config serialises exactly as before the option existed (the core fingerprint hashes that
    JSON, so an extra key would stale every fitted head); on, it round-trips through head.json."""
    config = HeadConfig(hand="h", dof=3, lower=(0.0,) * 3, upper=(1.0,) * 3)
    assert "linear_skip" not in config.model_dump(mode="json")
    assert "linear_skip" not in json.loads(config.model_dump_json())
    with_skip = config.model_copy(update={"linear_skip": True})
    assert HeadConfig.model_validate_json(with_skip.model_dump_json()) == with_skip
    assert HeadConfig.model_validate_json(config.model_dump_json()).linear_skip is False


def test_skip_head_starts_as_the_identity() -> None:
    """A fitted head starts with an exact round trip (within the limits, at the limits too) and keeps the
    decoder's promise of never leaving the joint range; a head without the skip paths cannot start so."""
    from xlsdk.latent.head_network import start_as_identity

    lower, upper = (-0.5, 0.0, -1.2, 0.1), (0.5, 1.6, 0.3, 2.0)
    head = LatentHead(HeadConfig(hand="h", dof=4, lower=lower, upper=upper, linear_skip=True))
    start_as_identity(head, torch.Generator().manual_seed(0))
    low, high = torch.tensor(lower), torch.tensor(upper)
    q = torch.cat([low + (high - low) * torch.rand(64, 4, generator=torch.Generator().manual_seed(1)),
                   low[None], high[None]])
    with torch.no_grad():
        assert torch.allclose(head(q), q, atol=1e-5)
        far = head.decode(100.0 * torch.randn(32, head.config.latent_dim))
    assert ((far >= low) & (far <= high)).all()
    with pytest.raises(ValueError, match="linear_skip"):
        start_as_identity(LatentHead(HeadConfig(hand="h", dof=4, lower=lower, upper=upper)), torch.Generator())


def test_skip_head_file_round_trip(core_dir: Path, synthetic: SyntheticHand) -> None:
    """A head with the skip paths is written, verified (tensor names and shapes from its config) and read back."""
    hand = Hand(load_hand_spec(synthetic.manifest), plugin="test")
    core = installed_core_latent()
    torch.manual_seed(2)
    head = LatentHead(HeadConfig(hand=hand.name, dof=hand.dof, lower=hand.spec.lower, upper=hand.spec.upper,
                                 linear_skip=True))
    write_head(head, hand.head_path, hand.head_manifest_path, hand_digest=hand.spec.digest,
               fingerprint=core.fingerprint, geometry_version=GEOMETRY_VERSION, origin="fit")
    loaded = load_head(hand)
    assert loaded.config.linear_skip and torch.equal(loaded.joints_skip.weight, head.joints_skip.weight)
    assert head_status(hand).state == "fitted"


def test_head_status_needs_no_torch() -> None:
    """`xlsdk hands` reports every head's state; that must not import torch (startup)."""
    import subprocess
    import sys

    code = ("import sys, xlsdk\nfrom xlsdk.latent.head_loading import head_status\n"
            "states = {n: head_status(xlsdk.load_hand(n)).state for n in xlsdk.hands(include_core=True)}\n"
            "assert set(states.values()) == {'fitted'}, states\n"
            "assert 'torch' not in sys.modules, 'head_status imported torch'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_refitted_head_is_not_served_from_the_cache(fitted: Hand) -> None:
    first = load_head(fitted)
    assert load_head(fitted) is first, "cached while the files are unchanged"
    core = installed_core_latent()
    write_head(_head_for(fitted, 9), fitted.head_path, fitted.head_manifest_path, hand_digest=fitted.spec.digest,
               fingerprint=core.fingerprint, geometry_version=GEOMETRY_VERSION, origin="fit")
    second = load_head(fitted)
    assert second is not first
    assert not torch.equal(second.to_mean.weight, first.to_mean.weight)
    invalidate_heads(fitted)
    assert load_head(fitted) is not second, "invalidate_heads drops the hand's cached head"


def test_a_versioned_head_placed_after_a_load_is_the_one_used(fitted: Hand) -> None:
    """load_head answers a hand it verified before from the files' stats alone; a ``heads/<fingerprint>/``
    folder that appears later (a plugin upgraded in place) is among them, so it takes over at once, and
    removing it brings the top-level head back."""
    from xlsdk.hand import HEAD_FILENAME, HEAD_MANIFEST_FILENAME, HEADS_DIRNAME

    top = load_head(fitted)
    core = installed_core_latent()
    folder = fitted.head_dir / HEADS_DIRNAME / core.fingerprint
    folder.mkdir(parents=True)
    write_head(_head_for(fitted, 11), folder / HEAD_FILENAME, folder / HEAD_MANIFEST_FILENAME,
               hand_digest=fitted.spec.digest, fingerprint=core.fingerprint, geometry_version=GEOMETRY_VERSION,
               origin="fit")
    versioned = load_head(fitted)
    assert versioned is not top and not torch.equal(versioned.to_mean.weight, top.to_mean.weight)
    assert load_head(fitted) is versioned
    shutil.rmtree(folder)
    assert torch.equal(load_head(fitted).to_mean.weight, top.to_mean.weight)


def test_a_head_file_changed_in_place_is_read_again(fitted: Hand) -> None:
    """The cache checks the files' stat before their sha256: a manifest edited in place (same inode) must not be
    served from it."""
    load_head(fitted)
    text = fitted.head_manifest_path.read_text()
    tampered = text.replace('"sha256": "', '"sha256": "0', 1)  # the weights' recorded digest, now wrong
    assert tampered != text
    with fitted.head_manifest_path.open("r+") as handle:  # in place: no rename, the inode stays
        handle.write(tampered)
    with pytest.raises(HeadError):
        load_head(fitted)


def test_head_error_reasons_drive_the_status(fitted: Hand) -> None:
    fitted.head_path.unlink()
    with pytest.raises(HeadError) as info:
        load_head(fitted)
    assert info.value.reason == "missing" and head_status(fitted).state == "corrupt"
