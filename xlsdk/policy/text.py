"""Language without a pretrained tokenizer: hashed words.

No model may be downloaded at run time, so instructions are lower-cased, split into words and hashed
into a fixed number of buckets (crc32, stable across processes and machines); the policy learns an
embedding per bucket. Enough to tell "pinch the small cube" from "hook the handle"; a VLA backbone
with a real tokenizer plugs in where its weights are available.
"""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

import torch

_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=4096)
def _token_ids(text: str, buckets: int) -> tuple[int, ...]:
    """One instruction's bucket ids, hashed once: a training batch repeats the same few instructions hundreds
    of times, and rehashing them every step cost the physics benchmark's training about 2 % of its CPU."""
    words = _WORD.findall(text.lower()) or ["<empty>"]
    return tuple(zlib.crc32(word.encode()) % buckets for word in words)


def hash_words(texts: list[str], buckets: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(token ids, offsets) for ``torch.nn.EmbeddingBag`` over ``texts``."""
    ids: list[int] = []
    offsets: list[int] = []
    for text in texts:
        offsets.append(len(ids))
        ids.extend(_token_ids(text, buckets))
    return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)
