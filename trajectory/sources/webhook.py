"""GitHub webhook deliveries translated into events: a pure function the collector's endpoint calls."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from trajectory.events import EventBase
from trajectory.payloads import MAX_BODY, MAX_LIST
from trajectory.sources import github
from trajectory.sources.github import Draft, GitHubContext, Json
from trajectory.sources.identity import actor_id, is_bot

log = logging.getLogger(__name__)

ZERO_SHA = "0" * 40


def events_from_webhook(
    event_name: str,
    payload: dict[str, Any],
    *,
    delivery_id: str,
    salt: str,
    bots: Iterable[str] = (),
    keep_logins: bool = False,
) -> list[EventBase]:
    """The events of one delivery (`X-GitHub-Event` name, parsed JSON body); unknown kinds or actions give [].

    Event ids are derived from the delivery id and the event's index in it, so a replayed delivery yields the
    same ids and the collector stores it once. The session is the delivery; seq is the index.
    """
    translate = _TRANSLATORS.get(event_name)
    repository = payload.get("repository")
    if translate is None or not isinstance(repository, dict):
        log.info("webhook %s: event %r ignored", delivery_id, event_name)
        return []
    ctx = GitHubContext(repo_id=github.repo_id_of(repository), salt=salt, bots=tuple(bots), keep_logins=keep_logins)
    drafts = [draft for draft in translate(payload, ctx) if draft is not None]
    if not drafts:
        log.info("webhook %s: %s action %r ignored", delivery_id, event_name, payload.get("action"))
    session_id = f"github-webhook:{delivery_id}"
    return [
        github.finish(draft, ctx, session_id=session_id, seq=index, id_parts=("webhook", delivery_id, index))
        for index, draft in enumerate(drafts)
    ]


def _issues(payload: Json, ctx: GitHubContext) -> list[Draft | None]:
    if payload.get("action") != "opened":
        return []
    return [github.issue_opened(payload["issue"], ctx)]


def _issue_comment(payload: Json, ctx: GitHubContext) -> list[Draft | None]:
    if payload.get("action") not in ("created", "edited"):
        return []
    return [github.issue_comment(payload["comment"], ctx, issue_number=payload["issue"]["number"])]


def _pull_request(payload: Json, ctx: GitHubContext) -> list[Draft | None]:
    action, pr = payload.get("action"), payload["pull_request"]
    if action in ("opened", "reopened"):
        return [github.pr_opened(pr, ctx)]
    if action == "synchronize":
        before = payload.get("before")
        after = payload.get("after") or pr["head"]["sha"]
        return [github.pr_updated(pr, ctx, before if before and before != ZERO_SHA else None, after,
                                  pusher=payload.get("sender"))]  # fmt: skip
    if action == "closed":
        return [github.pr_ended(pr, ctx, closer=payload.get("sender"))]
    return []


def _pull_request_review(payload: Json, ctx: GitHubContext) -> list[Draft | None]:
    if payload.get("action") not in ("submitted", "dismissed"):
        return []
    return [github.review_submitted(payload["review"], ctx, pr_number=payload["pull_request"]["number"])]


def _pull_request_review_comment(payload: Json, ctx: GitHubContext) -> list[Draft | None]:
    if payload.get("action") not in ("created", "edited"):
        return []
    return [github.review_comment(payload["comment"], ctx, pr_number=payload["pull_request"]["number"])]


def _push(payload: Json, ctx: GitHubContext) -> list[Draft | None]:
    """A force push becomes a `git.rebase`; every pushed commit a `git.commit` (files listed, no diffs)."""
    ref = str(payload.get("ref") or "")
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    before, after = payload.get("before") or ZERO_SHA, payload.get("after") or ZERO_SHA
    drafts: list[Draft | None] = []
    if payload.get("forced") and ZERO_SHA not in (before, after):
        pusher = (payload.get("sender") or {}).get("login") or (payload.get("pusher") or {}).get("name")
        detail = f"{ref} force-pushed from {before} to {after}"
        rewrite = {"operation": "force-push", "old_head": before, "new_head": after, "ref": ref, "detail": detail}
        head = payload.get("head_commit") or {}
        when = head.get("timestamp") or _repository_time(payload)
        drafts.append(Draft("git.rebase", rewrite, when, actor_id(pusher, ctx.salt), ("force-push", before, after)))
    drafts.extend(_push_commit(commit, branch, ctx) for commit in payload.get("commits") or [])
    return drafts


def _push_commit(commit: Json, branch: str | None, ctx: GitHubContext) -> Draft:
    author, committer = commit.get("author") or {}, commit.get("committer") or {}
    identity = author.get("email") or author.get("username") or author.get("name")
    files = [{"path": path, "change_type": change_type}
             for key, change_type in (("added", "add"), ("removed", "delete"), ("modified", "modify"))
             for path in commit.get(key) or []][:MAX_LIST]  # fmt: skip
    payload = {
        "sha": commit["id"],
        "message": str(commit.get("message") or "")[:MAX_BODY],
        "author": actor_id(identity, ctx.salt),
        "committer": actor_id(committer.get("email") or committer.get("username") or committer.get("name"), ctx.salt),
        "committed_at": commit.get("timestamp"),
        "branch": branch,
        "files": files,
        "is_bot": is_bot(author.get("username"), author.get("name"), author.get("email"), extra=ctx.bots),
    }
    return Draft("git.commit", payload, commit["timestamp"], actor_id(identity, ctx.salt), ("push", commit["id"]))


def _repository_time(payload: Json) -> str:
    repository = payload.get("repository") or {}
    pushed = repository.get("pushed_at")
    if isinstance(pushed, int):  # push payloads give epoch seconds here
        return datetime.fromtimestamp(pushed, UTC).isoformat()
    return str(pushed or repository.get("updated_at"))


_TRANSLATORS: dict[str, Callable[[Json, GitHubContext], list[Draft | None]]] = {
    "issues": _issues,
    "issue_comment": _issue_comment,
    "pull_request": _pull_request,
    "pull_request_review": _pull_request_review,
    "pull_request_review_comment": _pull_request_review_comment,
    "push": _push,
}
