"""Live import from the GitHub REST API: listing by listing, page by page, resumable at page boundaries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trajectory.sources import GitHubError, github
from trajectory.sources.github import Draft, GitHubContext, PrCommit
from trajectory.sources.githubapi import GitHubClient, Page
from trajectory.sources.githubimport import Emitter, GitHubImportResult, GitHubImportSettings, context_for
from trajectory.sources.sink import EventSink
from trajectory.sources.state import ImportState, StreamState
from trajectory.sources.watermark import Marks, parse_time

log = logging.getLogger(__name__)

RESOURCES = ("issues", "issue-comments", "pulls", "review-comments")
_MARKED = {"pulls": ("pulls", "reviews")}  # reviews are read per pull request, so they move with the pulls


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
        return self.settings.repo or self.ctx.repo_id.removeprefix("github.com/")  # as the user spelled it


def import_github_live(
    settings: GitHubImportSettings,
    sink: EventSink,
    *,
    client: GitHubClient | None = None,
    on_item: Callable[[int], None] | None = None,
    on_wait: Callable[[float, str], None] | None = None,
) -> GitHubImportResult:
    """Import what changed since the last run; an interrupted run resumes at the page it had not finished.

    `client` is for tests and embedders (a local server, an injected clock and sleep); by default one is made
    from the settings.
    """
    if not settings.repo:
        raise GitHubError("a live import needs the repository (OWNER/NAME)")
    ctx = context_for(settings.repo, settings)
    result = GitHubImportResult(repo_id=ctx.repo_id)
    state = ImportState.load(settings.state_path)
    stream = state.stream(f"github|{ctx.repo_id}|{settings.destination}")
    own_client = client is None
    client = client or GitHubClient(settings.token, api_url=settings.api_url, on_wait=on_wait,
                                    max_wait_s=settings.max_wait_s)  # fmt: skip
    client.etags = stream.extra.setdefault("etags", {})  # remembered across runs with the rest of the state
    run = _Run(settings, client, ctx, state, stream, Emitter(ctx, stream, sink, result), on_item)
    cursor = stream.extra.get("cursor") or {}
    start = RESOURCES.index(cursor["resource"]) if cursor.get("resource") in RESOURCES else 0
    result.resumed = RESOURCES[start] if cursor.get("url") else None
    try:
        for resource in RESOURCES[start:]:
            _import_resource(run, resource, cursor if cursor.get("resource") == resource else {})
            cursor = {}
    finally:
        result.api = client.stats
        if own_client:
            client.close()
    stream.extra.pop("cursor", None)
    state.save()
    return result


def _first_url(run: _Run, resource: str, since: str | None) -> str:
    since = parse_time(since).strftime("%Y-%m-%dT%H:%M:%SZ") if since else None
    base = f"repos/{run.repo}"
    if resource == "issues":
        return run.client.url(f"{base}/issues", state="all", sort="updated", direction="asc", per_page=100, since=since)
    if resource == "issue-comments":
        return run.client.url(f"{base}/issues/comments", sort="updated", direction="asc", per_page=100, since=since)
    if resource == "pulls":  # no `since` here: newest first, stop at the first one older than the cut
        return run.client.url(f"{base}/pulls", state="all", sort="updated", direction="desc", per_page=100)
    return run.client.url(f"{base}/pulls/comments", sort="updated", direction="asc", per_page=100, since=since)


def _import_resource(run: _Run, resource: str, cursor: dict[str, Any]) -> None:
    """One listing, page after page; after each page its events are delivered and the cursor saved."""
    resuming = bool(cursor.get("url"))
    marks = Marks(run.stream.extra.get("marks", {}), run.settings.since, cursor.get("marks") if resuming else None)
    gate = marks.gates[resource].newest
    url: str | None = cursor.get("url") if resuming else _first_url(run, resource, gate)
    listings = _MARKED.get(resource, (resource,))
    while url:
        page = run.client.page(url)
        done = resource == "pulls" and gate is not None and any(_older(item, gate) for item in page.items)
        items = marks.fresh(resource, page.items)
        _deliver(run, resource, items, marks)
        url = None if done else page.next_url
        reached = marks.to_json(*listings)
        run.stream.extra["cursor"] = {"resource": resource, "url": url, "marks": reached} if url else None
        if not url:
            run.stream.extra.setdefault("marks", {}).update(reached)
        run.state.save()
        if run.on_item and items:
            run.on_item(len(items))
    log.info("github %s: %s imported", run.ctx.repo_id, resource)


def _older(item: dict[str, Any], cut: str) -> bool:
    return bool(item.get("updated_at")) and parse_time(str(item["updated_at"])) < parse_time(cut)


def _deliver(run: _Run, resource: str, items: list[dict[str, Any]], marks: Marks) -> None:
    drafts = _drafts(run, resource, items, marks)
    events = run.emitter.events(drafts, run.stream.next_seq)
    run.emitter.deliver(events, run.settings.batch_size, lambda count: None)
    run.stream.next_seq += len(events)


def _drafts(run: _Run, resource: str, items: list[dict[str, Any]], marks: Marks) -> list[Draft]:
    ctx = run.ctx
    found: list[Draft | None] = []
    for item in items:
        if resource == "issues" and "pull_request" not in item:  # the issues listing holds pull requests too
            found.append(github.issue_opened(item, ctx))
        elif resource == "issue-comments":
            found.append(github.issue_comment(item, ctx))
        elif resource == "review-comments":
            found.append(github.review_comment(item, ctx))
        elif resource == "pulls":
            found.append(github.pr_opened(item, ctx, _pr_commits(run, item["number"])))
            found.append(github.pr_ended(item, ctx) if marks.ended_since(item) else None)
            reviews = marks.fresh("reviews", _pr_reviews(run, item["number"]))
            found += [github.review_submitted(review, ctx, item["number"]) for review in reviews]
    return [draft for draft in found if draft is not None]


def _pr_commits(run: _Run, number: int) -> list[PrCommit]:
    """(sha, message) of a pull request's commits; a page that did not change (304) gives what it gave before."""
    commits: list[PrCommit] = []
    for page in run.client.pages(run.client.url(f"repos/{run.repo}/pulls/{number}/commits", per_page=100)):
        if page.not_modified:
            page_commits = [(str(sha), str(message)) for sha, message in _remembered(run, page)]
        else:
            page_commits = [(str(item["sha"]), str((item.get("commit") or {}).get("message") or "")[:2000])
                            for item in page.items]  # fmt: skip
        run.client.remember_value(page.url, [list(commit) for commit in page_commits])
        commits += page_commits
    return commits


def _remembered(run: _Run, page: Page) -> list[Any]:
    entry = run.client.etags.get(page.url)
    return list(entry[2] or []) if entry else []


def _pr_reviews(run: _Run, number: int) -> list[dict[str, Any]]:
    """Reviews of a pull request; a page that did not change (304) holds none that is new."""
    reviews: list[dict[str, Any]] = []
    for page in run.client.pages(run.client.url(f"repos/{run.repo}/pulls/{number}/reviews", per_page=100)):
        reviews += page.items
    return reviews
