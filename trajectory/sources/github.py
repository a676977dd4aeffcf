"""GitHub objects in REST shape (issues, comments, pull requests, reviews, review comments) turned into events.

Webhook payloads embed the same objects as the REST API, so the webhook translator and the importer share these
converters: one code path per object. A converter returns a `Draft` (kind, payload, time, actor, key); the caller
gives it its envelope identity (session, seq, id).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trajectory.events import EventBase, make_event
from trajectory.payloads import MAX_BODY, MAX_DIFF, MAX_NAME
from trajectory.sources.git import normalise_remote
from trajectory.sources.identity import actor_id, is_bot, stable_event_id

Json = Mapping[str, Any]
PrCommit = tuple[str, str]  # (sha, message) of a pull request's commit

_CLOSING = re.compile(r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\b:?\s+#(\d+)", re.IGNORECASE)
_REFERENCE = re.compile(r"(?<![\w/&])#(\d+)\b")
_NUMBER_IN_URL = re.compile(r"/(?:issues|pulls)/(\d+)$")


@dataclass(frozen=True)
class GitHubContext:
    """How GitHub objects become events: the repository id, the salt, extra bot accounts."""

    repo_id: str
    salt: str
    bots: tuple[str, ...] = ()
    keep_logins: bool = False  # public logins as they are, instead of pseudonyms


@dataclass
class Draft:
    """An event before its envelope identity: what happened, when, by whom; `key` names it stably."""

    kind: str
    payload: dict[str, Any]
    ts: str
    actor: str
    key: tuple[object, ...]
    path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def repo_id_of(repository: Json) -> str:
    """`github.com/owner/name` from a payload's `repository` object."""
    url = repository.get("html_url") or f"https://github.com/{repository.get('full_name', '')}"
    return normalise_remote(str(url))


def login(user: Json | None) -> str:
    return str((user or {}).get("login") or "ghost")


def _who(user: Json | None, ctx: GitHubContext) -> tuple[str, str, bool]:
    """(actor, login as recorded, is bot) for a GitHub user object."""
    name = login(user)
    bot = (user or {}).get("type") == "Bot" or is_bot(name, extra=ctx.bots)
    shown = name if ctx.keep_logins else actor_id(name, ctx.salt)
    return actor_id(name, ctx.salt), shown[:MAX_NAME], bot


def issue_opened(issue: Json, ctx: GitHubContext) -> Draft:
    actor, shown, bot = _who(issue.get("user"), ctx)
    payload = {
        "number": issue["number"],
        "title": _text(issue.get("title")) or "",
        "body": _text(issue.get("body")),
        "user_login": shown,
        "state": issue.get("state") or "open",
        "labels": [str(label.get("name")) for label in issue.get("labels") or [] if isinstance(label, dict)],
        "created_at": issue.get("created_at"),
        "updated_at": issue.get("updated_at"),
        "closed_at": issue.get("closed_at"),
        "url": issue.get("html_url"),
        "is_bot": bot,
    }
    return Draft("issue.opened", payload, issue["created_at"], actor, ("issue", issue["id"], issue.get("updated_at")))


def issue_comment(comment: Json, ctx: GitHubContext, issue_number: int | None = None) -> Draft:
    actor, shown, bot = _who(comment.get("user"), ctx)
    number = issue_number if issue_number is not None else number_from_url(comment.get("issue_url"))
    payload = {
        "issue_number": number,
        "comment_id": comment["id"],
        "user_login": shown,
        "body": _text(comment.get("body")) or "",
        "created_at": comment.get("created_at"),
        "updated_at": comment.get("updated_at"),
        "author_association": comment.get("author_association"),
        "is_bot": bot,
    }
    ts = comment.get("updated_at") or comment["created_at"]
    return Draft("issue.comment", payload, ts, actor, ("issue-comment", comment["id"], comment.get("updated_at")))


def pr_opened(pr: Json, ctx: GitHubContext, commits: Sequence[PrCommit] = ()) -> Draft:
    """The pull request as it stands; `commits` are its (sha, message) pairs from `pulls/N/commits`."""
    actor, shown, bot = _who(pr.get("user"), ctx)
    messages = [message for _, message in commits]
    payload = {
        "number": pr["number"],
        "title": _text(pr.get("title")) or "",
        "body": _text(pr.get("body")),
        "user_login": shown,
        "base_ref": _ref(pr, "base"),
        "head_ref": _ref(pr, "head"),
        "base_sha": (pr.get("base") or {}).get("sha"),
        "head_sha": (pr.get("head") or {}).get("sha"),
        "created_at": pr.get("created_at"),
        "updated_at": pr.get("updated_at"),
        "commits": [sha for sha, _ in commits],
        "linked_issues": linked_issues(pr.get("title"), pr.get("body"), own=pr["number"], commit_messages=messages),
        "url": pr.get("html_url"),
        "is_bot": bot,
    }
    return Draft("pr.opened", payload, pr["created_at"], actor, ("pr", pr["id"], pr.get("updated_at")))


