"""The numpy evaluators of frozen heads give the torch heads' answers (they are faster, not different)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xlsdk
from xlsdk.latent.fast_head import NumpyHead, StackedDecoders
from xlsdk.latent.head_loading import load_head

# the four reference hands (canonical heads of the core latent) and the human hand (a fitted head with
# linear skips): both head kinds, 6 to 21+ joints
HANDS = ("inspire", "ability", "xhand", "paxini", "human")


@pytest.mark.parametrize("name", HANDS)
def test_numpy_head_matches_the_torch_head(name: str) -> None:
    hand = xlsdk.load_hand(name)
    head = load_head(hand)
    fast = NumpyHead(head)
    rng = np.random.default_rng(3)
    lower, upper = np.asarray(hand.spec.lower), np.asarray(hand.spec.upper)
    q = lower + rng.uniform(size=(7, hand.dof)) * (upper - lower)
    q[0] = lower  # the limits themselves (the skip's atanh at its clamp)
    with torch.inference_mode():
        z_torch = head.encode(torch.as_tensor(q, dtype=torch.float32)).numpy()
        back_torch = head.decode(torch.as_tensor(z_torch)).numpy()
    np.testing.assert_allclose(fast.encode(q), z_torch, atol=2e-4)
    np.testing.assert_allclose(fast.decode(z_torch), back_torch, atol=2e-4)


def test_stacked_decoders_give_each_hand_its_own_decode() -> None:
    hands = [xlsdk.load_hand(name) for name in HANDS]
    fast = {hand.name: NumpyHead(load_head(hand)) for hand in hands}
    z = np.random.default_rng(5).normal(size=(3, len(fast["inspire"].encode(np.zeros((1, hands[0].dof)))[0])))
    stacked = StackedDecoders(fast).decode(z)
    assert set(stacked) == set(HANDS)
    for hand in hands:
        assert stacked[hand.name].shape == (3, hand.dof)
        np.testing.assert_allclose(stacked[hand.name], fast[hand.name].decode(z), atol=1e-12)
