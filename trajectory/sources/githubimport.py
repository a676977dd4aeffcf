"""Import a GitHub repository's issues, pull requests and reviews: from REST files or live, incremental, resumable."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from trajectory.events import EventBase
from trajectory.sources import GitHubError, github
from trajectory.sources.github import Draft, GitHubContext
from trajectory.sources.githubapi import DEFAULT_API, ApiStats
from trajectory.sources.restdump import RestObjects, read_rest_files, repository_of
from trajectory.sources.sink import Delivery, EventSink, batched
from trajectory.sources.state import Checkpoint, ImportState, StreamState
from trajectory.sources.watermark import Marks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GitHubImportSettings:
    """One `smartco import github` run, built once at start-up."""

    salt: str
    state_path: Path
    destination: str
    repo: str | None = None  # owner/name; for files it can be read from the objects' URLs
    files: tuple[Path, ...] = ()
    token: str | None = None
    api_url: str = DEFAULT_API
    since: str | None = None  # ISO 8601; default: where the last run stopped
    bots: tuple[str, ...] = ()
    keep_logins: bool = False
    batch_size: int = 200
    max_wait_s: float = 3700.0


@dataclass
class GitHubImportResult:
    repo_id: str
    kinds: Counter[str] = field(default_factory=Counter)
    events: int = 0
    skipped: int = 0  # events an interrupted run had already delivered (files)
    resumed: str | None = None  # the resource an interrupted live run is resumed at
    api: ApiStats = field(default_factory=ApiStats)
    delivery: Delivery = field(default_factory=Delivery)


class Emitter:
    """Gives drafts their envelope (one session per repository, seq continuing across runs) and delivers them."""

    def __init__(self, ctx: GitHubContext, stream: StreamState, sink: EventSink, result: GitHubImportResult) -> None:
        self.ctx, self.stream, self.sink, self.result = ctx, stream, sink, result
        self.session_id = f"github:{ctx.repo_id}"

    def events(self, drafts: Iterable[Draft], base_seq: int) -> list[EventBase]:
        return [
            github.finish(draft, self.ctx, session_id=self.session_id, seq=base_seq + index, id_parts=draft.key)
            for index, draft in enumerate(drafts)
        ]

    def deliver(self, events: list[EventBase], batch_size: int, after_batch: Callable[[int], None]) -> None:
        for batch in batched(events, batch_size):
            self.result.delivery.add(self.sink.send(batch))
            for event in batch:
                self.result.kinds[event.kind] += 1
            self.result.events += len(batch)
            after_batch(len(batch))


def drafts_from_objects(objects: RestObjects, ctx: GitHubContext, marks: Marks | None = None) -> list[Draft]:
    """Every object new since `marks` as a draft event (the same converters as the webhooks), oldest first."""
    marks = marks or Marks({})
    drafts: list[Draft | None] = []
    drafts += [github.issue_opened(issue, ctx) for issue in marks.fresh("issues", objects.issues)]
    drafts += [github.issue_comment(comment, ctx) for comment in marks.fresh("issue-comments", objects.issue_comments)]
    for pr in marks.fresh("pulls", objects.pulls):
        drafts.append(github.pr_opened(pr, ctx, objects.pr_commits.get(pr["number"], [])))
        drafts.append(github.pr_ended(pr, ctx) if marks.ended_since(pr) else None)
    drafts += [github.review_submitted(review, ctx) for review in marks.fresh("reviews", objects.reviews)]
    drafts += [github.review_comment(item, ctx) for item in marks.fresh("review-comments", objects.review_comments)]
    ready = [draft for draft in drafts if draft is not None]
    return sorted(ready, key=lambda draft: (draft.ts, draft.kind))


def import_github_files(
    settings: GitHubImportSettings, sink: EventSink, on_item: Callable[[int], None] | None = None
) -> GitHubImportResult:
    """Import REST-shaped files (issues, comments, pulls, reviews, review comments, pulls/N/commits).

    Only what is new since the last import of the same repository into the same destination is sent; an
    interrupted run (same files) resumes after the last batch the destination acknowledged.
    """
    objects = read_rest_files(list(settings.files))
    repo = settings.repo or repository_of(objects)
    if not repo:
        raise GitHubError("cannot tell which repository the files belong to: pass OWNER/NAME")
    ctx = context_for(repo, settings)
    result = GitHubImportResult(repo_id=ctx.repo_id)
    state = ImportState.load(settings.state_path)
    stream = state.stream(f"github-files|{ctx.repo_id}|{settings.destination}")
    marks = Marks(stream.extra.get("marks", {}), settings.since)
    drafts = drafts_from_objects(objects, ctx, marks)
    plan = hashlib.sha256(repr([draft.key for draft in drafts]).encode()).hexdigest()[:24]
    if stream.checkpoint is None or stream.checkpoint.plan != plan:
        stream.checkpoint = Checkpoint(plan=plan, base_seq=stream.next_seq)
    checkpoint = stream.checkpoint
    result.skipped = checkpoint.sent
    emitter = Emitter(ctx, stream, sink, result)
    events = emitter.events(drafts, checkpoint.base_seq)[checkpoint.sent :]

    def saved(count: int) -> None:
        checkpoint.sent += count
        state.save()
        if on_item:
            on_item(count)

    emitter.deliver(events, settings.batch_size, saved)
    stream.next_seq = checkpoint.base_seq + len(drafts)
    stream.extra["marks"] = marks.to_json()
    stream.checkpoint = None
    state.save()
    return result


def context_for(repo: str, settings: GitHubImportSettings) -> GitHubContext:
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise GitHubError(f"{repo!r} is not OWNER/NAME")
    return GitHubContext(repo_id=f"github.com/{repo.lower()}", salt=settings.salt, bots=settings.bots,
                         keep_logins=settings.keep_logins)  # fmt: skip
