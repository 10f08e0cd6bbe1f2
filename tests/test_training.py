"""xlsdk/training.py: what every training loop shares, and that library training leaves the caller's RNG alone."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import xlsdk
from xlsdk.training import GRAD_CLIP, clip_gradients, cosine_factor, cosine_schedule, generator, init_parameters


def test_init_parameters_is_torch_default_init_from_a_local_generator() -> None:
    """Same weights as constructing after torch.manual_seed(seed), and the global RNG is not touched."""
    torch.manual_seed(11)
    reference = nn.Sequential(nn.Linear(5, 7), nn.LayerNorm(7), nn.Conv2d(3, 4, 3), nn.EmbeddingBag(10, 3))
    model = nn.Sequential(nn.Linear(5, 7), nn.LayerNorm(7), nn.Conv2d(3, 4, 3), nn.EmbeddingBag(10, 3))
    before = torch.get_rng_state()
    init_parameters([model], generator(11))
    assert torch.equal(torch.get_rng_state(), before), "the global RNG is left alone"
    for (name, mine), theirs in zip(model.state_dict().items(), reference.state_dict().values(), strict=True):
        assert torch.equal(mine, theirs), name


def test_cosine_schedule_runs_from_one_to_the_floor() -> None:
    assert cosine_factor(0, 100) == 1.0
    assert math.isclose(cosine_factor(50, 100), 0.05 + 0.95 * 0.5)
    assert math.isclose(cosine_factor(100, 100), 0.05) and math.isclose(cosine_factor(500, 100), 0.05)
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=2.0)
    schedule = cosine_schedule(optimizer, 10, floor=0.1)
    rates = []
    for _ in range(10):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert rates[0] == 2.0 and all(a > b for a, b in zip(rates, rates[1:], strict=False))
    assert math.isclose(optimizer.param_groups[0]["lr"], 0.2)


def test_clip_gradients_bounds_the_global_norm() -> None:
    weight = nn.Parameter(torch.zeros(4))
    weight.grad = torch.full((4,), 100.0)
    norm = clip_gradients([weight])
    assert math.isclose(float(norm), 200.0) and math.isclose(float(weight.grad.norm()), GRAD_CLIP, rel_tol=1e-5)


@pytest.mark.parametrize("what", ["core latent heads", "policy weights"])
def test_library_training_does_not_touch_the_global_rng(what: str) -> None:
    """A research script seeds torch once; xlsdk's training calls must not re-seed or consume its stream."""
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    if what == "core latent heads":
        from xlsdk.latent.train import build_heads

        hands = {name: xlsdk.load_hand(name) for name in ("canonical", "inspire")}
        first, again = build_heads(hands, 8, (16,), seed=5), build_heads(hands, 8, (16,), seed=5)
        assert torch.equal(first["inspire"].to_mean.weight, again["inspire"].to_mean.weight), "seeded"
    else:
        from xlsdk.policy.train import TrainingSet, make_config, train_policy

        config = make_config("latent")
        n, k = 4, config.action_dim
        data = TrainingSet(images=torch.zeros(n, 3, 48, 48), tasks=["open the hand"] * n,
                           states=torch.zeros(n, config.history, k), actions=torch.zeros(n, config.chunk_size, k),
                           pads=torch.zeros(n, config.chunk_size, dtype=torch.bool), hands=["inspire"] * n, fps=10.0,
                           frames_per_episode=n)
        first, _, _ = train_policy(data, config, steps=2, batch_size=2, seed=3, progress=False, device="cpu")
        again, _, _ = train_policy(data, config, steps=2, batch_size=2, seed=3, progress=False, device="cpu")
        for (name, mine), theirs in zip(first.state_dict().items(), again.state_dict().values(), strict=True):
            assert torch.equal(mine, theirs), f"{name}: same seed, same policy"
    assert torch.equal(torch.rand(3), expected), f"{what}: the caller's random stream continued unchanged"
