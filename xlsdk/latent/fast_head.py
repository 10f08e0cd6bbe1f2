"""A frozen head's encode and decode for one pose at a time, in plain numpy.

A teleoperation loop encodes one pose and decodes it into several hands every frame. Through torch
each of those tiny MLP passes pays the module machinery (hooks, inference mode, tensor wrapping) on
every layer, which measured about half of a frame's time for four hands; the arithmetic itself is a
few matrix-vector products. :class:`NumpyHead` reads a frozen :class:`~xlsdk.latent.head_network.LatentHead`'s
weights once into float64 arrays and runs the same layers (Linear, LayerNorm, SiLU, the linear skips,
the squash) as numpy calls. It is a faster evaluator of the same head, not another model: its answers
match the torch head's to float32 rounding (tested), and batched work stays on torch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from xlsdk.latent.head_network import _SQUASH_GAIN, LatentHead

# weight.T and bias with LayerNorm's centring folded in, norm gain, norm bias, eps, the (h, 1) averaging column
_Block = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, np.ndarray]


def _array(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().cpu().double().numpy().copy()


def _blocks(mlp: nn.Sequential) -> list[_Block]:
    """(Linear, LayerNorm, SiLU) triples of :func:`xlsdk.latent.head_network._mlp` as arrays.

    LayerNorm subtracts each row's mean, a linear map of the Linear's output: folded into the Linear's
    weight and bias once here, it costs no numpy call per pass.
    """
    layers = list(mlp)
    blocks = []
    for linear, norm in zip(layers[0::3], layers[1::3], strict=True):
        if not (isinstance(linear, nn.Linear) and isinstance(norm, nn.LayerNorm)):
            raise TypeError(f"a head block must be Linear then LayerNorm, got {linear!r}, {norm!r}")
        weight, bias = _array(linear.weight).T, _array(linear.bias)
        width = weight.shape[1]
        blocks.append(((weight - weight.mean(axis=1, keepdims=True)).copy(), bias - bias.mean(), _array(norm.weight),
                       _array(norm.bias), float(norm.eps), np.full((width, 1), 1.0 / width)))
    return blocks


def _run(blocks: list[_Block], x: np.ndarray) -> np.ndarray:
    for weight, bias, gain, shift, eps, average in blocks:
        centred = x @ weight + bias  # the Linear, already minus its row mean (see _blocks)
        # the variance as a product with the averaging column: np.mean's overhead dominated
        x = centred * (gain / np.sqrt((centred * centred) @ average + eps)) + shift
        x = x / (1.0 + np.exp(-x))  # SiLU
    return x


class NumpyHead:
    """Encode/decode of a frozen head for a few poses ``(B, dof)`` / latents ``(B, k)``, float64 numpy."""

    def __init__(self, head: LatentHead) -> None:
        self.lower, self.upper = _array(head.lower), _array(head.upper)
        self._span = self.upper - self.lower
        self._encoder = _blocks(head.encoder)
        self._mean = (_array(head.to_mean.weight).T.copy(), _array(head.to_mean.bias))
        self._decoder = _blocks(head.decoder)
        self._joints = (_array(head.to_joints.weight).T.copy(), _array(head.to_joints.bias))
        self._skip = head.config.linear_skip
        if self._skip:
            self._mean_skip = (_array(head.mean_skip.weight).T.copy(), _array(head.mean_skip.bias))
            self._joints_skip = (_array(head.joints_skip.weight).T.copy(), _array(head.joints_skip.bias))

    def encode(self, q: np.ndarray) -> np.ndarray:
        """The posterior mean (the latent) of joint vectors ``q`` ``(B, dof)``."""
        u = 2.0 * (np.asarray(q, dtype=np.float64) - self.lower) / self._span - 1.0
        weight, bias = self._mean
        mean = _run(self._encoder, u) @ weight + bias
        if self._skip:
            weight, bias = self._mean_skip
            mean = mean + np.arctanh(np.clip(u, -1.0, 1.0) / _SQUASH_GAIN) @ weight + bias
        return mean

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Joint vectors ``(B, dof)`` inside the limits for latents ``z`` ``(B, k)``."""
        z = np.asarray(z, dtype=np.float64)
        weight, bias = self._joints
        pre = _run(self._decoder, z) @ weight + bias
        if self._skip:
            weight, bias = self._joints_skip
            pre = pre + z @ weight + bias
        u = np.clip(_SQUASH_GAIN * np.tanh(pre), -1.0, 1.0)
        return self.lower + (u + 1.0) * 0.5 * self._span


class StackedDecoders:
    """One latent decoded into several hands at once: their decoders' layers stacked into batched products.

    Decoding one frame into four hands is four small MLPs; their layers have the same widths (the
    hidden sizes of the core latent's heads), so stacking them turns about a hundred numpy calls into
    a few dozen. Hands whose decoders differ in shape go to separate stacks; output rows are padded to
    the largest hand's joints and cut back per hand.
    """

    def __init__(self, heads: dict[str, NumpyHead]) -> None:
        self._groups: list[tuple[list[str], list[_Block], np.ndarray, np.ndarray, np.ndarray | None,
                                 np.ndarray | None, np.ndarray, np.ndarray, list[int]]] = []
        shapes: dict[tuple, list[str]] = {}
        for name, head in heads.items():
            key = (tuple(block[0].shape for block in head._decoder), head._skip)
            shapes.setdefault(key, []).append(name)
        for names, members in ((names, [heads[n] for n in names]) for names in shapes.values()):
            blocks = [(np.stack([m._decoder[i][0] for m in members]),
                       *(np.stack([m._decoder[i][part] for m in members])[:, None] for part in (1, 2, 3)),
                       members[0]._decoder[i][4], members[0]._decoder[i][5]) for i in range(len(members[0]._decoder))]
            dofs = [len(m.lower) for m in members]
            width = max(dofs)

            def pad(arrays: list[np.ndarray], fill: float = 0.0) -> np.ndarray:
                return np.stack([np.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, width - a.shape[-1])], constant_values=fill)
                                 for a in arrays])

            joints_w = pad([m._joints[0] for m in members])
            joints_b = pad([m._joints[1][None] for m in members])
            skip_w = pad([m._joints_skip[0] for m in members]) if members[0]._skip else None
            skip_b = pad([m._joints_skip[1][None] for m in members]) if members[0]._skip else None
            lower = pad([m.lower[None] for m in members])
            span = pad([m._span[None] for m in members])
            self._groups.append((names, blocks, joints_w, joints_b, skip_w, skip_b, lower, span, dofs))  # type: ignore[arg-type]

    def decode(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Joint vectors ``(B, dof)`` of every hand for latents ``z`` ``(B, k)``."""
        z = np.asarray(z, dtype=np.float64)[None]
        answers = {}
        for names, blocks, joints_w, joints_b, skip_w, skip_b, lower, span, dofs in self._groups:
            x = _run(blocks, z)  # (G, B, h): matmul broadcasts the stacked weights
            pre = x @ joints_w + joints_b
            if skip_w is not None:
                pre = pre + z @ skip_w + skip_b
            q = lower + (np.clip(_SQUASH_GAIN * np.tanh(pre), -1.0, 1.0) + 1.0) * 0.5 * span
            answers.update({name: q[i, :, :dof] for i, (name, dof) in enumerate(zip(names, dofs, strict=True))})
        return answers
