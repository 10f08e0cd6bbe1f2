"""Accept numpy or torch at the public API, compute in torch, answer in the caller's kind.

Researchers hand us numpy arrays from datasets and torch tensors from training loops; the math is
torch either way. :func:`as_batch` converts (remembering what came in) and :func:`answer` converts back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from xlsdk.errors import ShapeError


@dataclass(frozen=True)
class InputKind:
    """How an argument arrived: numpy or torch, batched or a single vector, and its dtype."""

    numpy: bool
    single: bool
    dtype: torch.dtype | np.dtype


def as_batch(x: np.ndarray | torch.Tensor | list, *, width: int, what: str, dtype: torch.dtype = torch.float32,
             device: torch.device | str | None = None) -> tuple[torch.Tensor, InputKind]:
    """``x`` as a ``(B, width)`` floating tensor; a 1-D input becomes a batch of one.

    Integer inputs are promoted to ``dtype``; floating torch inputs keep their dtype and device unless
    ``device`` is given. Raises :class:`~xlsdk.errors.ShapeError` (a ValueError too) naming ``what`` on a
    wrong width or rank.
    """
    if isinstance(x, torch.Tensor):
        kind = InputKind(numpy=False, single=x.ndim == 1, dtype=x.dtype)
        tensor = x if torch.is_floating_point(x) else x.to(dtype)
        if device is not None:
            tensor = tensor.to(device)
    else:
        array = np.asarray(x)
        kind = InputKind(numpy=True, single=array.ndim == 1, dtype=array.dtype)
        target = torch.float64 if array.dtype == np.float64 else dtype
        tensor = torch.as_tensor(array, dtype=target, device=device)
    if tensor.ndim == 1:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim != 2 or tensor.shape[-1] != width:
        raise ShapeError(f"{what}: expected shape (B, {width}) or ({width},), got {tuple(tensor.shape)}")
    return tensor, kind


def answer(tensor: torch.Tensor, kind: InputKind) -> np.ndarray | torch.Tensor:
    """Convert a batched result back to what the caller passed in (numpy stays numpy, 1-D stays 1-D)."""
    out = tensor[0] if kind.single else tensor
    if kind.numpy:
        return out.detach().cpu().numpy()
    return out
