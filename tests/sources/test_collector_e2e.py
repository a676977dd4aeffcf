"""Imports into a real collector process (uvicorn, migrated SQLite), directly and through a proxy that fails mid-way."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from rich.console import Console
from sources.githubcheck import SALT, check_world_kept
from sources.githubworld import build_world, write_gh_files
from sources.gitrepo import GitRepo
from sources.httpstub import Reply, StubServer

from collector_api.testing import RunningCollector, running_collector
from smartco.cli import root
from trajectory.events import EventBase, parse_event
from trajectory.sources.history import GitImportSettings, import_git
from trajectory.sources.quickstart import import_repository
from trajectory.sources.sink import CollectorSink, SinkError

pytestmark = pytest.mark.e2e


@pytest.fixture
def collector(tmp_path: Path, database_url: str) -> Iterator[RunningCollector]:
    """A collector process on SQLite, and on PostgreSQL when it is configured."""
    with running_collector(tmp_path / "collector", database_url) as running:
        yield running


class FailingProxy:
    """Forwards to the collector until `forward` requests have passed, then answers 503 to everything."""

    def __init__(self, target: str, forward: int) -> None:
        self.target, self.forward, self.passed = target, forward, 0
        self.client = httpx.Client(timeout=30)

    def __call__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if self.passed >= self.forward:
            return Reply(503, {"detail": "the link to the collector is down"})
        self.passed += 1
        keep = {key: value for key, value in headers.items() if key in ("authorization", "content-type",
                                                                         "content-encoding")}  # fmt: skip
        answer = self.client.request(method, self.target + path, content=body, headers=keep)
        return Reply(answer.status_code, answer.content)


def stored(collector: RunningCollector) -> list[EventBase]:
    answer = httpx.get(f"{collector.url}/v1/events", headers=collector.headers(), timeout=30)
    answer.raise_for_status()
    return [parse_event(line) for line in answer.text.splitlines() if line]


def _settings(repo: GitRepo, tmp_path: Path, collector: RunningCollector) -> GitImportSettings:
    return GitImportSettings(repo=repo.path, salt=SALT, state_path=tmp_path / "state.json", destination=collector.url,
                             batch_size=2)  # fmt: skip


def test_cli_imports_into_a_real_collector_incrementally(
    rich_repo: GitRepo, tmp_path: Path, collector: RunningCollector
) -> None:
    args = ["import", "git", str(rich_repo.path), "--collector", collector.url, "--salt", SALT,
            "--state", str(tmp_path / "state.json"), "--batch-size", "3", "--no-progress"]  # fmt: skip
    env = {"SMARTCO_TOKEN": collector.token}
    first = CliRunner().invoke(root, args, env=env)
    assert first.exit_code == 0, first.output
    assert "7 commits (1 merges" in first.stdout and "accepted 7, duplicate 0, rejected 0" in first.stdout
    assert sorted(event.kind for event in stored(collector)) == ["git.commit"] * 6 + ["git.merge"]
    second = CliRunner().invoke(root, args, env=env)
    assert "0 commits" in second.stdout and len(stored(collector)) == 7
    rich_repo.write("late.txt", "late\n")
    sha = rich_repo.commit("Late work")
    third = CliRunner().invoke(root, args, env=env)
    assert "1 commits" in third.stdout and "accepted 1," in third.stdout
    events = stored(collector)
    assert len(events) == 8 and events[-1].payload.sha == sha
    assert sorted(event.seq for event in events) == list(range(8))


def test_collector_link_fails_mid_way_and_the_next_run_completes(
    rich_repo: GitRepo, tmp_path: Path, collector: RunningCollector
) -> None:
    proxy = FailingProxy(collector.url, forward=2)
    server = StubServer(proxy)
    try:
        sink = CollectorSink(server.url, collector.token, max_attempts=3, sleep=lambda seconds: None)
        with pytest.raises(SinkError, match="giving up after 3 attempts: collector answered 503"):
            import_git(_settings(rich_repo, tmp_path, collector), sink)
    finally:
        server.stop()
    assert len(stored(collector)) == 4  # two batches of two got through
    state = json.loads((tmp_path / "state.json").read_text())
    assert [stream["checkpoint"]["sent"] for stream in state["streams"].values()] == [4]
    result = import_git(_settings(rich_repo, tmp_path, collector), CollectorSink(collector.url, collector.token))
    assert (result.skipped, result.delivery.accepted, result.delivery.duplicate) == (4, 3, 0)
    events = stored(collector)
    assert len(events) == len({event.id for event in events}) == 7
    assert sorted(event.seq for event in events) == list(range(7))


def test_github_files_into_a_real_collector(shared_data: Path, tmp_path: Path, collector: RunningCollector) -> None:
    world = build_world(shared_data)
    folder = write_gh_files(world, tmp_path / "dump")
    args = ["import", "github", "--from", str(folder), "--collector", collector.url, "--token", collector.token,
            "--salt", SALT, "--state", str(tmp_path / "state.json"), "--no-progress"]  # fmt: skip
    result = CliRunner().invoke(root, args)
    assert result.exit_code == 0, result.output
    check_world_kept(stored(collector), world)
    again = CliRunner().invoke(root, args)
    assert "0 events (nothing new)" in again.stdout and len(stored(collector)) == 15


def test_quickstart_stage_imports_recent_history(rich_repo: GitRepo, collector: RunningCollector) -> None:
    console = Console(file=io.StringIO(), width=200)
    result = import_repository(rich_repo.path, collector.url, collector.token, console, max_commits=5)
    assert (result.commits, result.delivery.accepted) == (5, 5)
    assert {event.payload.sha for event in stored(collector)} == set(rich_repo.git("rev-list", "-5", "HEAD").split())
    again = import_repository(rich_repo.path, collector.url, collector.token, console, max_commits=5)
    assert (again.delivery.accepted, again.delivery.duplicate) == (0, 5)  # nothing remembered: sent again, stored once
    assert "imported 5 commits (1 merges" in console.file.getvalue()  # type: ignore[attr-defined]
