"""A rich progress bar for imports, plus the wait notices (rate limits, retries) shown while it runs."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class ImportProgress:
    """One bar per run; `total` may arrive late (or never, for the live GitHub API)."""

    def __init__(self, console: Console, description: str, *, enabled: bool = True) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self.task: TaskID = self.progress.add_task(description, total=None)

    def __enter__(self) -> ImportProgress:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is not None:  # the error is what the user should see, on its own line
            self.progress.update(self.task, visible=False)
            self.progress.live.transient = True
        self.progress.stop()

    def total(self, count: int) -> None:
        self.progress.update(self.task, total=count)

    def advance(self, step: int = 1) -> None:
        self.progress.advance(self.task, step)

    def describe(self, text: str) -> None:
        self.progress.update(self.task, description=text)

    def wait(self, seconds: float, reason: str) -> None:
        """Say why and how long the import pauses (rate limit, retry), so a stall never looks like a hang."""
        self.console.print(f"[yellow]waiting {seconds:.0f}s: {reason}[/yellow]")
