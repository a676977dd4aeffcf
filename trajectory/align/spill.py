"""An on-disk spill of the input events (temporary SQLite), so memory grows with a session, not with the input."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trajectory.events import EventBase, parse_event
from trajectory.wire import KIND, read_event

log = logging.getLogger(__name__)

HISTORY_KINDS = {
    "git.commit": "commit",
    "git.merge": "commit",
    "pr.opened": "pr",
    "pr.updated": "pr",
    "pr.merged": "pr",
    "pr.closed": "pr",
    "review.comment": "pr",
    "review.submitted": "pr",
    "issue.opened": "issue",
    "issue.comment": "issue",
}
_ROWS = 1000  # events inserted at once
_SCHEMA = """
CREATE TABLE event (id TEXT, repo TEXT, session TEXT, seq INTEGER, topic TEXT, key TEXT, ts TEXT, sidecar INTEGER,
                    body BLOB);
"""
# File texts rebuilt from diffs, cached per process (a worker process keeps its own, beside the spill).
_BLOBS = """
PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
CREATE TABLE IF NOT EXISTS blob (repo TEXT, sha TEXT, path TEXT, text TEXT, PRIMARY KEY (repo, sha, path));
"""
# Built once the input is in: appending to an unindexed table is what makes the spill cheap.
_INDEXES = """
DELETE FROM event WHERE rowid NOT IN (SELECT min(rowid) FROM event GROUP BY id);
CREATE INDEX event_session ON event (repo, session, seq, id) WHERE sidecar = 1;
CREATE INDEX event_history ON event (repo, topic, key, ts, id) WHERE topic IS NOT NULL;
"""


class Spill:
    """Events validated on the way in, stored by repository and session as sent, parsed into the models when read
    back (in whichever process aligns their repository), in a deterministic order.

    A recorded session's events are read by `session`; git and GitHub events (also those a sidecar recorded)
    by `topic` (commit, pr, issue) and `key` (sha or number). The first copy of an event id wins.
    """

    def __init__(self, directory: Path, repos: tuple[str, ...] = (), actors: tuple[str, ...] = ()) -> None:
        self._open(directory, "blobs.sqlite3", repos, actors)
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;")
        self._db.executescript(_SCHEMA)
        self._db.execute("BEGIN")

    def _open(self, directory: Path, blobs: str, repos: tuple[str, ...], actors: tuple[str, ...]) -> None:
        self.directory = directory
        self._db = sqlite3.connect(directory / "spill.sqlite3", isolation_level=None)
        self._blobs = _blob_cache(directory / blobs)
        self._rows: list[tuple[Any, ...]] = []
        self._repos, self._actors = set(repos), set(actors)
        self.events_read = 0
        self.events_kept = 0
        self.dropped: Counter[str] = Counter()

    def add(self, line: bytes) -> None:
        """Validate one event line and store it (invalid, filtered and unused events are counted).

        The strict reader of `trajectory.wire` takes what it can vouch for (the models would accept it, and read
        it back the same); the models decide the rest. Rows are inserted in batches.
        """
        self.events_read += 1
        fast = read_event(line)
        event: Any = fast
        if fast is None:
            try:
                event = parse_event(line)
            except ValidationError:
                self.dropped["invalid_event"] += 1
                return
        if self._repos and event.repo not in self._repos:
            self.dropped["repo_filtered"] += 1
            return
        if self._actors and event.actor not in self._actors:
            self.dropped["actor_filtered"] += 1
            return
        kind = KIND[type(event)] if fast is not None else event.kind
        topic = HISTORY_KINDS.get(kind)
        sidecar = event.source == "sidecar"
        if topic is None and not sidecar:
            self.dropped["not_aligned_kind"] += 1
            return
        key = _history_key(event) if topic is not None else None
        self._rows.append(
            (str(event.id), event.repo, event.session_id, event.seq, topic, key, event.ts.isoformat(), sidecar, line)
        )
        if len(self._rows) >= _ROWS:
            self._insert()

    def _insert(self) -> None:
        self._db.executemany("INSERT INTO event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self._rows)
        self._rows = []

    def finish(self) -> None:
        """Drop repeated events, commit and index; call once after the last `add`."""
        self._insert()
        stored = self._db.execute("SELECT count(*) FROM event").fetchone()[0]
        self._db.execute("COMMIT")
        self._db.executescript(_INDEXES)
        self.events_kept = self._db.execute("SELECT count(*) FROM event").fetchone()[0]
        if stored > self.events_kept:
            self.dropped["duplicate_event"] += stored - self.events_kept

    @classmethod
    def reopen(cls, directory: Path) -> Spill:
        """A reader of the finished spill in `directory` for another process, with a file-text cache of its own."""
        spill = cls.__new__(cls)
        spill._open(directory, f"blobs-{os.getpid()}.sqlite3", (), ())
        return spill

    def repos(self) -> list[str]:
        return [repo for (repo,) in self._db.execute("SELECT DISTINCT repo FROM event ORDER BY 1")]

    def sessions(self, repo: str) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT session FROM event WHERE sidecar = 1 AND repo = ? ORDER BY 1", (repo,))
        return [session for (session,) in rows]

    def session_events(self, repo: str, session: str) -> list[EventBase]:
        """One sidecar session's events in `seq` order (ties broken by id)."""
        rows = self._db.execute(
            "SELECT body FROM event WHERE sidecar = 1 AND repo = ? AND session = ? ORDER BY seq, id", (repo, session)
        )
        return [parse_event(body) for (body,) in rows]

    def history(self, repo: str, topic: str, key: str | None = None) -> Iterator[EventBase]:
        """Mined history of one topic (commit, pr, issue), oldest first, optionally of one key (sha or number)."""
        where = "topic IS NOT NULL AND repo = ? AND topic = ?" + ("" if key is None else " AND key = ?")
        params = (repo, topic) if key is None else (repo, topic, key)
        for (body,) in self._db.execute(f"SELECT body FROM event WHERE {where} ORDER BY ts, id", params):
            yield parse_event(body)

    def history_keys(self, repo: str, topic: str) -> list[str]:
        rows = self._db.execute(
            "SELECT key FROM event WHERE topic IS NOT NULL AND repo = ? AND topic = ? GROUP BY key "
            "ORDER BY min(ts), key",
            (repo, topic),
        )
        return [key for (key,) in rows]

    def load_blob(self, repo: str, sha: str, path: str) -> str | None:
        row = self._blobs.execute("SELECT text FROM blob WHERE repo = ? AND sha = ? AND path = ?", (repo, sha, path))
        found = row.fetchone()
        return None if found is None else str(found[0])

    def save_blob(self, repo: str, sha: str, path: str, text: str) -> None:
        self._blobs.execute("INSERT OR REPLACE INTO blob VALUES (?, ?, ?, ?)", (repo, sha, path, text))

    def forget_blobs(self) -> None:
        """Drop the file texts cached so far (call between repositories: each repository rebuilds its own), so that
        the cache's file does not grow with the input."""
        self._blobs.executescript("DROP TABLE blob;" + _BLOBS)  # commits first: the cache's transaction ends
        self._blobs.execute("BEGIN")

    def close(self) -> None:
        self._blobs.close()
        self._db.close()


def _blob_cache(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(_BLOBS)
    db.execute("BEGIN")  # never committed: a cache for this process only, read through the same connection
    return db


def _history_key(event: Any) -> str:
    payload = event.payload
    for name in ("sha", "number", "pr_number", "issue_number"):
        value = getattr(payload, name, None)
        if value is not None:
            return str(value)
    return ""
