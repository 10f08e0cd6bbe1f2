"""The benchmark's units of work, and the process pool that runs them on every core.

Every job is a top-level function of picklable arguments that returns its result and the CPU seconds
it spent, so the same job runs inline (one worker: tests, debugging), in a local process pool, or, for
demonstration shards, as a command of its own on another machine (``xlsdk bench physics-shard``).
Workers are started with ``spawn`` (no copied OpenGL context or torch thread pool), use one thread
each (two workers on two cores, not two workers fighting over four threads), and register the
zero-shot hands the parent onboarded (from the fit cache: no refit).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")

#: (corpus name, cache folder, fit steps, fit cycle weight) of every zero-shot hand a worker must register
ZeroShot = tuple[str, str, int | None, float]


def _init_worker(zero_shot: list[ZeroShot]) -> None:
    import torch

    torch.set_num_threads(1)
    from xlsdk.bench.physics.zero_shot import onboard

    for name, cache, fit_steps, cycle_weight in zero_shot:
        onboard(name, Path(cache), fit_steps=fit_steps, cycle_weight=cycle_weight)


class Pool:
    """``workers`` processes (or inline when 1), each job's CPU seconds summed per phase."""

    def __init__(self, workers: int, zero_shot: list[ZeroShot]) -> None:
        self.workers = max(1, workers)
        self.zero_shot = zero_shot
        self._executor: ProcessPoolExecutor | None = None
        self.cpu: dict[str, float] = {}
        self.jobs_cpu = 0.0  # CPU seconds of every job, wherever it ran

    def __enter__(self) -> Pool:
        if self.workers > 1:
            self._executor = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"),
                                                 initializer=_init_worker, initargs=(self.zero_shot,))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, phase: str, job: Callable[..., tuple[T, float]], calls: Iterable[tuple[Any, ...]]) -> Batch[T]:
        """Queue ``job(*args)`` for every argument tuple and return at once; :meth:`Batch.results` collects.

        A phase that does not need the one before it is submitted before that one is collected, so the
        workers go on with it while the last jobs of the other phase (or the parent's own serial work:
        merging, reading the datasets) finish, instead of idling at every phase's end. Inline (one worker)
        the jobs run when collected."""
        calls = list(calls)
        if self._executor is None:
            return Batch(self, phase, job, calls, None)
        return Batch(self, phase, job, calls, [self._executor.submit(job, *args) for args in calls])

    def map(self, phase: str, job: Callable[..., tuple[T, float]], calls: Iterable[tuple[Any, ...]],
            done: Callable[[int], None] | None = None) -> list[T]:
        """Run ``job(*args)`` for every argument tuple; results in order; CPU seconds added to ``phase``."""
        return self.submit(phase, job, calls).results(done)


class Batch(Generic[T]):
    """The jobs of one phase, queued in a :class:`Pool`; their results in order, once, from :meth:`results`."""

    def __init__(self, pool: Pool, phase: str, job: Callable[..., tuple[T, float]], calls: list[tuple[Any, ...]],
                 futures: list[Future] | None) -> None:
        self.pool, self.phase, self.job, self.calls, self.futures = pool, phase, job, calls, futures

    def __len__(self) -> int:
        return len(self.calls)

    def results(self, done: Callable[[int], None] | None = None) -> list[T]:
        if self.futures is None:
            outcomes = (self.job(*args) for args in self.calls)
        else:
            outcomes = (future.result() for future in self.futures)
        results: list[T] = []
        for index, (result, cpu) in enumerate(outcomes):
            results.append(result)
            self.pool.cpu[self.phase] = self.pool.cpu.get(self.phase, 0.0) + cpu
            self.pool.jobs_cpu += cpu
            if done:
                done(index + 1)
        return results


