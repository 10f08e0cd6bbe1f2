"""Progress bars with live numbers for long jobs (training, fitting, benchmarks), or silence."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class StepReporter:
    """Advances a bar and shows the latest metrics next to it; a no-op when disabled."""

    def __init__(self, progress: Progress | None, task: int | None) -> None:
        self._progress = progress
        self._task = task

    def update(self, completed: int, **metrics: float | str) -> None:
        if self._progress is None or self._task is None:
            return
        text = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items())
        self._progress.update(self._task, completed=completed, metrics=text)


@contextmanager
def step_progress(description: str, total: int, *, enabled: bool = True, start: int = 0) -> Iterator[StepReporter]:
    """A bar on stderr for ``total`` steps with a free-text metrics column."""
    if not enabled:
        yield StepReporter(None, None)
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), TextColumn("{task.fields[metrics]}"),
        console=Console(stderr=True), transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total, completed=start, metrics="")
        yield StepReporter(progress, task)
