"""`smartco import github --from FILES`: REST objects as `gh api --paginate` writes them, incremental, resumable."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sources.githubcheck import SALT, check_world_kept, read_events, who
from sources.githubworld import World, build_world, write_gh_files
from sources.httpstub import IngestStub, Reply, StubServer

from smartco.cli import root
from trajectory.sources.githubimport import GitHubImportSettings, import_github_files
from trajectory.sources.restdump import read_json_values
from trajectory.sources.sink import CollectorSink, SinkError


@pytest.fixture
def world(shared_data: Path) -> World:
    return build_world(shared_data)


def _cli(tmp_path: Path, *args: str) -> Result:
    base = ["import", "github", "--salt", SALT, "--state", str(tmp_path / "state.json"), "--no-progress"]
    return CliRunner().invoke(root, [*base, *args])


def test_files_in_gh_paginate_shape_keep_every_object(world: World, tmp_path: Path) -> None:
    folder = write_gh_files(world, tmp_path / "dump")
    assert (folder / "issues.json").read_text().count("][") == 1  # two pages, back to back
    out = tmp_path / "events.jsonl"
    result = _cli(tmp_path, "--from", str(folder), "--out", str(out))
    assert result.exit_code == 0, result.output
    check_world_kept(read_events(out), world)
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("github github.com/codertocat/hello-world: 15 events (5 issue.comment, 2 issue.opened")
    assert "accepted 15, duplicate 0, rejected 0" in summary


def test_public_logins_are_kept_only_when_asked(world: World, tmp_path: Path) -> None:
    folder = write_gh_files(world, tmp_path / "dump")
    out = tmp_path / "events.jsonl"
    assert _cli(tmp_path, "--from", str(folder), "--out", str(out), "--keep-logins").exit_code == 0
    logins = {event.payload.user_login for event in read_events(out) if hasattr(event.payload, "user_login")}
    assert logins == {"Codertocat", "octocat", "triage[bot]"}
    assert {event.actor for event in read_events(out)} <= {who("Codertocat"), who("octocat"), who("triage[bot]")}


def test_second_import_sends_only_what_is_new(world: World, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    assert _cli(tmp_path, "--from", str(write_gh_files(world, tmp_path / "d1")), "--out", str(out)).exit_code == 0
    again = _cli(tmp_path, "--from", str(write_gh_files(world, tmp_path / "d1")), "--out", str(out))
    assert "0 events (nothing new)" in again.stdout
    # A newer dump: issue #3 edited, one new comment, and one more made in the very second of the newest one.
    newest = max(world.issue_comments, key=lambda comment: comment["updated_at"])
    same_second = copy.deepcopy(newest)
    same_second.update(id=newest["id"] + 100, body="Same second, still new.")
    later = copy.deepcopy(newest)
    later.update(id=newest["id"] + 101, body="Later still.", created_at="2019-05-15T15:50:00Z",
                 updated_at="2019-05-15T15:50:00Z")  # fmt: skip
    world.issue_comments += [same_second, later]
    world.issue(3).update(title="Crash on start (Linux only)", updated_at="2019-05-15T15:51:00Z")
    third = _cli(tmp_path, "--from", str(write_gh_files(world, tmp_path / "d2")), "--out", str(out))
    assert third.exit_code == 0, third.output
    events = read_events(out)
    assert len(events) == 15 + 3 and len({event.id for event in events}) == 18
    assert [(e.kind, e.payload.title if e.kind == "issue.opened" else e.payload.body) for e in events[15:]] == [
        ("issue.opened", "Crash on start (Linux only)"),  # the issue as it now stands; its time is its opening
        ("issue.comment", "Same second, still new."),
        ("issue.comment", "Later still."),
    ]
    assert [event.seq for event in events] == list(range(18))


def test_explicit_since_takes_what_was_updated_from_then(world: World, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    folder = str(write_gh_files(world, tmp_path / "dump"))
    result = _cli(tmp_path, "--from", folder, "--out", str(out), "--since", "2019-05-15T15:40:00Z")
    assert result.exit_code == 0, result.output
    kinds = sorted(event.kind for event in read_events(out))
    # pull request #2 (updated 15:40, merged 15:40), #4 (15:45) and the comment of 15:44
    assert kinds == ["issue.comment", "pr.closed", "pr.merged", "pr.opened", "pr.opened"]


def test_interrupted_delivery_resumes_without_duplicates(
    world: World, tmp_path: Path, ingest: tuple[StubServer, IngestStub]
) -> None:
    server, stub = ingest
    folder = write_gh_files(world, tmp_path / "dump")
    settings = GitHubImportSettings(salt=SALT, state_path=tmp_path / "state.json", destination=server.url,
                                    files=(folder,), batch_size=4)  # fmt: skip
    original, calls = stub.__call__, {"n": 0}

    def fails_after_two_batches(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        calls["n"] += 1
        return original(method, path, headers, body) if calls["n"] <= 2 else Reply(503, {"detail": "down"})

    server.handler = fails_after_two_batches
    with pytest.raises(SinkError, match="giving up after 2 attempts"):
        import_github_files(settings, CollectorSink(server.url, "tok", max_attempts=2, sleep=lambda s: None))
    assert len(stub.events) == 8
    server.handler = original
    posts = len(server.requests)
    result = import_github_files(settings, CollectorSink(server.url, "tok"))
    assert result.skipped == 8 and result.delivery.accepted == 7 and result.delivery.duplicate == 0
    assert len(server.requests) - posts == 2 and len(stub.events) == 15
    assert sorted(event["seq"] for event in stub.events.values()) == list(range(15))


def test_reader_takes_every_shape_gh_writes(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text('[{"a": 1}, {"a": 2}][{"a": 3}]\n[[{"a": 4}]]\n{"a": 5}\n{"a": 6}\n')
    values = list(read_json_values(path))
    assert values == [[{"a": 1}, {"a": 2}], [{"a": 3}], [[{"a": 4}]], {"a": 5}, {"a": 6}]


def test_errors_are_one_line(world: World, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"number": 1, "title": "x"}][{"oops"')
    result = _cli(tmp_path, "--from", str(broken), "--out", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "broken.json: not GitHub JSON" in result.output
    anonymous = tmp_path / "anonymous.json"
    anonymous.write_text(json.dumps([{"number": 1, "title": "x", "created_at": "2020-01-01T00:00:00Z", "id": 1}]))
    result = _cli(tmp_path, "--from", str(anonymous), "--out", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1 and "pass OWNER/NAME" in result.output and result.output.count("\n") == 1
    wrong = _cli(tmp_path, "not-a-repo", "--from", str(anonymous), "--out", str(tmp_path / "o.jsonl"))
    assert wrong.exit_code == 1 and "'not-a-repo' is not OWNER/NAME" in wrong.output
    neither = _cli(tmp_path, "--out", str(tmp_path / "o.jsonl"))
    assert neither.exit_code == 2 and "give OWNER/NAME for the live API, or --from FILES" in neither.output
