"""A rich progress display for a build (events read, then records aligned), or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from trajectory.align.builder import Progress as ProgressCallback


@contextmanager
def console_progress(console: Console, enabled: bool = True) -> Iterator[ProgressCallback | None]:
    if not enabled:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"{phase}", total=None)
            bar.update(tasks[phase], completed=done)

        yield update
