"""Timing one call at a time, shared by the benchmarks that compare a stream against a peer.

The retargeting benchmarks time the same thing many ways: a prepared stream answering one pose or
keypoint frame per call, a peer solving one frame per call, a batch in one call. Each of those loops
once had its own ``perf_counter`` arithmetic; here is the one that all of them use, so every rate and
latency in a table is measured the same way (``time.perf_counter`` around each call, nothing else
inside the timed span).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

Item = TypeVar("Item")
Answer = TypeVar("Answer")


@dataclass(frozen=True)
class Calls(Generic[Answer]):
    """The answers of a run of calls and the seconds each call took."""

    answers: list[Answer]
    seconds: np.ndarray

    @property
    def per_second(self) -> float:
        """Calls per second over the whole run (total calls / total time)."""
        return len(self.answers) / max(float(self.seconds.sum()), 1e-9)

    @property
    def median_ms(self) -> float:
        """The median call in milliseconds (robust to the odd slow call on a shared machine)."""
        return float(np.median(self.seconds) * 1000.0)


def one_at_a_time(call: Callable[[Item], Answer], items: Iterable[Item]) -> Calls[Answer]:
    """``call`` on every item in turn, each call timed on its own."""
    answers, seconds = [], []
    for item in items:
        start = time.perf_counter()
        answers.append(call(item))
        seconds.append(time.perf_counter() - start)
    return Calls(answers, np.asarray(seconds))


def sessions(call: Callable[[Item], np.ndarray], recordings: Sequence[Sequence[Item]],
             reset: Callable[[int], None]) -> tuple[list[np.ndarray], float]:
    """A stream over several recordings, ``reset(i)`` before recording ``i`` (a new person, a new session).

    Returns the stacked answers of each recording and the calls per second over all of them (the
    resets are not timed).
    """
    answers, seconds = [], []
    for index, recording in enumerate(recordings):
        reset(index)
        calls = one_at_a_time(call, recording)
        answers.append(np.stack(calls.answers))
        seconds.append(calls.seconds)
    total = np.concatenate(seconds)
    return answers, rate(len(total), float(total.sum()))


def timed(work: Callable[[], Answer]) -> tuple[Answer, float]:
    """``work()``'s answer and the seconds it took (a batch in one call)."""
    start = time.perf_counter()
    answer = work()
    return answer, time.perf_counter() - start


def rate(count: int, seconds: float) -> float:
    """``count`` items in ``seconds`` as items per second."""
    return count / max(seconds, 1e-9)
