"""Event storage with SQLAlchemy Core: idempotent batch insert, session summaries, ordered reads."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql, sqlite

from collector_api.schema import events, sessions
from trajectory.events import EVENT_ADAPTER, EventBase

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    """Per-event outcomes in request order, and the counts."""

    results: list[dict[str, str]]
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "results": self.results,
        }


def validation_reason(err: ValidationError) -> str:
    """A short, readable reason for a rejected event (first problems, with where they are)."""
    parts = []
    for problem in err.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in problem["loc"] if not str(p).startswith(("tagged-union", "function-")))
        parts.append(f"{where or 'event'}: {problem['msg']}")
    return "; ".join(parts)


def _item_id(item: Any) -> str:
    raw = item.get("id") if isinstance(item, dict) else None
    return raw if isinstance(raw, str) and len(raw) <= 64 else ""


def validate_batch(items: Sequence[Any]) -> tuple[list[EventBase | None], list[dict[str, str] | None]]:
    """Validate each item; a rejected item gets its outcome now, a valid one its event."""
    valid: list[EventBase | None] = []
    outcomes: list[dict[str, str] | None] = []
    for item in items:
        try:
            valid.append(EVENT_ADAPTER.validate_python(item))
            outcomes.append(None)
        except ValidationError as err:
            valid.append(None)
            outcomes.append({"id": _item_id(item), "status": "rejected", "reason": validation_reason(err)})
    return valid, outcomes


def _row(event: EventBase, project_id: int, now: datetime) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "project_id": project_id,
        "session_id": event.session_id,
        "seq": event.seq,
        "kind": event.kind,
        "ts": event.ts,
        "actor": event.actor,
        "repo": event.repo,
        "path": event.path,
        "source": event.source,
        "received_at": now,
        "body": EVENT_ADAPTER.dump_json(event, exclude_none=True).decode(),
    }


def insert_events(conn: sa.Connection, project_id: int, items: Sequence[Any]) -> IngestResult:
    """Store the valid events of a batch once each (by id); report every item as accepted/duplicate/rejected."""
    valid, outcomes = validate_batch(items)
    now = datetime.now(UTC)
    first_index: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for index, event in enumerate(valid):
        if event is None:
            continue
        key = str(event.id)
        if key in first_index:
            outcomes[index] = {"id": key, "status": "duplicate"}
            continue
        first_index[key] = index
        rows.append(_row(event, project_id, now))
    # A fixed order makes concurrent batches with overlapping ids take their locks in the same order.
    rows.sort(key=lambda row: row["id"])
    inserted = _insert_new(conn, rows)
    for key, index in first_index.items():
        outcomes[index] = {"id": key, "status": "accepted" if key in inserted else "duplicate"}
    _update_sessions(conn, project_id, [row for row in rows if row["id"] in inserted])
    result = IngestResult([o for o in outcomes if o is not None])
    for outcome in result.results:
        setattr(result, outcome["status"], getattr(result, outcome["status"]) + 1)
    return result


def _dialect_insert(conn: sa.Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _insert_new(conn: sa.Connection, rows: list[dict[str, Any]]) -> set[str]:
    if not rows:
        return set()
    stmt = _dialect_insert(conn, events).on_conflict_do_nothing(index_elements=["id"]).returning(events.c.id)
    return {str(value) for value in conn.execute(stmt, rows).scalars()}


def _update_sessions(conn: sa.Connection, project_id: int, rows: list[dict[str, Any]]) -> None:
    summary: dict[str, dict[str, Any]] = {}
    for row in rows:
        s = summary.get(row["session_id"])
        if s is None:
            summary[row["session_id"]] = {
                "project_id": project_id,
                "session_id": row["session_id"],
                "actor": row["actor"],
                "repo": row["repo"],
                "source": row["source"],
                "first_ts": row["ts"],
                "last_ts": row["ts"],
                "event_count": 1,
                "max_seq": row["seq"],
            }
            continue
        s["first_ts"], s["last_ts"] = min(s["first_ts"], row["ts"]), max(s["last_ts"], row["ts"])
        s["event_count"] += 1
        s["max_seq"] = max(s["max_seq"], row["seq"])
    if not summary:
        return
    pg = conn.dialect.name == "postgresql"
    least, greatest = (sa.func.least, sa.func.greatest) if pg else (sa.func.min, sa.func.max)
    stmt = _dialect_insert(conn, sessions)
    stmt = stmt.on_conflict_do_update(
        index_elements=["project_id", "session_id"],
        set_={
            "first_ts": least(sessions.c.first_ts, stmt.excluded.first_ts),
            "last_ts": greatest(sessions.c.last_ts, stmt.excluded.last_ts),
            "event_count": sessions.c.event_count + stmt.excluded.event_count,
            "max_seq": greatest(sessions.c.max_seq, stmt.excluded.max_seq),
        },
    )
    for key in sorted(summary):  # same lock order in every transaction
        conn.execute(stmt, summary[key])


def events_after(conn: sa.Connection, project_id: int, after: int, limit: int) -> list[tuple[int, str]]:
    """Up to `limit` events of a project with a position after `after`, in ingest order."""
    query = (
        sa.select(events.c.pos, events.c.body)
        .where(events.c.project_id == project_id, events.c.pos > after)
        .order_by(events.c.pos)
        .limit(limit)
    )
    return [(int(pos), body) for pos, body in conn.execute(query)]


def session_events(conn: sa.Connection, project_id: int, session_id: str, chunk: int = 2000) -> Iterator[str]:
    """The events of one session in sequence order, fetched chunk by chunk (keyset on seq, then pos)."""
    last: tuple[int, int] = (-1, 0)
    while True:
        query = (
            sa.select(events.c.seq, events.c.pos, events.c.body)
            .where(events.c.project_id == project_id, events.c.session_id == session_id)
            .where(sa.tuple_(events.c.seq, events.c.pos) > sa.tuple_(sa.literal(last[0]), sa.literal(last[1])))
            .order_by(events.c.seq, events.c.pos)
            .limit(chunk)
        )
        rows = conn.execute(query).all()
        for _seq, _pos, body in rows:
            yield body
        if len(rows) < chunk:
            return
        last = (int(rows[-1][0]), int(rows[-1][1]))


def session_exists(conn: sa.Connection, project_id: int, session_id: str) -> bool:
    query = sa.select(sessions.c.id).where(sessions.c.project_id == project_id, sessions.c.session_id == session_id)
    return conn.execute(query).first() is not None


@dataclass(frozen=True)
class SessionFilter:
    actor: str | None = None
    repo: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_sessions(
    conn: sa.Connection, project_id: int, flt: SessionFilter, after_id: int, limit: int
) -> list[dict[str, Any]]:
    """A page of session summaries (keyset pagination on the internal id)."""
    query = sa.select(sessions).where(sessions.c.project_id == project_id, sessions.c.id > after_id)
    if flt.actor:
        query = query.where(sessions.c.actor == flt.actor)
    if flt.repo:
        query = query.where(sessions.c.repo == flt.repo)
    if flt.since:
        query = query.where(sessions.c.last_ts >= flt.since)
    if flt.until:
        query = query.where(sessions.c.first_ts <= flt.until)
    rows = conn.execute(query.order_by(sessions.c.id).limit(limit))
    return [{**plain(row), "first_ts": utc(row.first_ts), "last_ts": utc(row.last_ts)} for row in rows]


def plain(row: sa.Row[Any]) -> dict[str, Any]:
    """A row as a dict with plain str keys (SQLAlchemy's quoted_name keys upset orjson)."""
    return {str(key): value for key, value in row._mapping.items()}


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stats(conn: sa.Connection, project_id: int) -> dict[str, Any]:
    """Counts per kind and source, sessions, and the time span of a project's events."""
    by_kind = conn.execute(
        sa.select(events.c.kind, sa.func.count()).where(events.c.project_id == project_id).group_by(events.c.kind)
    ).all()
    span = conn.execute(
        sa.select(sa.func.count(), sa.func.min(events.c.ts), sa.func.max(events.c.ts), sa.func.max(events.c.pos)).where(
            events.c.project_id == project_id
        )
    ).one()
    n_sessions = conn.execute(
        sa.select(sa.func.count()).select_from(sessions).where(sessions.c.project_id == project_id)
    ).scalar()
    return {
        "events": int(span[0]),
        "sessions": int(n_sessions or 0),
        "kinds": {kind: int(n) for kind, n in sorted(by_kind)},
        "first_ts": utc(span[1]).isoformat() if span[1] else None,
        "last_ts": utc(span[2]).isoformat() if span[2] else None,
        "last_pos": int(span[3] or 0),
    }
