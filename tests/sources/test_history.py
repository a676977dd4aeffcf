"""The incremental git importer: only what is new, rewrites detected, resumable deliveries, the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sources.gitrepo import GitRepo
from sources.httpstub import IngestStub, Reply, StubServer

from smartco.cli import root
from trajectory.events import parse_event
from trajectory.sources.history import GitImportSettings, import_git
from trajectory.sources.sink import CollectorSink, JsonlSink, SinkError


def _settings(repo: GitRepo, tmp_path: Path, **overrides: object) -> GitImportSettings:
    values: dict[str, object] = {"repo": repo.path, "salt": "s", "state_path": tmp_path / "state.json",
                                 "destination": "test", "batch_size": 2}  # fmt: skip
    values.update(overrides)
    return GitImportSettings(**values)  # type: ignore[arg-type]


def _read(path: Path) -> list:
    return [parse_event(line) for line in path.read_text().splitlines()]


def test_second_run_imports_only_what_is_new(rich_repo: GitRepo, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    first = import_git(_settings(rich_repo, tmp_path), JsonlSink(out))
    assert (first.commits, first.merges, first.events) == (7, 1, 7)
    assert import_git(_settings(rich_repo, tmp_path), JsonlSink(out)).events == 0
    rich_repo.write("new.txt", "new\n")
    sha = rich_repo.commit("New work")
    third = import_git(_settings(rich_repo, tmp_path), JsonlSink(out))
    events = _read(out)
    assert third.commits == 1 and events[-1].payload.sha == sha
    assert [event.seq for event in events] == list(range(8))  # one session, seq continues across runs
    assert len({event.id for event in events}) == 8
    other = import_git(_settings(rich_repo, tmp_path, destination="elsewhere"), JsonlSink(tmp_path / "b.jsonl"))
    assert other.commits == 8  # state is kept per destination


@pytest.mark.parametrize("operation", ["amend", "reset", "rebase"])
def test_history_rewrites_are_detected_and_reported(rich_repo: GitRepo, tmp_path: Path, operation: str) -> None:
    out = tmp_path / "events.jsonl"
    old_head = rich_repo.head()
    import_git(_settings(rich_repo, tmp_path), JsonlSink(out))
    if operation == "amend":
        rich_repo.git("commit", "-q", "--amend", "-m", "Add mailmap, reworded")
    elif operation == "reset":
        rich_repo.git("reset", "-q", "--hard", "HEAD~2")
    else:
        rich_repo.git("checkout", "-q", "-b", "tmp", "HEAD~3")
        rich_repo.write("elsewhere.txt", "e\n")
        rich_repo.commit("Elsewhere")
        rich_repo.git("checkout", "-q", "main")
        rich_repo.git("rebase", "-q", "tmp")
    result = import_git(_settings(rich_repo, tmp_path), JsonlSink(out))
    [rewrite] = result.rewrites
    assert (rewrite.ref, rewrite.operation, rewrite.old, rewrite.new) == ("main", operation, old_head, rich_repo.head())
    events = _read(out)
    rebase = next(event for event in events if event.kind == "git.rebase")
    assert rebase.payload.operation == operation and rebase.payload.new_head == rich_repo.head()
    new_commits = [event.payload.message for event in events[events.index(rebase) + 1 :]]
    expected = {"amend": ["Add mailmap, reworded"], "reset": []}.get(operation)
    assert new_commits == expected if expected is not None else "Elsewhere" in new_commits


def test_all_branches_since_and_until(rich_repo: GitRepo, tmp_path: Path) -> None:
    rich_repo.git("checkout", "-q", "-b", "topic", "HEAD~3")
    rich_repo.write("topic.txt", "t\n")
    rich_repo.commit("Topic work")
    out = tmp_path / "all.jsonl"
    result = import_git(_settings(rich_repo, tmp_path, all_branches=True), JsonlSink(out))
    assert result.commits == 8
    branches = {event.payload.message: event.payload.branch for event in _read(out)}
    assert branches["Topic work"] == "topic" and branches["Add mailmap"] == "main"
    # GitRepo's clock moves 60s per git call: the commits fall on both sides of a cut between them.
    events = _read(out)
    cut = events[3].payload.committed_at.isoformat()
    early = import_git(_settings(rich_repo, tmp_path, destination="d2", branches=("main",), until=cut),
                       JsonlSink(tmp_path / "early.jsonl"))  # fmt: skip
    late = import_git(_settings(rich_repo, tmp_path, destination="d3", branches=("main",), since=cut),
                      JsonlSink(tmp_path / "late.jsonl"))  # fmt: skip
    assert 0 < early.commits < 7 and 0 < late.commits < 7
    assert all(
        event.payload.committed_at <= events[3].payload.committed_at for event in _read(tmp_path / "early.jsonl")
    )


def test_interrupted_delivery_resumes_where_it_stopped(
    rich_repo: GitRepo, tmp_path: Path, ingest: tuple[StubServer, IngestStub]
) -> None:
    server, stub = ingest
    waits: list[float] = []
    sink = CollectorSink(server.url, "tok", max_attempts=2, sleep=waits.append)
    # Deliver two batches, then the collector goes down (503 twice: attempts exhausted).
    original = stub.__call__
    calls = {"n": 0}

    def flaky(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        calls["n"] += 1
        return (
            Reply(503, {"detail": "down"}, {"Retry-After": "1"})
            if calls["n"] > 2
            else original(method, path, headers, body)
        )

    server.handler = flaky
    with pytest.raises(SinkError):
        import_git(_settings(rich_repo, tmp_path), sink)
    assert len(stub.events) == 4 and waits == [1.0]
    state = json.loads((tmp_path / "state.json").read_text())
    [stream] = state["streams"].values()
    assert stream["checkpoint"]["sent"] == 4 and stream["refs"] == {}
    server.handler = original
    posted_before = len(server.requests)
    result = import_git(_settings(rich_repo, tmp_path), CollectorSink(server.url, "tok"))
    assert result.skipped == 4 and result.delivery.accepted == 3 and result.delivery.duplicate == 0
    assert len(stub.events) == 7 and len(server.requests) - posted_before == 2
    assert sorted(event["seq"] for event in stub.events.values()) == list(range(7))


def test_collector_sink_splits_too_large_batches_and_waits_on_429(
    rich_repo: GitRepo, tmp_path: Path, ingest: tuple[StubServer, IngestStub]
) -> None:
    server, stub = ingest
    stub.max_batch = 2
    stub.faults = [Reply(429, {"detail": "slow down"}, {"Retry-After": "7"})]
    waits: list[tuple[float, str]] = []
    sink = CollectorSink(server.url, "tok", sleep=lambda s: None, on_wait=lambda s, why: waits.append((s, why)))
    result = import_git(_settings(rich_repo, tmp_path, batch_size=5), sink)
    assert result.delivery.accepted == 7 and len(stub.events) == 7
    assert waits == [(7.0, "collector answered 429")]
    assert all(header.get("content-encoding") == "gzip" for _, _, header in server.requests)


def test_bad_token_is_one_clear_error(
    rich_repo: GitRepo, tmp_path: Path, ingest: tuple[StubServer, IngestStub]
) -> None:
    server, _ = ingest
    runner = CliRunner()
    args = ["import", "git", str(rich_repo.path), "--collector", server.url, "--token", "wrong", "--salt", "s",
            "--state", str(tmp_path / "st.json"), "--no-progress"]  # fmt: skip
    result = runner.invoke(root, args)
    assert result.exit_code == 1
    assert "refused the token (401)" in result.output


def test_collector_down_fails_after_retries(rich_repo: GitRepo, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    sink = CollectorSink(f"http://127.0.0.1:{port}", "tok", max_attempts=3, sleep=waits.append)
    with pytest.raises(SinkError, match="unreachable"):
        import_git(_settings(rich_repo, tmp_path), sink)
    assert waits == [2.0, 4.0]


def test_cli_writes_jsonl_and_prints_a_summary(rich_repo: GitRepo, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    args = ["import", "git", str(rich_repo.path), "--out", str(out), "--salt", "s", "--state",
            str(tmp_path / "st.json"), "--branch", "main", "--bot", "Ada Lovelace"]  # fmt: skip
    result = CliRunner().invoke(root, args)
    assert result.exit_code == 0, result.output
    assert "git local/repo: 7 commits (1 merges," in result.output and "accepted 7" in result.output
    events = _read(out)
    assert len(events) == 7
    assert [event.payload.is_bot for event in events] == [True, True, True, False, True, True, True]
    again = CliRunner().invoke(root, args)
    assert "0 commits" in again.output and len(_read(out)) == 7


def test_cli_usage_errors(rich_repo: GitRepo, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["import", "git", str(rich_repo.path), "--salt", "s"]
    assert "exactly one of" in runner.invoke(root, base).output
    both = runner.invoke(root, [*base, "--out", "x", "--all", "--branch", "main"])
    assert both.exit_code == 2 and "exclude each other" in both.output
    missing = runner.invoke(root, [*base, "--out", str(tmp_path / "x"), "--branch", "nope"])
    assert missing.exit_code == 1 and "nope" in missing.output


def test_each_ref_is_remembered_on_its_own(rich_repo: GitRepo, tmp_path: Path) -> None:
    rich_repo.git("checkout", "-q", "-b", "topic", "HEAD~3")
    rich_repo.write("topic.txt", "t\n")
    rich_repo.commit("Topic work")
    out = tmp_path / "events.jsonl"
    assert import_git(_settings(rich_repo, tmp_path, branches=("main",)), JsonlSink(out)).commits == 7
    topic = import_git(_settings(rich_repo, tmp_path, branches=("topic",)), JsonlSink(out))
    assert topic.commits == 1  # what topic shares with main was imported with main
    rich_repo.write("topic.txt", "t2\n")
    rich_repo.commit("More topic work")
    rich_repo.git("checkout", "-q", "main")
    rich_repo.write("main.txt", "m\n")
    rich_repo.commit("More main work")
    both = import_git(_settings(rich_repo, tmp_path, all_branches=True), JsonlSink(out))
    assert both.commits == 2 and not both.rewrites
    events = _read(out)
    assert {event.payload.message: event.payload.branch for event in events[-2:]} == {
        "More topic work": "topic",
        "More main work": "main",
    }
    assert len({event.payload.sha for event in events}) == len(events) == 10
    state = json.loads((tmp_path / "state.json").read_text())
    [stream] = state["streams"].values()
    assert stream["refs"] == {name: rich_repo.head(name) for name in ("main", "topic", "feature")}
    rich_repo.git("commit", "-q", "--amend", "-m", "More main work, reworded")
    rewritten = import_git(_settings(rich_repo, tmp_path, branches=("refs/heads/main",)), JsonlSink(out))
    assert [(r.ref, r.operation) for r in rewritten.rewrites] == [("main", "amend")]  # the same ref, however named


def test_cli_reports_a_rewrite_and_shows_progress(rich_repo: GitRepo, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    args = ["import", "git", str(rich_repo.path), "--out", str(out), "--salt", "s", "--state",
            str(tmp_path / "st.json")]  # fmt: skip
    first = CliRunner().invoke(root, args)
    assert first.exit_code == 0, first.output
    assert re.search(r"git repo .*7/7", first.stderr), first.stderr  # the bar, at its end
    old = rich_repo.head()
    rich_repo.git("commit", "-q", "--amend", "-m", "Add mailmap, reworded")
    second = CliRunner().invoke(root, args)
    assert f"history rewritten on main (amend): {old[:12]} -> {rich_repo.head()[:12]}" in second.stderr
    assert "1 commits (0 merges, 1 file changes), 1 rewrites, 2 events" in second.stdout


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    args = ["import", "git", str(plain), "--out", str(tmp_path / "o.jsonl"), "--salt", "s", "--state",
            str(tmp_path / "st.json")]  # fmt: skip
    result = CliRunner().invoke(root, args)
    assert result.exit_code == 1 and result.stdout == ""
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("Error: git ") and "not a git repository" in line
    (tmp_path / "st.json").write_text("{not json")
    repo = GitRepo(tmp_path / "repo")
    repo.write("a.txt", "a\n")
    repo.commit("One")
    broken = CliRunner().invoke(root, [*args[:2], str(repo.path), *args[3:]])
    assert broken.exit_code == 1 and "unreadable" in broken.stderr and "move it away" in broken.stderr
    missing_salt = CliRunner().invoke(root, ["import", "git", str(repo.path), "--out", "x"], env={"SMARTCO_SALT": ""})
    assert missing_salt.exit_code == 2 and "--salt" in missing_salt.output


def test_cli_max_commits_since_and_until(rich_repo: GitRepo, tmp_path: Path) -> None:
    def run(*extra: str) -> list:
        out = tmp_path / f"{len(list(tmp_path.iterdir()))}.jsonl"
        args = ["import", "git", str(rich_repo.path), "--out", str(out), "--salt", "s", "--no-progress",
                "--state", str(tmp_path / f"{out.stem}.state"), *extra]  # fmt: skip
        assert CliRunner().invoke(root, args).exit_code == 0
        return _read(out)

    everything = run()
    assert [event.payload.sha for event in run("--max-commits", "2")] == [e.payload.sha for e in everything[-2:]]
    cut = everything[3].payload.committed_at.isoformat()
    assert {e.payload.sha for e in run("--since", cut)} | {e.payload.sha for e in run("--until", cut)} == {
        e.payload.sha for e in everything
    }
