"""What a GitHub import must have kept of the test world, checked the same way for files and for the live API."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sources.githubworld import HEAD_SHA, LAST_SHA, OTHER_SHA, World

from trajectory.events import EventBase, parse_event
from trajectory.privacy import pseudonymise

SALT = "team-salt"
EXPECTED_KINDS = {"issue.opened": 2, "issue.comment": 5, "pr.opened": 2, "pr.merged": 1, "pr.closed": 1,
                  "review.submitted": 2, "review.comment": 2}  # fmt: skip


def read_events(path: Path) -> list[EventBase]:
    return [parse_event(line) for line in path.read_bytes().splitlines()]


def who(login: str) -> str:
    return pseudonymise(login, SALT)


def check_world_kept(events: list[EventBase], world: World) -> None:
    """Every object of the world, with what the seed formats and the aligner need."""
    assert Counter(event.kind for event in events) == EXPECTED_KINDS
    assert len({event.id for event in events}) == len(events)
    assert all(event.repo == "github.com/codertocat/hello-world" and event.source == "github" for event in events)
    _check_issues(events, world)
    _check_pulls(events)
    _check_reviews(events)


def _check_issues(events: list[EventBase], world: World) -> None:
    opened = {event.payload.number: event for event in events if event.kind == "issue.opened"}
    first, source = opened[1].payload, world.issue(1)
    assert (first.title, first.body, first.user_login) == (source["title"], source["body"], who("Codertocat"))
    assert first.created_at.isoformat() == "2019-05-15T15:10:00+00:00"
    assert first.updated_at.isoformat() == "2019-05-15T15:25:00+00:00"
    assert opened[1].actor == who("Codertocat") and opened[3].payload.user_login == who("octocat")
    comments = [event.payload for event in events if event.kind == "issue.comment"]
    on_first = sorted((c for c in comments if c.issue_number == 1), key=lambda c: c.created_at)
    expected = sorted((c for c in world.issue_comments if c["issue_url"].endswith("/1")), key=lambda c: c["created_at"])
    assert [(c.comment_id, c.user_login, c.body) for c in on_first] == [
        (c["id"], who(c["user"]["login"]), c["body"]) for c in expected
    ]
    assert [(c.created_at.strftime("%M:%S"), c.updated_at.strftime("%M:%S")) for c in on_first] == [
        ("11:00", "11:00"), ("12:00", "24:00"), ("13:00", "13:00"), ("14:00", "14:00")]  # fmt: skip
    assert [c.is_bot for c in on_first] == [False, False, True, False]
    assert [c.issue_number for c in comments if c.body == "Closing in favour of #2."] == [4]


def _check_pulls(events: list[EventBase]) -> None:
    pulls = {event.payload.number: event.payload for event in events if event.kind == "pr.opened"}
    merged = pulls[2]
    assert merged.commits == [OTHER_SHA, HEAD_SHA] and merged.head_sha == HEAD_SHA
    assert (merged.base_ref, merged.head_ref) == ("master", "changes")
    assert merged.linked_issues == [1, 5, 3]  # fixes #1, closes #5 (a commit), then #3
    assert pulls[4].commits == [LAST_SHA] and pulls[4].linked_issues == []
    [end] = [event for event in events if event.kind == "pr.merged"]
    assert (end.payload.number, end.payload.merge_commit_sha, end.payload.merged_by) == (2, LAST_SHA, who("Codertocat"))
    assert end.payload.merged_at.strftime("%M:%S") == "40:00"
    [closed] = [event for event in events if event.kind == "pr.closed"]
    assert closed.payload.number == 4 and closed.payload.closed_at.strftime("%M:%S") == "45:00"


def _check_reviews(events: list[EventBase]) -> None:
    reviews = sorted((e.payload for e in events if e.kind == "review.submitted"), key=lambda r: r.submitted_at)
    assert [(r.pr_number, r.state, r.user_login, r.commit_id) for r in reviews] == [
        (2, "commented", who("Codertocat"), HEAD_SHA), (2, "approved", who("octocat"), HEAD_SHA)]  # fmt: skip
    remarks = sorted((e for e in events if e.kind == "review.comment"), key=lambda e: e.ts)
    first, reply = (event.payload for event in remarks)
    assert (first.pr_number, first.path, first.line, first.side) == (2, "README.md", 265, "RIGHT")
    assert first.diff_hunk == "@@ -1 +1 @@\n-# Hello-World" and first.commit_id == HEAD_SHA
    assert remarks[0].path == "README.md"
    assert (reply.in_reply_to, reply.body, reply.user_login) == (first.comment_id, "Done.", who("octocat"))
