"""`smartco import github OWNER/NAME` against a real local HTTP server serving REST-shaped pages.

The clock and the sleep of the client are injected, so rate-limit waits of minutes take no time here.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from sources.githubcheck import SALT, check_world_kept, read_events
from sources.githubstub import GitHubApi, primary, rate_limited
from sources.githubworld import LAST_SHA, REPO, build_world, write_gh_files
from sources.httpstub import Reply, StubServer

from smartco.cli import root
from trajectory.sources import GitHubError
from trajectory.sources.githubapi import GitHubClient, RateLimitError
from trajectory.sources.githubimport import GitHubImportResult, GitHubImportSettings, import_github_files
from trajectory.sources.githublive import import_github_live
from trajectory.sources.sink import JsonlSink

TOKEN = "ghp_local"


@dataclass
class FakeClock:
    now: float = 1_700_000_000.0
    slept: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Live:
    """A local GitHub, a fake clock, and a way to run the live importer against them."""

    server: StubServer
    api: GitHubApi
    clock: FakeClock
    tmp_path: Path
    waits: list[tuple[float, str]] = field(default_factory=list)

    def run(self, out: str = "events.jsonl", **overrides: object) -> GitHubImportResult:
        values: dict[str, object] = {"salt": SALT, "state_path": self.tmp_path / "state.json", "destination": "t",
                                     "repo": REPO, "token": TOKEN, "api_url": self.server.url}  # fmt: skip
        values.update(overrides)
        settings = GitHubImportSettings(**values)  # type: ignore[arg-type]
        client = GitHubClient(settings.token, api_url=self.server.url, sleep=self.clock.sleep, clock=self.clock.time,
                              on_wait=self.on_wait, max_wait_s=settings.max_wait_s)  # fmt: skip
        sink = JsonlSink(self.tmp_path / out)
        try:
            return import_github_live(settings, sink, client=client)
        finally:
            sink.close()
            client.close()

    def on_wait(self, seconds: float, reason: str) -> None:
        self.waits.append((seconds, reason))

    def events(self, out: str = "events.jsonl") -> list:
        return read_events(self.tmp_path / out)

    def queries(self, fragment: str) -> list[dict[str, str]]:
        """The query parameters of every request whose path contains `fragment`."""
        return [{key: value[0] for key, value in parse_qs(urlsplit(path).query).items()}
                for _, path, _ in self.server.requests if fragment in path]  # fmt: skip


@pytest.fixture
def live(shared_data: Path, tmp_path: Path) -> Iterator[Live]:
    clock = FakeClock()
    api = GitHubApi(build_world(shared_data), token=TOKEN, page_size=2)
    api.clock, api.reset_at = clock.time, clock.now + api.window_s
    server = StubServer(api)
    api.url = server.url
    yield Live(server, api, clock, tmp_path)
    server.stop()


def test_follows_link_pages_and_keeps_everything_the_files_give(live: Live) -> None:
    result = live.run()
    events = live.events()
    check_world_kept(events, live.api.world)
    assert [query.get("page") for query in live.queries("/issues?")] == [None, "2"]  # 2 issues, 2 pull requests
    assert result.api.requests == len(live.server.requests) and result.api.not_modified == 0
    assert all(headers["authorization"] == f"Bearer {TOKEN}" for _, _, headers in live.server.requests)
    folder = write_gh_files(live.api.world, live.tmp_path / "dump")
    files = GitHubImportSettings(salt=SALT, state_path=live.tmp_path / "files.json", destination="f", files=(folder,))
    sink = JsonlSink(live.tmp_path / "files.jsonl")
    import_github_files(files, sink)
    sink.close()
    from_files = {event.id: event.payload for event in read_events(live.tmp_path / "files.jsonl")}
    assert {event.id: event.payload for event in events} == from_files


def test_next_run_asks_since_the_last_and_gets_unchanged_pages_free(live: Live) -> None:
    live.run()
    first_requests = len(live.server.requests)
    second = live.run()
    assert second.events == 0 and len(live.events()) == 15
    requests = live.server.requests[first_requests:]
    assert {query.get("since") for query in live.queries("/issues?")[2:]} == {"2019-05-15T15:45:00Z"}
    assert live.queries("/issues/comments?")[-1]["since"] == "2019-05-15T15:44:00Z"
    pulls = [headers for _, path, headers in requests if "/pulls?" in path]
    assert pulls and all("if-none-match" in headers for headers in pulls)
    assert second.api.not_modified == len(pulls) >= 1  # the unchanged pull request listing came back as 304


def test_next_run_takes_new_comments_reviews_and_updated_pulls_once(live: Live) -> None:
    live.run()
    world = live.api.world
    comment = copy.deepcopy(world.issue_comments[0])
    comment.update(id=comment["id"] + 50, body="One more thing.", created_at="2019-05-15T15:50:00Z",
                   updated_at="2019-05-15T15:50:00Z")  # fmt: skip
    world.issue_comments.append(comment)
    review = copy.deepcopy(world.reviews[2][1])
    review.update(id=review["id"] + 50, state="CHANGES_REQUESTED", submitted_at="2019-05-15T15:52:00Z")
    world.reviews[4].append(review)
    world.pulls[1]["updated_at"] = "2019-05-15T15:52:00Z"  # pull request #4 moves to the top of the listing
    third = live.run()
    new = live.events()[15:]
    assert sorted(event.kind for event in new) == ["issue.comment", "pr.opened", "review.submitted"]
    assert third.events == 3 and len({event.id for event in live.events()}) == 18
    [pull] = [event.payload for event in new if event.kind == "pr.opened"]
    assert pull.number == 4 and pull.commits == [LAST_SHA]  # its commits page answered 304: remembered
    assert third.api.not_modified >= 1
    assert [event.payload.state for event in new if event.kind == "review.submitted"] == ["changes_requested"]


def test_primary_rate_limit_waits_for_the_reset(live: Live) -> None:
    live.api.limit = live.api.remaining = 4
    live.api.window_s = 120.0
    live.api.reset_at = live.clock.now + 120
    live.api.faults = [("/pulls/comments", primary(live.clock.now + 500))]
    result = live.run()
    check_world_kept(live.events(), live.api.world)
    exhausted = [(round(s), why) for s, why in live.waits if "exhausted" in why]
    assert exhausted and exhausted[0] == (121, "GitHub rate limit exhausted until its reset")
    assert [why for _, why in live.waits].count("GitHub rate limit (403)") == 1
    assert result.api.waits == len(live.waits) == len(live.clock.slept)
    assert result.api.waited_s == pytest.approx(sum(live.clock.slept))


def test_secondary_rate_limits_honour_retry_after(live: Live) -> None:
    live.api.faults = [
        ("/issues?", rate_limited(403, "7")),
        ("/pulls/2/reviews", rate_limited(429, "3")),
        ("/pulls/comments", rate_limited(403, None, "You have exceeded a secondary rate limit.")),
    ]
    result = live.run()
    check_world_kept(live.events(), live.api.world)
    assert live.waits == [(7.0, "GitHub rate limit (403)"), (3.0, "GitHub rate limit (429)"),
                          (60.0, "GitHub rate limit (403)")]  # fmt: skip
    assert live.clock.slept == [7.0, 3.0, 60.0] and result.api.retries == 3


def test_server_errors_are_retried_then_given_up(live: Live) -> None:
    live.api.faults = [("/issues/comments", Reply(500, {"message": "Server Error"}))] * 2
    live.run()
    assert live.waits == [(2.0, "GitHub answered 500"), (4.0, "GitHub answered 500")]
    assert len(live.events()) == 15
    live.api.faults = [("/issues?", Reply(502, b"<html>bad gateway</html>"))] * 6
    with pytest.raises(GitHubError, match="giving up after 6 attempts: GitHub answered 502"):
        live.run(out="other.jsonl", destination="other")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"token": "ghp_wrong"}, "GitHub refused the token (401 Bad credentials): check GITHUB_TOKEN"),
        ({"repo": "Codertocat/Nope"}, "GitHub has no /repos/Codertocat/Nope/issues?"),
    ],
)
def test_refusals_say_what_to_change(live: Live, change: dict[str, str], message: str) -> None:
    with pytest.raises(GitHubError) as caught:
        live.run(**change)
    assert message in str(caught.value) and TOKEN not in str(caught.value) and live.waits == []
    live.api.faults = [("/pulls?", Reply(403, {"message": "Resource not accessible by integration"}))]
    with pytest.raises(GitHubError, match="403 Resource not accessible by integration"):
        live.run(out="third.jsonl", destination="third")


def test_a_wait_too_long_stops_the_run_and_the_next_resumes(live: Live) -> None:
    live.api.faults = [("/issues/comments?", rate_limited(429, "900"))]
    with pytest.raises(RateLimitError, match="would have to wait 900s"):
        live.run(max_wait_s=600.0)
    assert len(live.events()) == 2  # issues #1 and #3 were delivered before the limit
    result = live.run(max_wait_s=600.0)
    assert result.resumed is None  # the issues listing had finished; comments start again from their first page
    events = live.events()
    check_world_kept(events, live.api.world)


def test_cli_shows_waits_and_a_summary(live: Live, tmp_path: Path) -> None:
    live.api.faults = [("/pulls?", rate_limited(429, "0"))]
    out = tmp_path / "cli.jsonl"
    args = ["import", "github", REPO, "--api-url", live.server.url, "--out", str(out), "--salt", SALT,
            "--state", str(tmp_path / "cli-state.json")]  # fmt: skip
    result = CliRunner().invoke(root, args, env={"GITHUB_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert "waiting 0s: GitHub rate limit (429)" in result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("github github.com/codertocat/hello-world: 15 events (")
    assert f"API {len(live.server.requests)} requests, 0 not modified (free), 1 waits (0s)" in summary
    refused = CliRunner().invoke(root, args, env={"GITHUB_TOKEN": "ghp_wrong"})
    assert refused.exit_code == 1 and refused.stdout == ""
    [error] = [line for line in refused.stderr.splitlines() if line.strip()]  # the progress bar is gone
    assert error.startswith("Error: GitHub refused the token (401 Bad credentials)")


@pytest.mark.e2e
def test_killed_mid_way_the_next_run_resumes_without_duplicates_or_gaps(live: Live, tmp_path: Path) -> None:
    reached, release = live.api.hold_on("page=2")  # the second page of the issues listing
    out = tmp_path / "killed.jsonl"
    state = tmp_path / "killed-state.json"
    command = [sys.executable, "-m", "smartco.cli", "import", "github", REPO, "--api-url", live.server.url,
               "--out", str(out), "--salt", SALT, "--state", str(state), "--no-progress"]  # fmt: skip
    process = subprocess.Popen(command, env={**os.environ, "GITHUB_TOKEN": TOKEN}, stderr=subprocess.PIPE)
    try:
        assert reached.wait(timeout=60), "the importer never asked for the held page"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        release.set()
        if process.poll() is None:
            process.kill()
            process.wait()
    held_path = next(path for _, path, _ in reversed(live.server.requests) if "page=2" in path)
    assert "/issues?" in held_path  # killed while reading the second page of issues
    before = read_events(out) if out.exists() else []
    resumed = subprocess.run(command, env={**os.environ, "GITHUB_TOKEN": TOKEN}, capture_output=True, text=True,
                             timeout=120, check=False)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed at issues" in resumed.stdout
    events = read_events(out)
    assert len(before) < len(events) == 15 and events[: len(before)] == before
    check_world_kept(events, live.api.world)
    assert [event.seq for event in events] == list(range(15))
