"""An on-disk spill of the input events (temporary SQLite), so memory grows with a session, not with the input."""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from trajectory.events import EventBase, parse_event

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
_SCHEMA = """
CREATE TABLE session_event (id TEXT PRIMARY KEY, repo TEXT, session TEXT, seq INTEGER, body BLOB);
CREATE TABLE history (id TEXT PRIMARY KEY, repo TEXT, topic TEXT, key TEXT, ts TEXT, body BLOB);
CREATE TABLE blob (repo TEXT, sha TEXT, path TEXT, text TEXT, PRIMARY KEY (repo, sha, path));
"""
_INDEXES = """
CREATE INDEX session_event_order ON session_event (repo, session, seq);
CREATE INDEX history_topic ON history (repo, topic, key, ts);
"""


class Spill:
    """Events parsed once on the way in, stored by repository and session, read back in a deterministic order."""

    def __init__(self, directory: Path, repos: tuple[str, ...] = (), actors: tuple[str, ...] = ()) -> None:
        self._db = sqlite3.connect(directory / "spill.sqlite3", isolation_level=None)
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=FILE;")
        self._db.executescript(_SCHEMA)
        self._db.execute("BEGIN")
        self._repos, self._actors = set(repos), set(actors)
        self.events_read = 0
        self.events_kept = 0
        self.dropped: Counter[str] = Counter()

    def add(self, line: bytes) -> None:
        """Validate one event line and store it (invalid, filtered and duplicate events are counted)."""
        self.events_read += 1
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
        event_id = str(event.id)
        topic = HISTORY_KINDS.get(event.kind)
        stored = 0
        if event.source == "sidecar":
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO session_event VALUES (?, ?, ?, ?, ?)",
                (event_id, event.repo, event.session_id, event.seq, line),
            )
            stored += cursor.rowcount
        if topic is not None:
            key = _history_key(event)
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO history VALUES (?, ?, ?, ?, ?, ?)",
                (event_id, event.repo, topic, key, event.ts.isoformat(), line),
            )
            stored += cursor.rowcount
        if stored:
            self.events_kept += 1
        elif event.source == "sidecar" or topic is not None:
            self.dropped["duplicate_event"] += 1
        else:
            self.dropped["not_aligned_kind"] += 1

    def finish(self) -> None:
        """Commit and index; call once after the last `add`."""
        self._db.execute("COMMIT")
        self._db.executescript(_INDEXES)

    def repos(self) -> list[str]:
        rows = self._db.execute("SELECT repo FROM session_event UNION SELECT repo FROM history ORDER BY 1")
        return [repo for (repo,) in rows]

    def sessions(self, repo: str) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT session FROM session_event WHERE repo = ? ORDER BY 1", (repo,))
        return [session for (session,) in rows]

    def session_events(self, repo: str, session: str) -> list[EventBase]:
        """One sidecar session's events in `seq` order (ties broken by id)."""
        rows = self._db.execute(
            "SELECT body FROM session_event WHERE repo = ? AND session = ? ORDER BY seq, id", (repo, session)
        )
        return [parse_event(body) for (body,) in rows]

    def history(self, repo: str, topic: str, key: str | None = None) -> Iterator[EventBase]:
        """Mined history of one topic (commit, pr, issue), oldest first, optionally of one key (sha or number)."""
        if key is None:
            rows = self._db.execute(
                "SELECT body FROM history WHERE repo = ? AND topic = ? ORDER BY ts, id", (repo, topic)
            )
        else:
            rows = self._db.execute(
                "SELECT body FROM history WHERE repo = ? AND topic = ? AND key = ? ORDER BY ts, id", (repo, topic, key)
            )
        for (body,) in rows:
            yield parse_event(body)

    def history_keys(self, repo: str, topic: str) -> list[str]:
        rows = self._db.execute(
            "SELECT key FROM history WHERE repo = ? AND topic = ? GROUP BY key ORDER BY min(ts), key", (repo, topic)
        )
        return [key for (key,) in rows]

    def load_blob(self, repo: str, sha: str, path: str) -> str | None:
        row = self._db.execute("SELECT text FROM blob WHERE repo = ? AND sha = ? AND path = ?", (repo, sha, path))
        found = row.fetchone()
        return None if found is None else str(found[0])

    def save_blob(self, repo: str, sha: str, path: str, text: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO blob VALUES (?, ?, ?, ?)", (repo, sha, path, text))

    def close(self) -> None:
        self._db.close()


def _history_key(event: EventBase) -> str:
    payload = event.payload
    for name in ("sha", "number", "pr_number", "issue_number"):
        value = getattr(payload, name, None)
        if value is not None:
            return str(value)
    return ""