def pr_updated(pr: Json, ctx: GitHubContext, before: str | None, after: str, pusher: Json | None = None) -> Draft:
    actor, _, _ = _who(pusher or pr.get("user"), ctx)
    payload = {"number": pr["number"], "before_sha": before, "head_sha": after, "updated_at": pr.get("updated_at")}
    return Draft("pr.updated", payload, pr.get("updated_at") or pr["created_at"], actor, ("pr-sync", pr["id"], after))


def pr_ended(pr: Json, ctx: GitHubContext, closer: Json | None = None) -> Draft | None:
    """`pr.merged` or `pr.closed` for a pull request that has ended; None while it is open."""
    head = (pr.get("head") or {}).get("sha")
    if pr.get("merged_at") or pr.get("merged"):
        merger = pr.get("merged_by") or closer or pr.get("user")
        actor, shown, _ = _who(merger, ctx)
        payload = {"number": pr["number"], "merge_commit_sha": pr.get("merge_commit_sha"), "head_sha": head,
                   "merged_at": pr.get("merged_at"), "merged_by": shown if pr.get("merged_by") else None}  # fmt: skip
        ts = pr.get("merged_at") or pr.get("closed_at") or pr["updated_at"]
        return Draft("pr.merged", payload, ts, actor, ("pr-merged", pr["id"]))
    if pr.get("state") == "closed":
        actor, _, _ = _who(closer or pr.get("user"), ctx)
        payload = {"number": pr["number"], "closed_at": pr.get("closed_at"), "head_sha": head}
        ts = pr.get("closed_at") or pr["updated_at"]
        return Draft("pr.closed", payload, ts, actor, ("pr-closed", pr["id"], pr.get("closed_at")))
    return None


def review_submitted(review: Json, ctx: GitHubContext, pr_number: int | None = None) -> Draft | None:
    """A submitted (or dismissed) review; pending reviews, never submitted, give None."""
    state = str(review.get("state") or "").lower()
    if not review.get("submitted_at") or state == "pending":
        return None
    actor, shown, bot = _who(review.get("user"), ctx)
    number = pr_number if pr_number is not None else number_from_url(review.get("pull_request_url"))
    payload = {"pr_number": number, "review_id": review["id"], "user_login": shown, "state": state,
               "body": _text(review.get("body")), "commit_id": review.get("commit_id"),
               "submitted_at": review.get("submitted_at"), "is_bot": bot}  # fmt: skip
    return Draft("review.submitted", payload, review["submitted_at"], actor, ("review", review["id"], state))


def review_comment(comment: Json, ctx: GitHubContext, pr_number: int | None = None) -> Draft:
    actor, shown, bot = _who(comment.get("user"), ctx)
    number = pr_number if pr_number is not None else number_from_url(comment.get("pull_request_url"))
    hunk = comment.get("diff_hunk")
    payload = {
        "pr_number": number,
        "comment_id": comment["id"],
        "review_id": comment.get("pull_request_review_id"),
        "in_reply_to": comment.get("in_reply_to_id"),
        "user_login": shown,
        "body": _text(comment.get("body")) or "",
        "path": comment.get("path"),
        "line": comment.get("line"),
        "original_line": comment.get("original_line"),
        "start_line": comment.get("start_line"),
        "side": comment.get("side"),
        "diff_hunk": hunk if hunk is None or len(hunk) <= MAX_DIFF else None,
        "commit_id": comment.get("commit_id"),
        "original_commit_id": comment.get("original_commit_id"),
        "created_at": comment.get("created_at"),
        "updated_at": comment.get("updated_at"),
        "is_bot": bot,
    }
    ts = comment.get("updated_at") or comment["created_at"]
    key = ("review-comment", comment["id"], comment.get("updated_at"))
    return Draft("review.comment", payload, ts, actor, key, path=comment.get("path"))


def linked_issues(*texts: str | None, own: int | None = None, commit_messages: Iterable[str] = ()) -> list[int]:
    """Issue numbers a pull request names: closing keywords ("fixes #12") in its title, body or commit messages
    first (GitHub closes those on merge), then the other `#N` references of its title and body."""
    found: list[int] = []
    for pattern, sources in ((_CLOSING, [*texts, *commit_messages]), (_REFERENCE, list(texts))):
        for text in sources:
            for match in pattern.finditer(text or ""):
                number = int(match.group(1))
                if number != own and number not in found:
                    found.append(number)
    return found


def number_from_url(url: str | None) -> int:
    match = _NUMBER_IN_URL.search(url or "")
    if not match:
        raise ValueError(f"no issue or pull request number in {url!r}")
    return int(match.group(1))


def finish(draft: Draft, ctx: GitHubContext, *, session_id: str, seq: int, id_parts: tuple[object, ...]) -> EventBase:
    """The event of a draft, with its envelope identity."""
    return make_event(
        draft.kind,
        draft.payload,
        id=stable_event_id("github", ctx.repo_id, *id_parts),
        ts=draft.ts,
        session_id=session_id,
        seq=seq,
        actor=draft.actor,
        repo=ctx.repo_id,
        path=draft.path,
        source="github",
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)[:MAX_BODY]


def _ref(pr: Json, side: str) -> str | None:
    ref = (pr.get(side) or {}).get("ref")
    return str(ref)[:MAX_NAME] if ref else None
