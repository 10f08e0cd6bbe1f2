"""Shared fixtures: a fresh plugin host per test that asks for one, and generated hands."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # tests import their helpers (synthetic_hands) by name

# one intra-op thread per pytest-xdist worker (`make test` runs a worker per core; more threads would only
# contend), else up to 2
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else max(1, min(2, torch.get_num_threads())))

from synthetic_hands import SyntheticHand, write_synthetic_hand  # noqa: E402

from xlsdk.plugins import PluginHost, get_plugin_host, reset_plugin_host  # noqa: E402

REFERENCE_DOF = {"inspire": 6, "ability": 6, "xhand": 12, "paxini": 13}
#: every hand the repository's plugins install: the reference robot hands and the human hand (a source)
INSTALLED_DOF = {**REFERENCE_DOF, "human": 21}


@pytest.fixture
def fresh_host() -> Iterator[PluginHost]:
    """A new host with the installed entry points; the process-wide host is restored afterwards."""
    previous = reset_plugin_host()
    host = get_plugin_host()
    try:
        yield host
    finally:
        reset_plugin_host(previous)


@pytest.fixture
def synthetic(tmp_path: Path) -> SyntheticHand:
    return write_synthetic_hand(tmp_path / "synth")


class HandPlugin:
    """An in-memory plugin registering hand manifests (the way tests add hands without installing)."""

    def __init__(self, *manifests: Path) -> None:
        self.manifests = manifests

    def xlsdk_register_hands(self, register):  # noqa: ANN001 - hook signature
        for manifest in self.manifests:
            register(manifest)


@pytest.fixture
def hand_plugin() -> type[HandPlugin]:
    return HandPlugin
