"""A repository's mined history: commits (and file texts rebuilt from their diffs), pull requests, links."""

from __future__ import annotations

import bisect
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from trajectory.align.filetype import detect_license, is_license_path
from trajectory.align.spill import Spill
from trajectory.diffs import DiffError, apply_diff
from trajectory.events import EventBase
from trajectory.payloads import CommitPayload, FileChange

log = logging.getLogger(__name__)

MAX_WALK = 100_000
PR_WALK = 250
LINK_LOOKAHEAD = 8  # commits of a file after an edit episode that may hold its result


@dataclass
class CommitInfo:
    sha: str
    parents: list[str]
    touched: frozenset[str]
    ts: datetime


@dataclass
class PullRequest:
    number: int
    commits: list[str] = field(default_factory=list)
    linked_issues: list[int] = field(default_factory=list)
    base_sha: str | None = None
    merged: bool = False
    closed: bool = False
    merge_sha: str | None = None


class RepoHistory:
    """Compact indexes of one repository's history; events and file texts are read from the spill on demand."""

    def __init__(self, spill: Spill, repo: str) -> None:
        self.spill, self.repo = spill, repo
        self.commits: dict[str, CommitInfo] = {}
        self._events: OrderedDict[str, EventBase] = OrderedDict()
        for event in spill.history(repo, "commit"):
            payload: CommitPayload = event.payload  # type: ignore[assignment]
            if payload.sha not in self.commits:
                touched = frozenset(p for f in payload.files for p in (f.path, f.old_path) if p)
                self.commits[payload.sha] = CommitInfo(payload.sha, list(payload.parents), touched, event.ts)
        self._touching: dict[str, list[tuple[datetime, str]]] | None = None
        self._line_sets: OrderedDict[tuple[str, str], frozenset[str] | None] = OrderedDict()
        self.pulls: dict[int, PullRequest] = {}
        self.pr_of_commit: dict[str, int] = {}
        self.prs_of_issue: dict[int, list[int]] = {}
        self._index_pulls()
        self.license = self._license()

    def _index_pulls(self) -> None:
        for event in self.spill.history(self.repo, "pr"):
            payload = event.payload
            number = getattr(payload, "number", None)
            if number is None:
                continue
            pull = self.pulls.setdefault(number, PullRequest(number))
            if event.kind == "pr.opened":
                pull.base_sha = payload.base_sha  # type: ignore[attr-defined]
                pull.linked_issues = list(payload.linked_issues)  # type: ignore[attr-defined]
                self._extend(pull, list(payload.commits) or self._walk(payload.head_sha, payload.base_sha))  # type: ignore[attr-defined]
            elif event.kind == "pr.updated":
                self._extend(pull, self._walk(payload.head_sha, payload.before_sha or pull.base_sha))  # type: ignore[attr-defined]
            elif event.kind == "pr.merged":
                pull.merged, pull.merge_sha = True, payload.merge_commit_sha  # type: ignore[attr-defined]
            elif event.kind == "pr.closed":
                pull.closed = True
        for number, pull in sorted(self.pulls.items()):
            for sha in pull.commits:
                self.pr_of_commit.setdefault(sha, number)
            for issue in pull.linked_issues:
                self.prs_of_issue.setdefault(issue, []).append(number)

    @staticmethod
    def _extend(pull: PullRequest, shas: list[str]) -> None:
        pull.commits.extend(sha for sha in shas if sha not in pull.commits)

    def _walk(self, head: str | None, stop: str | None) -> list[str]:
        """First-parent commits from `head` back to (not including) `stop`, oldest first."""
        out: list[str] = []
        current = head
        while current and current != stop and current in self.commits and len(out) < PR_WALK:
            out.append(current)
            parents = self.commits[current].parents
            current = parents[0] if parents else None
        return out[::-1]

    def commit_order(self) -> list[str]:
        """Every commit, parents before children, ties by time then sha (deterministic)."""
        done: set[str] = set()
        order: list[str] = []
        for root in sorted(self.commits, key=lambda sha: (self.commits[sha].ts, sha)):
            stack = [root]
            while stack:
                sha = stack[-1]
                pending = [p for p in self.commits[sha].parents if p in self.commits and p not in done]
                if pending and sha not in done:
                    stack.extend(sorted(pending, key=lambda p: (self.commits[p].ts, p)))
                    continue
                stack.pop()
                if sha not in done:
                    done.add(sha)
                    order.append(sha)
        return order

    def commit_event(self, sha: str) -> EventBase | None:
        """The first event recorded for a commit (a small LRU keeps recent ones parsed)."""
        if sha in self._events:
            self._events.move_to_end(sha)
            return self._events[sha]
        event = next(iter(self.spill.history(self.repo, "commit", sha)), None)
        if event is not None:
            self._events[sha] = event
            if len(self._events) > 32:
                self._events.popitem(last=False)
        return event

    def commit_message(self, sha: str) -> str | None:
        event = self.commit_event(sha)
        return None if event is None else str(event.payload.message)  # type: ignore[attr-defined]

    def containing_commit(self, path: str, since: datetime, lines: list[str]) -> str | None:
        """The first commit at or after `since` that touches `path` and holds every one of `lines`."""
        if self._touching is None:
            self._touching = {}
            for info in sorted(self.commits.values(), key=lambda c: (c.ts, c.sha)):
                for touched in info.touched:
                    self._touching.setdefault(touched, []).append((info.ts, info.sha))
        candidates = self._touching.get(path, [])
        # Git keeps whole seconds: a commit made in the second of the edit carries a time just before it.
        since = since.replace(microsecond=0)
        for _, sha in candidates[bisect.bisect_left(candidates, (since, "")) :][:LINK_LOOKAHEAD]:
            held = self._lines_at(sha, path)
            if held is not None and held.issuperset(lines):
                return sha
        return None

    def _lines_at(self, sha: str, path: str) -> frozenset[str] | None:
        """The set of lines of `path` after `sha` (the last few asked for are kept: a session asks repeatedly)."""
        key = (sha, path)
        if key not in self._line_sets:
            text = self.text_at(sha, path)
            self._line_sets[key] = None if text is None else frozenset(text.split("\n"))
            if len(self._line_sets) > 16:
                self._line_sets.popitem(last=False)
        return self._line_sets[key]

    def file_change(self, sha: str, path: str) -> FileChange | None:
        event = self.commit_event(sha)
        if event is None:
            return None
        payload: CommitPayload = event.payload  # type: ignore[assignment]
        return next((f for f in payload.files if f.path == path), None)

    def text_at(self, sha: str, path: str) -> str | None:
        """The text of `path` after commit `sha`, rebuilt by replaying diffs along first parents (None: unknown)."""
        chain: list[tuple[str, FileChange]] = []
        current: str | None = sha
        current_path = path
        base: str | None = None
        for _ in range(MAX_WALK):
            if current is None:
                return None
            cached = self.spill.load_blob(self.repo, current, current_path)
            if cached is not None:
                base = cached
                break
            info = self.commits.get(current)
            if info is None:
                return None
            if current_path in info.touched:
                change = self.file_change(current, current_path)
                if change is None or change.binary or change.change_type == "delete" or change.diff is None:
                    return None
                chain.append((current, change))
                if change.change_type == "add":
                    base = ""
                    break
                current_path = change.old_path or current_path
            current = info.parents[0] if info.parents else None
        if base is None:
            return None
        return self._replay(base, chain, sha, path)

    def _replay(self, text: str, chain: list[tuple[str, FileChange]], sha: str, path: str) -> str | None:
        try:
            for commit, change in reversed(chain):
                text = apply_diff(text, change.diff or "")
                self.spill.save_blob(self.repo, commit, change.path, text)
        except DiffError:
            log.info("diff of %s in %s does not replay", path, sha)
            return None
        self.spill.save_blob(self.repo, sha, path, text)
        return text

    def _license(self) -> str | None:
        for sha in reversed(self.commit_order()):
            for path in sorted(self.commits[sha].touched):
                if is_license_path(path):
                    text = self.text_at(sha, path)
                    if text:
                        return detect_license(text)
        return None
