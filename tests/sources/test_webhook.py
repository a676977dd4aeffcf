"""events_from_webhook on every real payload in the shared data: kinds, field values, ids, unknown kinds."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from trajectory.events import event_to_dict, parse_event
from trajectory.privacy import pseudonymise
from trajectory.sources.webhook import events_from_webhook

SALT = "webhook-salt"
CODERTOCAT = pseudonymise("Codertocat", SALT)


def _payloads(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "github-webhook-payloads").glob("*/*.json"))


def _load(shared_data: Path, name: str) -> dict[str, Any]:
    return json.loads((shared_data / "github-webhook-payloads" / name).read_text())


def _one(shared_data: Path, name: str, **options: Any) -> Any:
    event_name = name.split("/")[0]
    [event] = events_from_webhook(event_name, _load(shared_data, name), delivery_id="d1", salt=SALT, **options)
    return event


EXPECTED_KINDS = {
    "issue_comment/created.1.payload.json": ["issue.comment"],
    "issue_comment/created.payload.json": ["issue.comment"],
    "issue_comment/edited.payload.json": ["issue.comment"],
    "issues/edited.payload.json": [],
    "issues/opened.payload.json": ["issue.opened"],
    "issues/opened.with-empty-body.payload.json": ["issue.opened"],
    "issues/opened.with-transfer.payload.json": ["issue.opened"],
    "issues/reopened.payload.json": [],
    "ping/payload.json": [],
    "ping/with-app_id.payload.json": [],
    "pull_request/closed.payload.json": ["pr.closed"],
    "pull_request/opened.payload.json": ["pr.opened"],
    "pull_request/opened.with-null-body.json": ["pr.opened"],
    "pull_request/reopened.payload.json": ["pr.opened"],
    "pull_request/synchronize.payload.json": ["pr.updated"],
    "pull_request_review/dismissed.payload.json": ["review.submitted"],
    "pull_request_review/submitted.payload.json": ["review.submitted"],
    "pull_request_review_comment/created.payload.json": ["review.comment"],
    "pull_request_review_comment/edited.payload.json": ["review.comment"],
    "push/1.payload.json": [],
    "push/payload.json": [],
    "push/with-new-branch.payload.json": ["git.commit"],
    "push/with-no-username-committer.payload.json": ["git.commit"],
}


def test_every_real_payload_translates(shared_data: Path) -> None:
    files = _payloads(shared_data)
    assert {str(path.relative_to(path.parents[1])) for path in files} == set(EXPECTED_KINDS)
    for path in files:
        name = str(path.relative_to(path.parents[1]))
        events = events_from_webhook(path.parent.name, json.loads(path.read_text()), delivery_id=name, salt=SALT)
        assert [event.kind for event in events] == EXPECTED_KINDS[name], name
        for seq, event in enumerate(events):
            assert parse_event(event_to_dict(event)) == event
            assert event.source == "github" and event.seq == seq and event.session_id == f"github-webhook:{name}"
            assert event.repo == "github.com/codertocat/hello-world"
            fields = {key: value for key, value in event_to_dict(event)["payload"].items() if key != "url"}
            assert "codertocat" not in json.dumps(fields).lower()  # logins and e-mails pseudonymised


def test_replayed_delivery_gives_the_same_ids(shared_data: Path) -> None:
    payload = _load(shared_data, "issues/opened.payload.json")
    first = events_from_webhook("issues", payload, delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958", salt=SALT)
    again = events_from_webhook("issues", payload, delivery_id="72d3162e-cc78-11e3-81ab-4c9367dc0958", salt=SALT)
    other = events_from_webhook("issues", payload, delivery_id="another-delivery", salt=SALT)
    assert first == again and first[0].id != other[0].id
    assert isinstance(first[0].id, uuid.UUID) and str(uuid.UUID(str(first[0].id))) == str(first[0].id)


def test_issue_fields(shared_data: Path) -> None:
    event = _one(shared_data, "issues/opened.payload.json")
    payload = event.payload
    assert (payload.number, payload.title, payload.state) == (1, "Spelling error in the README file", "open")
    assert payload.body == "It looks like you accidently spelled 'commit' with two 't's."
    assert payload.labels == ["bug"] and payload.user_login == CODERTOCAT == event.actor
    assert payload.created_at.isoformat() == "2019-05-15T15:20:18+00:00" and payload.closed_at is None
    assert payload.url == "https://github.com/Codertocat/Hello-World/issues/1"
    empty = _one(shared_data, "issues/opened.with-empty-body.payload.json")
    assert empty.payload.body in ("", None)
    kept = _one(shared_data, "issues/opened.payload.json", keep_logins=True)
    assert kept.payload.user_login == "Codertocat" and kept.actor == CODERTOCAT


def test_comment_fields(shared_data: Path) -> None:
    event = _one(shared_data, "issue_comment/created.payload.json")
    assert event.payload.issue_number == 1 and event.payload.comment_id == 492700400
    assert event.payload.body.startswith("You are totally right!")
    assert event.payload.author_association == "OWNER"
    edited = _one(shared_data, "issue_comment/edited.payload.json")
    assert edited.payload.updated_at >= edited.payload.created_at


def test_pull_request_lifecycle(shared_data: Path) -> None:
    opened = _one(shared_data, "pull_request/opened.payload.json").payload
    assert (opened.number, opened.base_ref, opened.head_ref) == (2, "master", "changes")
    assert opened.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821" and opened.commits == []
    assert _one(shared_data, "pull_request/opened.with-null-body.json").payload.body is None
    update = _one(shared_data, "pull_request/synchronize.payload.json").payload
    assert update.before_sha == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e" and update.head_sha.startswith("ec26c3e")
    closed = _one(shared_data, "pull_request/closed.payload.json")
    assert closed.kind == "pr.closed" and closed.payload.closed_at.isoformat() == "2019-05-15T15:21:18+00:00"
    merged_payload = _load(shared_data, "pull_request/closed.payload.json")
    pr = merged_payload["pull_request"]
    pr.update(merged=True, merged_at="2019-05-15T15:21:18Z", merged_by=pr["user"])
    [merged] = events_from_webhook("pull_request", merged_payload, delivery_id="m", salt=SALT)
    assert merged.kind == "pr.merged" and merged.payload.merge_commit_sha == "c4295bd74fb0f4fda03689c3df3f2803b658fd85"
    assert merged.payload.merged_by == CODERTOCAT


def test_reviews_and_review_comments(shared_data: Path) -> None:
    review = _one(shared_data, "pull_request_review/submitted.payload.json").payload
    assert (review.pr_number, review.review_id, review.state) == (2, 237895671, "commented")
    assert review.commit_id == "ec26c3e57ca3a959ca5aad62de7213c562f8c821" and review.body is None
    assert _one(shared_data, "pull_request_review/dismissed.payload.json").payload.state == "dismissed"
    event = _one(shared_data, "pull_request_review_comment/created.payload.json")
    comment = event.payload
    assert event.path == comment.path == "README.md"
    assert (comment.pr_number, comment.comment_id, comment.review_id) == (2, 284312630, 237895671)
    assert (comment.line, comment.original_line, comment.side) == (265, 265, "RIGHT")
    assert comment.diff_hunk == "@@ -1 +1 @@\n-# Hello-World"
    assert comment.commit_id == comment.original_commit_id == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def test_push_commits_and_force_push(shared_data: Path) -> None:
    event = _one(shared_data, "push/with-no-username-committer.payload.json")
    commit = event.payload
    assert commit.sha == "6113728f27ae82c7b1a177c8d03f9e96e0adf246" and commit.message == "Initial commit"
    assert commit.branch == "master" and [(f.path, f.change_type) for f in commit.files] == [("README.md", "add")]
    # the same person as the git miner sees them: pseudonymised e-mail
    assert commit.author == pseudonymise("21031067+Codertocat@users.noreply.github.com", SALT) == event.actor
    payload = _load(shared_data, "push/with-new-branch.payload.json")
    payload.update(forced=True, before="f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
    rebase, pushed = events_from_webhook("push", payload, delivery_id="f", salt=SALT)
    assert rebase.kind == "git.rebase" and rebase.payload.operation == "force-push"
    assert rebase.payload.old_head == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e" and pushed.seq == 1
    payload["commits"][0]["author"] = {
        "name": "dependabot[bot]",
        "email": "49699333+dependabot[bot]@users.noreply.github.com",
    }
    assert events_from_webhook("push", payload, delivery_id="g", salt=SALT)[1].payload.is_bot


@pytest.mark.parametrize(
    ("event_name", "payload"),
    [("deployment", {"repository": {"full_name": "a/b"}}), ("issues", {"action": "opened"}), ("ping", {})],
)
def test_unknown_kinds_or_missing_repository_give_nothing(event_name: str, payload: dict[str, Any]) -> None:
    assert events_from_webhook(event_name, payload, delivery_id="x", salt=SALT) == []
