"""`smartco import`: mine git history and GitHub issues, pull requests and reviews into events."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from trajectory.sources import SourceError
from trajectory.sources.githubapi import DEFAULT_API
from trajectory.sources.githubimport import GitHubImportResult, GitHubImportSettings, import_github_files
from trajectory.sources.githublive import import_github_live
from trajectory.sources.history import GitImportResult, GitImportSettings, import_git
from trajectory.sources.progress import ImportProgress
from trajectory.sources.sink import CollectorSink, Delivery, EventSink, JsonlSink
from trajectory.sources.state import default_state_path


def destination_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Where events go and how identities are pseudonymised: shared by every import command."""
    options = [
        click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Append events to this JSONL."),
        click.option("--collector", envvar="SMARTCO_COLLECTOR_URL", help="Collector URL (env SMARTCO_COLLECTOR_URL)."),
        click.option("--token", envvar="SMARTCO_TOKEN", help="Collector token, ingest scope (env SMARTCO_TOKEN)."),
        click.option("--salt", envvar="SMARTCO_SALT", required=True,
                     help="Team salt for pseudonymous engineer ids (env SMARTCO_SALT)."),
        click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
                     default=default_state_path, show_default="$XDG_STATE_HOME/smartco/import-state.json",
                     help="Where what was already imported is remembered."),
        click.option("--bot", "bots", multiple=True,
                     help="Another account (login, name or e-mail) to flag as a bot (repeatable)."),
        click.option("--batch-size", type=click.IntRange(1, 5000), default=200, show_default=True,
                     help="Events per POST to the collector (the state is saved after each)."),
        click.option("--no-progress", is_flag=True, help="No progress bar."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@click.group("import")
def import_group() -> None:
    """Mine git history and GitHub issues, pull requests and reviews into events."""


@import_group.command("git")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--since", help="Only commits after this date (anything `git log --since` takes).")
@click.option("--until", help="Only commits before this date.")
@click.option("--branch", "branches", multiple=True, help="Branch or ref to mine (repeatable; default: HEAD's).")
@click.option("--all", "all_branches", is_flag=True, help="Mine every local branch.")
@click.option("--max-commits", type=click.IntRange(1), help="At most this many (the most recent) commits.")
@click.option("--repo-id", help="The `repo` of events (default: the normalised origin URL, else local/<dir>).")
@destination_options
def import_git_command(
    path: Path,
    since: str | None,
    until: str | None,
    branches: tuple[str, ...],
    all_branches: bool,
    max_commits: int | None,
    repo_id: str | None,
    **common: Any,
) -> None:
    """Import the commits of the repository at PATH (only what is new since the last run)."""
    if branches and all_branches:
        raise click.UsageError("--branch and --all exclude each other")
    sink, destination = _sink(common)
    settings = GitImportSettings(
        repo=path.resolve(), salt=common["salt"], state_path=common["state_path"], destination=destination,
        branches=branches, all_branches=all_branches, since=since, until=until, max_commits=max_commits,
        bots=common["bots"], repo_id=repo_id, batch_size=common["batch_size"],
    )  # fmt: skip
    console = Console(stderr=True)
    started = time.perf_counter()
    try:
        with ImportProgress(console, f"git {path.resolve().name}", enabled=not common["no_progress"]) as progress:
            if isinstance(sink, CollectorSink):
                sink.on_wait = progress.wait
            result = import_git(settings, sink, on_total=progress.total, on_commit=progress.advance)
    except SourceError as err:
        raise click.ClickException(str(err)) from err
    finally:
        sink.close()
    for rewrite in result.rewrites:
        console.print(f"[yellow]history rewritten on {rewrite.ref} ({rewrite.operation}): "
                      f"{rewrite.old[:12]} -> {rewrite.new[:12]}[/yellow]")  # fmt: skip
    click.echo(git_summary(result, time.perf_counter() - started))


def git_summary(result: GitImportResult, seconds: float) -> str:
    """The one-line summary of a git import."""
    rate = result.commits / seconds if seconds > 0 else 0.0
    return (
        f"git {result.repo_id}: {result.commits} commits ({result.merges} merges, {result.files} file changes), "
        f"{len(result.rewrites)} rewrites, {result.events} events; {delivery_summary(result.delivery)}"
        f"{f'; {result.skipped} already sent before' if result.skipped else ''}; {seconds:.1f}s ({rate:.0f} commits/s)"
    )


def delivery_summary(delivery: Delivery) -> str:
    return f"accepted {delivery.accepted}, duplicate {delivery.duplicate}, rejected {delivery.rejected}"


def _sink(common: dict[str, Any]) -> tuple[EventSink, str]:
    """The sink and the destination's name (state is kept per destination)."""
    out, collector, token = common["out"], common["collector"], common["token"]
    if bool(out) == bool(collector):
        raise click.UsageError("give exactly one of --out FILE or --collector URL")
    if out:
        return JsonlSink(out), str(out.resolve())
    if not token:
        raise click.UsageError("--collector needs --token (or SMARTCO_TOKEN)")
    return CollectorSink(collector, token), collector.rstrip("/")


@import_group.command("github")
@click.argument("repo", required=False, metavar="[OWNER/NAME]")
@click.option(
    "--from",
    "files",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="REST JSON files or folders (as `gh api --paginate` writes them) instead of the live API.",
)
@click.option("--github-token", envvar="GITHUB_TOKEN", help="GitHub token for the live API (env GITHUB_TOKEN).")
@click.option(
    "--api-url",
    envvar="GITHUB_API_URL",
    default=DEFAULT_API,
    show_default=True,
    help="REST API root, for GitHub Enterprise (env GITHUB_API_URL).",
)
@click.option("--since", help="Only what was updated at or after this ISO time (default: since the last run).")
@click.option("--keep-logins", is_flag=True, help="Keep public GitHub logins in payloads instead of pseudonyms.")
@click.option(
    "--max-wait",
    type=click.FloatRange(0),
    default=3700.0,
    show_default=True,
    help="Longest rate-limit wait (seconds) before giving up; a later run resumes.",
)
@destination_options
def import_github_command(repo: str | None, files: tuple[Path, ...], github_token: str | None, api_url: str,
                          since: str | None, keep_logins: bool, max_wait: float, **common: Any) -> None:  # fmt: skip
    """Import issues, comments, pull requests, reviews and review comments of OWNER/NAME."""
    if not files and not repo:
        raise click.UsageError("give OWNER/NAME for the live API, or --from FILES")
    sink, destination = _sink(common)
    settings = GitHubImportSettings(
        salt=common["salt"], state_path=common["state_path"], destination=destination, repo=repo, files=files,
        token=github_token, api_url=api_url, since=since, bots=common["bots"], keep_logins=keep_logins,
        batch_size=common["batch_size"], max_wait_s=max_wait,
    )  # fmt: skip
    console = Console(stderr=True)
    started = time.perf_counter()
    try:
        with ImportProgress(console, f"github {repo or 'files'}", enabled=not common["no_progress"]) as progress:
            if isinstance(sink, CollectorSink):
                sink.on_wait = progress.wait
            if files:
                result = import_github_files(settings, sink, on_item=progress.advance)
            else:
                result = import_github_live(settings, sink, on_item=progress.advance, on_wait=progress.wait)
    except SourceError as err:
        raise click.ClickException(str(err)) from err
    finally:
        sink.close()
    click.echo(github_summary(result, time.perf_counter() - started))


def github_summary(result: GitHubImportResult, seconds: float) -> str:
    """The one-line summary of a GitHub import."""
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(result.kinds.items())) or "nothing new"
    api = result.api
    calls = (f"; API {api.requests} requests, {api.not_modified} not modified (free), "
             f"{api.waits} waits ({api.waited_s:.0f}s)") if api.requests else ""  # fmt: skip
    resumed = f"; resumed at {result.resumed}" if result.resumed else ""
    skipped = f"; {result.skipped} already sent before" if result.skipped else ""
    return (f"github {result.repo_id}: {result.events} events ({kinds}); {delivery_summary(result.delivery)}"
            f"{calls}{resumed}{skipped}; {seconds:.1f}s")  # fmt: skip