def default_workers() -> int:
    """Every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _timed(run: Callable[[], T]) -> tuple[T, float]:
    start = time.process_time()
    result = run()
    return result, time.process_time() - start


# --- the jobs --------------------------------------------------------------------------------------

def grasp_job(hand_name: str, tasks: tuple[str, ...],
              dart_tasks: tuple[str, ...] = ()) -> tuple[list[tuple[tuple, Any]], float]:
    """Choose the expert's grasps per task and size band (:func:`~xlsdk.bench.physics.expert.chosen_grasps`, a
    few trial episodes per option), synthesise every grasp it can need for ``tasks`` on a hand (one per
    millimetre of size) and those its grasp point is measured from, and calibrate DART's noise for the ``dart_tasks`` its demonstrations will be made of
    (:func:`~xlsdk.bench.physics.expert.dart_level`). The choices, their trials and the DART levels travel
    with the grasps, under keys of their own (``("choice", choice_key)``, ``("trials", choice_key)``,
    ``("dart", choice_key)``, with the expert's :func:`~xlsdk.bench.physics.expert.choice_key`: the hand's
    digest, not only its name)."""
    import xlsdk
    from xlsdk.bench.physics.expert import TRIALS, choice_key, chosen_grasps, dart_level, grasp_requests
    from xlsdk.bench.physics.grasp_frame import reference_requests
    from xlsdk.physics import grasps

    def run() -> list[tuple[tuple, Any]]:
        hand = xlsdk.load_hand(hand_name)
        found: dict[tuple, Any] = {}
        for task in tasks:
            choices, key = chosen_grasps(hand, task), choice_key(hand, task)
            if choices is not None:
                found[("choice", key)] = choices
            if key in TRIALS:
                found[("trials", key)] = TRIALS[key]
            for band, choice in enumerate(choices or ()):
                for kind, size, options in grasp_requests(task, choice, band):
                    key = grasps.cache_key(hand, kind, size, **options)
                    if key not in found:
                        found[key] = grasps.cached(hand, kind, size, **options)
        for kind, size, options in reference_requests(tasks):  # the grasp point's (grasp_frame)
            key = grasps.cache_key(hand, kind, size, **options)
            if key not in found:
                found[key] = grasps.cached(hand, kind, size, **options)
        for task in dart_tasks:
            found[("dart", choice_key(hand, task))] = dart_level(hand, task)
        return list(found.items())

    return _timed(run)


#: one :func:`grasp_job` call: a hand, a group of tasks (:func:`~xlsdk.bench.physics.expert.choice_groups`) and
#: those of them whose DART noise it calibrates
GraspCall = tuple[str, tuple[str, ...], tuple[str, ...]]


def grasp_calls(hands: Iterable[str], tasks: tuple[str, ...],
                dart_tasks: Callable[[str], Iterable[str]] = lambda hand: ()) -> list[GraspCall]:
    """:func:`grasp_job`'s calls for ``hands`` x ``tasks``: one per hand and group of
    :func:`~xlsdk.bench.physics.expert.choice_groups`, the heaviest group of every hand first; ``dart_tasks``
    (a hand's name -> tasks) says which of a hand's tasks get DART's calibration."""
    from xlsdk.bench.physics.expert import choice_groups

    hands, groups = list(hands), choice_groups(tasks)
    calibrated = {hand: set(dart_tasks(hand)) for hand in hands}
    return [(hand, group, tuple(t for t in group if t in calibrated[hand])) for group in groups for hand in hands]


def known_per_hand(calls: list[GraspCall], found: list[list[tuple[tuple, Any]]]) -> dict[str, list[tuple[tuple, Any]]]:
    """What :func:`grasp_job`'s ``calls`` found, put together per hand (every job of the hand hands its workers
    the lot: its grasp point reads the reference grasps of every task)."""
    known: dict[str, dict[tuple, Any]] = {}
    for (hand, *_), entries in zip(calls, found, strict=True):
        known.setdefault(hand, {}).update(entries)
    return {hand: list(entries.items()) for hand, entries in known.items()}


def warm(known: list[tuple[tuple, Any]]) -> None:
    """Hand this process what a pool already measured: grasp choices, DART levels and synthesised grasps."""
    from xlsdk.bench.physics.expert import remember_choices, remember_dart_levels
    from xlsdk.physics import grasps

    def labelled(key: tuple) -> bool:  # a grasp's own key (grasps.cache_key) has six parts
        return len(key) == 2 and key[0] in ("choice", "trials", "dart")

    remember_choices({key[1]: value for key, value in known if labelled(key) and key[0] == "choice"})
    remember_dart_levels({key[1]: value for key, value in known if labelled(key) and key[0] == "dart"})
    grasps.remember([(key, value) for key, value in known if not labelled(key)])


def shard_job(shard: Any, root: str, known: list[tuple[tuple, Any]] = ()) -> tuple[Any, float]:
    """Generate one demonstration shard (see :func:`xlsdk.bench.physics.dataset.generate_shard`); ``known``:
    grasps already synthesised for its hand and task (by :func:`grasp_job`)."""
    import xlsdk
    from xlsdk.bench.physics.dataset import generate_shard

    warm(list(known))
    return _timed(lambda: generate_shard(shard, xlsdk.load_hand(shard.hand), Path(root)))


def train_job(arm: str, config: Any, data: Any, steps: int, batch_size: int, seed: int,
              snapshot_steps: tuple[int, ...], wrist_loss_share: float | None = None, device: str = "cpu",
              ) -> tuple[tuple[dict[int, dict], list[float]], float]:
    """Train one arm with one seed on ``device`` (``cpu`` or ``cuda``); returns the weights at every snapshot
    step (on the CPU) and the per-step losses. (``wrist_loss_share`` is ACT's: the XL-VLA arms carry theirs in
    their config.)"""
    from xlsdk.bench.physics.act_arm import train_act
    from xlsdk.policy.train import train_policy

    def run() -> tuple[dict[int, dict], list[float]]:
        snapshots: dict[int, dict] = {}
        keep = lambda step, weights: snapshots.__setitem__(step, weights)  # noqa: E731
        if arm == "act-latent":
            losses = train_act(data, config, steps=steps, batch_size=batch_size, seed=seed,
                               snapshot_steps=snapshot_steps, on_snapshot=keep, wrist_loss_share=wrist_loss_share,
                               device=device)
        else:
            _, losses, _ = train_policy(data, config, steps=steps, batch_size=batch_size, seed=seed, progress=False,
                                        device=device, snapshot_steps=snapshot_steps, on_snapshot=keep)
        return snapshots, losses

    return _timed(run)


def policy_job(arm: str, config: Any, weights: dict, obs: str, image_size: int, hand_name: str,
               scenes: list[Any], strip: bool, point: tuple[float, ...] | None = None, ensemble: bool = False,
               ) -> tuple[tuple[list[bool], np.ndarray | None], float]:
    """A trained arm on ``scenes`` with one hand: success per scene (None: the arm cannot drive the hand),
    and the first episode's strip (fixed camera above the wrist camera) when asked for. ``point``: the hand's
    grasp point, for an arm trained in the grasp frame (:mod:`xlsdk.bench.physics.grasp_frame`); ``ensemble``:
    temporal ensembling instead of a receding horizon."""
    import xlsdk
    from xlsdk.bench.physics.policies import runner_from_weights

    def run() -> tuple[list[bool] | None, np.ndarray | None]:
        hand = xlsdk.load_hand(hand_name)
        runner = runner_from_weights(arm, config, weights, obs, image_size,  # type: ignore[arg-type]
                                     ensemble=ensemble)
        if not runner.can_drive(hand):
            return None, None
        results, picture = [], None
        for number, scene in enumerate(scenes):
            cameras = STRIP_CAMERAS if strip and number == 0 else ()
            episode = runner.episode(hand, scene, cameras=cameras,
                                     point=None if point is None else np.asarray(point, dtype=np.float64))
            results.append(bool(episode is not None and episode.success))
            if cameras and episode is not None:
                picture = strip_of(episode)
        return results, picture

    return _timed(run)


def expert_job(hand_name: str, scenes: list[Any], strip: bool = False, known: list[tuple[tuple, Any]] = (),
               latent: bool = False) -> tuple[tuple[list[bool], np.ndarray | None], float]:
    """The expert (no noise) on ``scenes``: the ceiling of every cell (``latent``: its hand commands through
    the hand's latent head, the latent arm's ceiling)."""
    import xlsdk
    from xlsdk.bench.physics.expert import run_expert
    from xlsdk.errors import PhysicsError

    warm(list(known))

    def run() -> tuple[list[bool], np.ndarray | None]:
        hand = xlsdk.load_hand(hand_name)
        results, picture = [], None
        for number, scene in enumerate(scenes):
            cameras = STRIP_CAMERAS if strip and number == 0 else ()
            try:
                episode = run_expert(hand, scene, cameras=cameras, latent=latent)
            except PhysicsError:
                results.append(False)
                continue
            results.append(episode.success)
            if cameras:
                picture = strip_of(episode)
        return results, picture

    return _timed(run)


#: an episode strip: the fixed camera on the scene (what happened) above the wrist camera (what the hand saw)
STRIP_CAMERAS = ("front", "wrist")
STRIP_EVERY = 5


def strip_of(episode: Any) -> np.ndarray:
    rows = [np.concatenate(episode.images[camera][::STRIP_EVERY], axis=1) for camera in STRIP_CAMERAS]
    return np.concatenate(rows, axis=0)
