"""The shared boundary helpers: one pydantic error formatter, one device resolver."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from xlsdk.errors import DeviceError, XlsdkError, validation_problems
from xlsdk.training import resolve_device


class _Inner(BaseModel):
    rate: float


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    inner: _Inner
    steps: int


def test_every_problem_names_its_field_path() -> None:
    with pytest.raises(ValueError) as caught:
        _Settings.model_validate({"inner": {"rate": "fast"}, "colour": 1})
    lines = validation_problems(caught.value)
    assert any(line.startswith("field `inner.rate`:") for line in lines), lines
    assert any(line.startswith("field `steps`:") for line in lines), lines
    assert any(line.startswith("field `colour`:") for line in lines), lines
    assert validation_problems(caught.value, limit=1) == lines[:1]
    worded = validation_problems(caught.value, describe=lambda e: "odd key" if e["type"] == "extra_forbidden" else None)
    assert "odd key" in worded and len(worded) == len(lines)


def test_a_plain_parse_error_is_its_first_line() -> None:
    assert validation_problems(ValueError("bad json\nat line 3")) == ["bad json"]


def test_devices() -> None:
    import torch

    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(DeviceError, match="auto, cpu or cuda"):
        resolve_device("toaster")
    if not torch.cuda.is_available():
        with pytest.raises(XlsdkError, match="no CUDA device") as caught:
            resolve_device("cuda")
        assert caught.value.hint


def test_a_broken_core_latent_manifest_names_its_field(tmp_path) -> None:
    """The core latent's manifest goes through the one formatter: the field, not "1 validation error for ..."."""
    import json
    import shutil
    from importlib.resources import files

    from xlsdk.latent.core import read_core_manifest
    from xlsdk.latent.manifests import CORE_MANIFEST, CORE_WEIGHTS

    shipped = files("xlsdk.latent") / "data"
    shutil.copyfile(str(shipped / CORE_WEIGHTS), tmp_path / CORE_WEIGHTS)
    manifest = json.loads((shipped / CORE_MANIFEST).read_text(encoding="utf-8"))
    (tmp_path / CORE_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert read_core_manifest(tmp_path).fingerprint == manifest["fingerprint"], "the copy itself is valid"
    del manifest["latent_dim"]
    (tmp_path / CORE_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(XlsdkError, match=r"not a valid core-latent manifest \(field `latent_dim`: Field required\)"):
        read_core_manifest(tmp_path)
    (tmp_path / CORE_MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(XlsdkError, match=r"not a valid core-latent manifest \(field `\(top level\)`: Invalid JSON"):
        read_core_manifest(tmp_path)
