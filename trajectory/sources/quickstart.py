"""The quickstart's history stage: import the recent commits of a repository into a running collector."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from rich.console import Console

from trajectory.sources.history import GitImportResult, GitImportSettings, import_git
from trajectory.sources.progress import ImportProgress
from trajectory.sources.sink import CollectorSink

QUICKSTART_SALT = "smartco-quickstart"


def import_repository(
    repo_path: Path,
    collector_url: str,
    token: str,
    console: Console,
    max_commits: int = 200,
    *,
    salt: str = QUICKSTART_SALT,
    state_path: Path | None = None,
) -> GitImportResult:
    """Import the last `max_commits` commits of the checked-out branch of `repo_path` into the collector.

    Without `state_path` nothing is remembered between runs: a second run sends the same events again and the
    collector counts them as duplicates (event ids are deterministic). Raises GitError if `repo_path` is not a
    git repository; a repository without commits gives an empty result.
    """
    repo = repo_path.resolve()
    sink = CollectorSink(collector_url, token)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="smartco-quickstart-") as scratch:
        settings = GitImportSettings(
            repo=repo,
            salt=salt,
            state_path=state_path or Path(scratch) / "state.json",
            destination=collector_url.rstrip("/"),
            max_commits=max_commits,
        )
        try:
            with ImportProgress(console, f"history of {repo.name}") as progress:
                sink.on_wait = progress.wait
                result = import_git(settings, sink, on_total=progress.total, on_commit=progress.advance)
        finally:
            sink.close()
    seconds = time.perf_counter() - started
    console.print(
        f"imported {result.commits} commits ({result.merges} merges, {result.files} file changes) of "
        f"{result.repo_id} in {seconds:.1f}s: {result.delivery.accepted} accepted, "
        f"{result.delivery.duplicate} duplicate, {result.delivery.rejected} rejected"
    )
    return result
