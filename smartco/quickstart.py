"""`smartco quickstart`: the whole pipeline on an embedded default, stage by stage, on this machine only.

collector (SQLite) -> sample GitHub history -> a scripted editor session through the real sidecar -> the git
history of a real repository -> the aligned dataset -> Ianvs benchmark folders run with the retrieval baseline.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console
from rich.table import Table

from trajectory.align.options import BuildOptions
from trajectory.splits import repo_group, split_of

MARKER = ".smartco-quickstart"
PROJECT = "quickstart"
OPENAI_ENV = "SMARTCO_OPENAI_BASE_URL"
OPENAI_MODEL_ENV = "SMARTCO_OPENAI_MODEL"
SPLIT_RATIOS = (0.5, 0.0, 0.5)


class QuickstartError(click.ClickException):
    """A stage of the quickstart failed; the message says which and why."""


@dataclass
class QuickstartSettings:
    """One quickstart run, built once from the command line and the environment."""

    out: Path
    repo: Path
    max_commits: int = 200
    openai_base_url: str | None = None
    openai_model: str = "default"
    keep_running: bool = False
    max_test_samples: int = 40


@dataclass
class QuickstartResult:
    stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    stats: dict[str, Any] = field(default_factory=dict)  # the collector's /v1/stats at the end
    records: dict[str, int] = field(default_factory=dict)  # dataset record kind -> count
    leaderboards: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@click.command("quickstart")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("quickstart-out"),
    show_default=True,
    help="Working folder: collector database, dataset, benchmark folders (emptied first if a quickstart made it).",
)
@click.option(
    "--repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="A git repository whose history is imported (default: the one you run it in).",
)
@click.option("--max-commits", type=click.IntRange(1), default=200, show_default=True, help="Commits to import.")
@click.option("--keep-running", is_flag=True, help="Leave the collector running at the end until Ctrl-C.")
def quickstart(out: Path, repo: Path, max_commits: int, keep_running: bool) -> None:
    """Run the whole pipeline on an embedded default and print what each stage produced.

    Set SMARTCO_OPENAI_BASE_URL (and SMARTCO_OPENAI_MODEL, SMARTCO_OPENAI_API_KEY) to add an OpenAI-compatible
    model (llama.cpp server, Ollama, vLLM) to the leaderboards beside the retrieval baseline and the oracle.
    """
    settings = QuickstartSettings(
        out=out.resolve(),
        repo=repo.resolve(),
        max_commits=max_commits,
        openai_base_url=os.environ.get(OPENAI_ENV) or None,
        openai_model=os.environ.get(OPENAI_MODEL_ENV, "default"),
        keep_running=keep_running,
    )
    run_quickstart(settings, Console(stderr=False, highlight=False))


def run_quickstart(settings: QuickstartSettings, console: Console) -> QuickstartResult:
    """Every stage in order; the collector runs for the whole pipeline and stops at the end."""
    _prepare_out(settings.out)
    result = QuickstartResult()
    with _collector(settings.out, console) as collector:
        stage = _stage_runner(console, result)
        samples = stage("sample", lambda: _send_sample(collector, settings.out, console))
        session = stage("capture", lambda: _record_session(collector, settings.out, console))
        history = stage("history", lambda: _import_history(collector, settings, console))
        result.stats = _print_stats(collector, console)
        seed = split_seed([samples, [session.repo_id, history.repo_id]], SPLIT_RATIOS)
        console.print(
            f"splits by repository, ratios {SPLIT_RATIOS}, seed {seed}: the first seed that puts one GitHub sample "
            "and one of the two code repositories in train and the others in test"
        )
        options = BuildOptions(split_by="repo", ratios=SPLIT_RATIOS, seed=seed)
        built = stage("dataset", lambda: _build_dataset(collector, settings.out, console, options))
        result.records = built.kind_counts()
        bench = stage("benchmark", lambda: _run_benchmark(settings, console))
        result.leaderboards = bench.leaderboards
        _summary(console, settings, result)
        if settings.keep_running:
            console.print(f"collector still running at {collector.url} (token in {settings.out / 'token'}); Ctrl-C")
            _wait_forever()
    return result


def _stage_runner(console: Console, result: QuickstartResult) -> Callable[[str, Callable[[], Any]], Any]:
    def stage(name: str, work: Callable[[], Any]) -> Any:
        console.rule(f"[bold]{name}")
        started = time.perf_counter()
        try:
            value = work()
        except click.ClickException:
            raise
        except Exception as err:  # one line per failed stage, at the edge
            raise QuickstartError(f"quickstart stage '{name}' failed: {type(err).__name__}: {err}") from err
        result.stages[name] = time.perf_counter() - started
        return value

    return stage


def _prepare_out(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise QuickstartError(f"{out} exists and was not made by the quickstart; pass another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by smartco quickstart; emptied at its next run\n")


@contextmanager
def _collector(out: Path, console: Console) -> Iterator[Any]:
    from collector_api.testing import RunningCollector, free_port, prepare_database

    console.rule("[bold]collector")
    database_url = f"sqlite:///{out / 'collector.db'}"
    token = prepare_database(database_url, PROJECT)
    (out / "token").write_text(token + "\n")
    (out / "token").chmod(0o600)
    collector = RunningCollector(database_url, token, free_port(), out / "collector.log")
    try:
        collector.start()
    except (RuntimeError, TimeoutError) as err:
        raise QuickstartError(f"the collector did not start: {err}") from err
    console.print(f"collector on {collector.url}, SQLite database {out / 'collector.db'}, project '{PROJECT}'")
    try:
        yield collector
    finally:
        collector.stop()


def _send_sample(collector: Any, out: Path, console: Console) -> list[str]:
    """Send the embedded GitHub sample, one repository per folder; the repository ids, in folder order."""
    from trajectory.sources.githubimport import GitHubImportSettings, import_github_files
    from trajectory.sources.quickstart import QUICKSTART_SALT
    from trajectory.sources.sink import CollectorSink

    repos: list[str] = []
    with resources.as_file(resources.files("smartco") / "sample" / "github") as folder:
        for repo_folder in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
            settings = GitHubImportSettings(
                salt=QUICKSTART_SALT,
                state_path=out / "github-state.json",
                destination=collector.url,
                files=(repo_folder,),
            )
            sink = CollectorSink(collector.url, collector.token)
            try:
                result = import_github_files(settings, sink)
            finally:
                sink.close()
            kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(result.kinds.items()))
            console.print(
                f"sent the embedded GitHub sample of {result.repo_id} over HTTP: {kinds}; {result.delivery.accepted} "
                f"stored, {result.delivery.duplicate} duplicate, {result.delivery.rejected} rejected"
            )
            repos.append(result.repo_id)
    return repos


def _record_session(collector: Any, out: Path, console: Console) -> Any:
    from lsp_agent.quickstart import record_session

    return record_session(collector.url, collector.token, out / "capture", console)


def _import_history(collector: Any, settings: QuickstartSettings, console: Console) -> Any:
    from trajectory.sources.quickstart import import_repository

    return import_repository(
        settings.repo, collector.url, collector.token, console, settings.max_commits,
        state_path=settings.out / "history-state.json",
    )  # fmt: skip


def _print_stats(collector: Any, console: Console) -> dict[str, Any]:
    answer = httpx.get(f"{collector.url}/v1/stats", headers=collector.headers(), timeout=30.0)
    answer.raise_for_status()
    stats: dict[str, Any] = answer.json()
    table = Table(title="stored in the collector")
    table.add_column("event kind")
    table.add_column("events", justify="right")
    for kind, count in sorted((stats.get("kinds") or {}).items()):
        table.add_row(kind, str(count))
    console.print(table)
    return stats


def split_seed(families: list[list[str]], ratios: tuple[float, float, float], tries: int = 1000) -> int:
    """The first seed under which every family of repositories has one in train and one in test.

    A demo on a handful of repositories still splits leakage-free by repository; it only picks the seed, so
    that each task has something to learn from and something to be tested on.
    """
    for seed in range(tries):
        splits = [{split_of(repo_group(repo), seed, ratios) for repo in family} for family in families]
        if all({"train", "test"} <= found for found in splits):
            return seed
    return 0


def _build_dataset(collector: Any, out: Path, console: Console, options: BuildOptions) -> Any:
    from trajectory.align.quickstart import build_from_collector

    return build_from_collector(collector.url, collector.token, out / "dataset", console, options)


def _run_benchmark(settings: QuickstartSettings, console: Console) -> Any:
    from ianvs_export.quickstart import export_and_run

    return export_and_run(
        settings.out / "dataset",
        settings.out / "benchmark",
        console,
        settings.openai_base_url,
        settings.openai_model,
        max_test=settings.max_test_samples,
    )


def _summary(console: Console, settings: QuickstartSettings, result: QuickstartResult) -> None:
    console.rule("[bold]done")
    timings = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in result.stages.items())
    records = ", ".join(f"{n} {kind}" for kind, n in sorted(result.records.items()) if n)
    console.print(f"stages: {timings}")
    console.print(f"dataset: {records or 'no records'} in {settings.out / 'dataset'}")
    console.print(f"benchmark folders and leaderboards in {settings.out / 'benchmark'}")


def _wait_forever() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
