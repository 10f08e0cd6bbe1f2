"""What every xlsdk training loop shares: seeding, initialisation, the learning-rate schedule, clipping.

Core-latent training, head fitting and policy training are three loops with the same habits, kept
here once so that they cannot drift apart:

* **Seeding without side effects.** A library call must not reset the caller's global torch RNG (a
  research script seeds it once and expects its own stream). Every random draw goes through a local
  :func:`generator`; modules are built under :func:`global_rng_untouched` (torch's constructors draw
  their default init from the global RNG; those draws are undone) and their weights drawn by
  :func:`init_parameters`, which re-runs torch's default initialisation of each layer from the local
  generator. The caller's random stream continues as if xlsdk had not run.
* **One schedule.** :func:`cosine_schedule`: cosine decay from the base rate to ``floor`` times it
  over ``total`` steps, then flat.
* **One clip.** :func:`clip_gradients` at :data:`GRAD_CLIP` (global L2 norm).
* **Threads set for a block, then given back.** :func:`torch_threads`: small-batch work (a head fit,
  a few IK poses) runs faster on one intra-op thread than on two busy cores, and the caller's setting
  comes back afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch import nn

#: max global L2 norm of the gradients, every loop
GRAD_CLIP = 5.0
#: final learning rate as a fraction of the base rate, every loop
LR_FLOOR = 0.05


def generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (draw on the CPU, then move: generators are per device)."""
    import torch

    return torch.Generator().manual_seed(int(seed))


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch intra-op threads (None: as is), restoring the caller's setting."""
    if threads is None:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextmanager
def global_rng_untouched() -> Iterator[None]:
    """Undo whatever the block draws from the global CPU RNG (module constructors' default init)."""
    import torch

    with torch.random.fork_rng(devices=[]):
        yield


def init_parameters(modules: Iterable[nn.Module], generator: torch.Generator) -> None:
    """Draw every Linear/Conv/Embedding weight of ``modules`` (in order) from ``generator``.

    Each layer gets torch's own default initialisation (``reset_parameters``: Kaiming-uniform weights,
    fan-in uniform biases, N(0, 1) embeddings), so a model initialised here is distributed exactly like
    a freshly constructed one, but reproducibly and without drawing from the global RNG. Normalisation
    layers keep their constant init (ones, zeros); lazy layers must be materialised first.
    """
    import torch
    from torch import nn

    with torch.no_grad():
        for root in modules:
            for module in root.modules():
                if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                    nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                    if module.bias is not None:
                        fan_in, _ = nn.init._calculate_fan_in_and_fan_out(module.weight)
                        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                        nn.init.uniform_(module.bias, -bound, bound, generator=generator)
                elif isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
                    nn.init.normal_(module.weight, generator=generator)


def cosine_factor(step: int, total: int, floor: float = LR_FLOOR) -> float:
    """The learning-rate multiplier at ``step`` of ``total``: 1 -> ``floor`` along a half cosine."""
    progress = min(step / max(total, 1), 1.0)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def cosine_schedule(optimizer: torch.optim.Optimizer, total: int, floor: float = LR_FLOOR
                    ) -> torch.optim.lr_scheduler.LambdaLR:
    """A scheduler stepping :func:`cosine_factor` once per optimisation step."""
    import torch

    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: cosine_factor(step, total, floor))


def clip_gradients(parameters: Iterable[torch.Tensor], *, accelerator: Any = None,
                   max_norm: float = GRAD_CLIP) -> torch.Tensor:
    """Clip the global gradient norm (through ``accelerator`` when training under accelerate)."""
    import torch

    if accelerator is not None:
        return accelerator.clip_grad_norm_(parameters, max_norm)
    return torch.nn.utils.clip_grad_norm_(parameters, max_norm)


def normal_like(tensor: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Standard normal noise shaped like ``tensor`` on its device, drawn from a CPU ``generator``."""
    import torch

    return torch.randn(tensor.shape, generator=generator, dtype=tensor.dtype).to(tensor.device)


def resolve_device(device: str) -> torch.device:
    """``auto`` | ``cpu`` | ``cuda[:N]`` -> the torch device every training loop runs on.

    ``auto`` takes a GPU when torch sees one. An explicit ``cuda`` on a machine without one is an error
    with the fix, not a silent fall-back to the CPU: a run asked to use the GPU that quietly takes ten
    times as long is a worse surprise than a refusal.
    """
    import torch

    from xlsdk.errors import DeviceError

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError):
        raise DeviceError(f"device must be auto, cpu or cuda, got {device!r}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"training on {device} was asked for, but torch sees no CUDA device",
                          hint="train on auto or cpu, or install a CUDA build of torch on a machine with a GPU")
    if resolved.type not in ("cpu", "cuda"):
        raise DeviceError(f"device must be auto, cpu or cuda, got {device!r}")
    return resolved
