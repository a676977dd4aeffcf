"""Live import from the GitHub REST API: resource by resource, page by page, resumable at page boundaries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trajectory.sources import github
from trajectory.sources.github import Draft, GitHubContext
from trajectory.sources.githubapi import GitHubClient, Page
from trajectory.sources.githubimport import Emitter, GitHubImportResult, GitHubImportSettings, context_for
from trajectory.sources.sink import EventSink
from trajectory.sources.state import ImportState, StreamState

log = logging.getLogger(__name__)

RESOURCES = ("issues", "issue-comments", "pulls", "review-comments")


@dataclass
class _Run:
    settings: GitHubImportSettings
    client: GitHubClient
    ctx: GitHubContext
    state: ImportState
    stream: StreamState
    emitter: Emitter
    on_item: Callable[[int], None] | None

    @property
    def repo(self) -> str:
        return self.ctx.repo_id.removeprefix("github.com/")


def import_github_live(
    settings: GitHubImportSettings,
    sink: EventSink,
    *,
    client: GitHubClient | None = None,
    on_item: Callable[[int], None] | None = None,
    on_wait: Callable[[float, str], None] | None = None,
) -> GitHubImportResult:
    """Import what changed since the last run; an interrupted run resumes at the page it had not finished."""
    if not settings.repo:
        raise ValueError("a live import needs the repository (OWNER/NAME)")
    ctx = context_for(settings.repo, settings)
    result = GitHubImportResult(repo_id=ctx.repo_id)
    state = ImportState.load(settings.state_path)
    stream = state.stream(f"github|{ctx.repo_id}|{settings.destination}")
    etags = stream.extra.setdefault("etags", {})
    if client is None:
        client = GitHubClient(settings.token, api_url=settings.api_url, etags=etags, on_wait=on_wait,
                              max_wait_s=settings.max_wait_s)  # fmt: skip
    else:
        client.etags = etags
    run = _Run(settings, client, ctx, state, stream, Emitter(ctx, stream, sink, result), on_item)
    cursor = stream.extra.get("cursor") or {}
    start = RESOURCES.index(cursor["resource"]) if cursor.get("resource") in RESOURCES else 0
    result.resumed = RESOURCES[start] if cursor.get("url") else None
    for resource in RESOURCES[start:]:
        resume_url = cursor.get("url") if cursor.get("resource") == resource else None
        _import_resource(run, resource, resume_url, cursor.get("newest") if resume_url else None)
        cursor = {}
    stream.extra.pop("cursor", None)
    state.save()
    result.api = client.stats
    return result


def _since(run: _Run, resource: str) -> str | None:
    since = run.settings.since or run.stream.extra.get("since", {}).get(resource)
    return github.parse_time(since).strftime("%Y-%m-%dT%H:%M:%SZ") if since else None


def _first_url(run: _Run, resource: str) -> str:
    since = _since(run, resource)
    base = f"repos/{run.repo}"
    if resource == "issues":
        return run.client.url(f"{base}/issues", state="all", sort="updated", direction="asc", per_page=100, since=since)
    if resource == "issue-comments":
        return run.client.url(f"{base}/issues/comments", sort="updated", direction="asc", per_page=100, since=since)
    if resource == "pulls":  # no `since` here: newest first, stop at the first one older than the cut
        return run.client.url(f"{base}/pulls", state="all", sort="updated", direction="desc", per_page=100)
    return run.client.url(f"{base}/pulls/comments", sort="updated", direction="asc", per_page=100, since=since)


def _import_resource(run: _Run, resource: str, resume_url: str | None, newest: str | None) -> None:
    since = _since(run, resource)
    url: str | None = resume_url or _first_url(run, resource)
    while url:
        page = run.client.page(url)
        items = page.items
        done = False
        if resource == "pulls" and since:
            cut = github.parse_time(since)
            fresh = [item for item in items if github.parse_time(item["updated_at"]) >= cut]
            done = len(fresh) < len(items)
            items = fresh
        newest = max([newest or "", *(str(item.get("updated_at") or "") for item in items)]) or None
        drafts = _drafts(run, resource, items)
        events = run.emitter.events(drafts, run.stream.next_seq)
        run.emitter.deliver(events, run.settings.batch_size, lambda count: None)
        run.stream.next_seq += len(events)
        url = None if done else page.next_url
        run.stream.extra["cursor"] = {"resource": resource, "url": url, "newest": newest} if url else None
        if not url and newest:
            run.stream.extra.setdefault("since", {})[resource] = newest
        run.state.save()
        if run.on_item and items:
            run.on_item(len(items))
    log.info("github %s: %s imported", run.ctx.repo_id, resource)


def _drafts(run: _Run, resource: str, items: list[dict[str, Any]]) -> list[Draft]:
    ctx = run.ctx
    found: list[Draft | None] = []
    for item in items:
        if resource == "issues" and "pull_request" not in item:
            found.append(github.issue_opened(item, ctx))
        elif resource == "issue-comments":
            found.append(github.issue_comment(item, ctx))
        elif resource == "review-comments":
            found.append(github.review_comment(item, ctx))
        elif resource == "pulls":
            found += [github.pr_opened(item, ctx, _pr_commits(run, item["number"])), github.pr_ended(item, ctx)]
            found += [github.review_submitted(review, ctx, item["number"]) for review in _pr_reviews(run, item)]
    return [draft for draft in found if draft is not None]


def _pr_commits(run: _Run, number: int) -> list[str]:
    shas: list[str] = []
    for page in run.client.pages(run.client.url(f"repos/{run.repo}/pulls/{number}/commits", per_page=100)):
        page_shas = _remembered(run, page) if page.not_modified else [str(item["sha"]) for item in page.items]
        run.client.remember_value(page.url, page_shas)
        shas += page_shas
    return shas


def _remembered(run: _Run, page: Page) -> list[str]:
    entry = run.client.etags.get(page.url)
    return list(entry[2] or []) if entry else []


def _pr_reviews(run: _Run, pr: dict[str, Any]) -> list[dict[str, Any]]:
    """Reviews of a pull request; a 304 means none since the last run, all of which were imported then."""
    reviews: list[dict[str, Any]] = []
    for page in run.client.pages(run.client.url(f"repos/{run.repo}/pulls/{pr['number']}/reviews", per_page=100)):
        reviews += page.items
    return reviews
