"""A recording: one sidecar session in one repository, turning payloads into spooled, sequenced events."""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import datetime
from typing import Any

import orjson

from lsp_agent.repository import Repository
from lsp_agent.spool import Gap, Spool
from trajectory.events import EventBase, event_to_dict, make_event
from trajectory.ids import uuid7

logger = logging.getLogger(__name__)


def content_hash(text: str) -> str:
    """The hash recorded for a (redacted) document text."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Recording:
    """Sequence numbers are assigned here under a lock, so the LSP and watcher threads can both record."""

    def __init__(self, spool: Spool, repository: Repository, actor: str, session_id: str | None = None) -> None:
        self.spool = spool
        self.repository = repository
        self.actor = actor
        self.session_id = session_id or str(uuid7())
        self.next_seq = 0
        self.recorded = 0
        self._lock = threading.Lock()

    def envelope(self, path: str | None) -> dict[str, Any]:
        return {"session_id": self.session_id, "actor": self.actor, "repo": self.repository.id, "path": path}

    def record(
        self,
        kind: str,
        payload: dict[str, Any],
        path: str | None = None,
        counts: dict[str, int] | None = None,
        ts: datetime | None = None,
        event_id: Any = None,
    ) -> EventBase | None:
        """Validate, sequence and spool one event; when the spool is full the seq is noted as a gap instead."""
        extra: dict[str, Any] = {} if ts is None else {"ts": ts}
        if event_id is not None:
            extra["id"] = event_id
        with self._lock:
            self._flush_gap()
            seq = self.next_seq
            self.next_seq += 1
            event = make_event(kind, payload, seq=seq, source="sidecar", **self.envelope(path), **extra)
            body = orjson.dumps(event_to_dict(event))
            if not self.spool.has_room(len(body)):
                envelope = orjson.dumps(self.envelope(None)).decode()
                self.spool.note_dropped(self.session_id, seq, envelope)
                logger.warning("spool full: %s seq %d of session %s not kept", kind, seq, self.session_id)
                return None
            self.spool.put(str(event.id), self.session_id, seq, kind, body, counts or {})
            self.recorded += 1
            return event

    def flush_gap(self, force: bool = True) -> None:
        """Record a pending gap as an event now (at the end of a session, even past the bound)."""
        with self._lock:
            self._flush_gap(force)

    def _flush_gap(self, force: bool = False) -> None:
        for gap in self.spool.gaps(self.session_id):
            if not force and not self.spool.has_room(1024):
                return
            seq = self.next_seq
            self.next_seq += 1
            self.spool.put_gap(gap, *gap_event(gap, seq))


def gap_event(gap: Gap, seq: int) -> tuple[str, int, bytes]:
    """(id, seq, body) of the `capture.gap` event that makes a gap explicit."""
    payload = {"first_seq": gap.first_seq, "last_seq": gap.last_seq, "dropped": gap.dropped, "reason": "spool full"}
    envelope = orjson.loads(gap.envelope)
    event = make_event("capture.gap", payload, seq=seq, source="sidecar", **envelope)
    return str(event.id), seq, orjson.dumps(event_to_dict(event))


def flush_orphan_gaps(spool: Spool, live_sessions: set[str]) -> int:
    """Gaps left by a sidecar that died while its spool was full, recorded after its last seq."""
    flushed = 0
    for gap in spool.gaps():
        if gap.session_id in live_sessions:
            continue
        # A gap is pending only while nothing was kept after it, so its last seq was the session's last.
        spool.put_gap(gap, *gap_event(gap, gap.last_seq + 1))
        flushed += 1
    return flushed
