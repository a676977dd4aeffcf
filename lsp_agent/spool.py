"""The durable on-disk spool (SQLite, WAL): events wait here until the collector acknowledged them."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lsp_agent.errors import SpoolError

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, session_id TEXT NOT NULL, seq INTEGER NOT NULL,
    kind TEXT NOT NULL, body BLOB NOT NULL, size INTEGER NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS gaps (
    session_id TEXT PRIMARY KEY, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, dropped INTEGER NOT NULL,
    envelope TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass
class Pending:
    """One spooled event ready to upload."""

    rowid: int
    id: str
    body: bytes


@dataclass
class Gap:
    """Sequence numbers of a session dropped because the spool was full, not yet recorded as an event."""

    session_id: str
    first_seq: int
    last_seq: int
    dropped: int
    envelope: str


@dataclass
class SpoolStatus:
    """What is queued and what happened so far."""

    queued: int
    queued_bytes: int
    by_kind: dict[str, int]
    counters: dict[str, int] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    oldest_age_s: float | None = None


class Spool:
    """One SQLite file in WAL mode; safe to share between the LSP thread and the uploader thread."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT count(*), total(size) FROM events").fetchone()
        except sqlite3.Error as err:
            raise SpoolError(f"cannot open the spool at {path}: {err}") from err
        self.count, self.bytes = int(row[0]), int(row[1])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise SpoolError(f"spool write failed: {err}") from err

    def has_room(self, size: int) -> bool:
        return self.bytes + size <= self.max_bytes

    def put(self, event_id: str, session_id: str, seq: int, kind: str, body: bytes, counts: dict[str, int]) -> None:
        """Store one event (and add its redaction counts) in one transaction."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO events (id, session_id, seq, kind, body, size, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event_id, session_id, seq, kind, body, len(body), time.time()),
            )
            self._add_counters(db, {f"redacted.{k}": v for k, v in counts.items()} | {"spooled": 1})
            self.count += 1
            self.bytes += len(body)

    def note_dropped(self, session_id: str, seq: int, envelope: str) -> None:
        """Remember that `seq` of `session_id` could not be kept (the spool is full)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO gaps (session_id, first_seq, last_seq, dropped, envelope) VALUES (?, ?, ?, 1, ?)"
                " ON CONFLICT (session_id) DO UPDATE SET last_seq = excluded.last_seq, dropped = dropped + 1",
                (session_id, seq, seq, envelope),
            )
            self._add_counters(db, {"dropped": 1})

    def gaps(self, session_id: str | None = None) -> list[Gap]:
        with self._lock:
            sql = "SELECT session_id, first_seq, last_seq, dropped, envelope FROM gaps"
            rows = self._db.execute(
                sql + (" WHERE session_id = ?" if session_id else ""), (session_id,) if session_id else ()
            ).fetchall()
        return [Gap(*row) for row in rows]

    def put_gap(self, gap: Gap, event_id: str, seq: int, body: bytes) -> None:
        """Record a gap as an event (allowed past the bound) and forget it as pending."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO events (id, session_id, seq, kind, body, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event_id, gap.session_id, seq, "capture.gap", body, len(body), time.time()),
            )
            db.execute("DELETE FROM gaps WHERE session_id = ?", (gap.session_id,))
            self.count += 1
            self.bytes += len(body)

    def peek(self, limit: int, max_bytes: int = 4_000_000) -> list[Pending]:
        """The oldest events, up to `limit` of them and about `max_bytes` in all."""
        with self._lock:
            rows = self._db.execute("SELECT rowid, id, body, size FROM events ORDER BY rowid LIMIT ?", (limit,))
            batch: list[Pending] = []
            total = 0
            for rowid, event_id, body, size in rows:
                if batch and total + size > max_bytes:
                    break
                batch.append(Pending(rowid, event_id, bytes(body)))
                total += size
        return batch

    def remove(self, rowids: list[int], counters: dict[str, int]) -> None:
        """Forget acknowledged (or permanently rejected) events."""
        if not rowids:
            return
        with self._tx() as db:
            marks = ",".join("?" * len(rowids))
            size = db.execute(f"SELECT count(*), total(size) FROM events WHERE rowid IN ({marks})", rowids).fetchone()
            db.execute(f"DELETE FROM events WHERE rowid IN ({marks})", rowids)
            self._add_counters(db, counters)
            self.count -= int(size[0])
            self.bytes -= int(size[1])

    def bump(self, name: str, value: int = 1) -> None:
        """Add to a named counter (shown by `status`)."""
        with self._tx() as db:
            self._add_counters(db, {name: value})

    def _add_counters(self, db: sqlite3.Connection, counts: dict[str, int]) -> None:
        for name, value in counts.items():
            if value:
                db.execute(
                    "INSERT INTO counters (name, value) VALUES (?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                    (name, value),
                )

    def set_state(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", (key, value))

    def get_state(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def status(self) -> SpoolStatus:
        with self._lock:
            by_kind = dict(self._db.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall())
            count, size, oldest = self._db.execute(
                "SELECT count(*), total(size), min(created_at) FROM events"
            ).fetchone()
            counters = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
            state = dict(self._db.execute("SELECT key, value FROM state").fetchall())
        age = None if oldest is None else max(0.0, time.time() - oldest)
        return SpoolStatus(int(count), int(size), by_kind, counters, state, age)

    def session_seqs(self, session_id: str) -> list[int]:
        with self._lock:
            rows = self._db.execute("SELECT seq FROM events WHERE session_id = ? ORDER BY seq", (session_id,))
            return [int(r[0]) for r in rows]
