"""Collect the evidence a record is built from (events, commits, paths, lines) into its provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from trajectory.events import EventBase
from trajectory.records import Provenance


@dataclass
class Evidence:
    repo: str
    event_ids: list[str] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    line_ranges: list[tuple[str, int, int]] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    actors: set[str] = field(default_factory=set)
    times: list[datetime] = field(default_factory=list)
    pull_requests: set[int] = field(default_factory=set)
    issues: set[int] = field(default_factory=set)

    def add_event(self, event: EventBase) -> Evidence:
        event_id = str(event.id)
        if event_id not in self.event_ids:
            self.event_ids.append(event_id)
        self.sessions.add(event.session_id)
        self.actors.add(event.actor)
        self.times.append(event.ts)
        if event.path:
            self.add_path(event.path)
        return self

    def add_commit(self, sha: str | None) -> Evidence:
        if sha and sha not in self.commits:
            self.commits.append(sha)
        return self

    def add_path(self, path: str) -> Evidence:
        if path not in self.paths:
            self.paths.append(path)
        return self

    def add_lines(self, path: str, first: int, last: int) -> Evidence:
        """A 1-based inclusive line range of `path` that the record is about (and the path itself)."""
        self.add_path(path)
        if (path, first, last) not in self.line_ranges:
            self.line_ranges.append((path, first, last))
        return self

    def copy(self) -> Evidence:
        return Evidence(
            self.repo,
            list(self.event_ids),
            list(self.commits),
            list(self.paths),
            list(self.line_ranges),
            set(self.sessions),
            set(self.actors),
            list(self.times),
            set(self.pull_requests),
            set(self.issues),
        )

    def provenance(self) -> Provenance:
        return Provenance(
            repo=self.repo,
            commits=list(self.commits),
            paths=list(self.paths),
            line_ranges=list(self.line_ranges),
            event_ids=list(self.event_ids),
            sessions=sorted(self.sessions),
            actors=sorted(self.actors),
            first_ts=min(self.times) if self.times else None,
            last_ts=max(self.times) if self.times else None,
            pull_requests=sorted(self.pull_requests),
            issues=sorted(self.issues),
        )
