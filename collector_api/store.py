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
    """The row of a validated event; its body is the canonical JSON of the event (UTC times, no nulls)."""
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


@dataclass
class PreparedBatch:
    """A batch validated and turned into rows, outside any transaction: only `store_batch` holds the write lock."""

    project_id: int
    rows: list[dict[str, Any]]  # distinct ids, sorted by id
    first_index: dict[str, int]  # id -> index of its first occurrence in the request
    outcomes: list[dict[str, str] | None]  # rejected and in-batch duplicates already decided
    rejected: int


def prepare_batch(project_id: int, items: Sequence[Any]) -> PreparedBatch:
    """Validate every item and build its row; CPU work that needs no database and runs before the transaction."""
    valid, outcomes = validate_batch(items)
    return prepare_events(project_id, valid, outcomes)


def prepare_events(
    project_id: int, valid: Sequence[EventBase | None], outcomes: list[dict[str, str] | None] | None = None
) -> PreparedBatch:
    """Rows of events already validated (None marks an item rejected with its outcome given)."""
    outcomes = outcomes if outcomes is not None else [None] * len(valid)
    now = datetime.now(UTC)
    first_index: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for index, event in enumerate(valid):
        if event is None:
            continue
        row = _row(event, project_id, now)
        if row["id"] in first_index:
            outcomes[index] = {"id": row["id"], "status": "duplicate"}
            continue
        first_index[row["id"]] = index
        rows.append(row)
    # A fixed order makes concurrent batches with overlapping ids take their locks in the same order.
    rows.sort(key=lambda row: row["id"])
    rejected = sum(1 for event in valid if event is None)
    return PreparedBatch(project_id, rows, first_index, outcomes, rejected)


def store_batch(conn: sa.Connection, batch: PreparedBatch) -> IngestResult:
    """Store the prepared rows once each (by id), inside the caller's write transaction; report every item."""
    inserted = _insert_new(conn, batch.rows)
    outcomes = list(batch.outcomes)
    for key, index in batch.first_index.items():
        outcomes[index] = {"id": key, "status": "accepted" if key in inserted else "duplicate"}
    _update_sessions(conn, batch.project_id, [row for row in batch.rows if row["id"] in inserted])
    results = [o for o in outcomes if o is not None]
    accepted = len(inserted)
    return IngestResult(results, accepted, len(results) - accepted - batch.rejected, batch.rejected)


def insert_events(conn: sa.Connection, project_id: int, items: Sequence[Any]) -> IngestResult:
    """Validate and store a batch in one go (callers that hold no lock around validation can use this)."""
    return store_batch(conn, prepare_batch(project_id, items))


def _dialect_insert(conn: sa.Connection, table: sa.Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _insert_new(conn: sa.Connection, rows: list[dict[str, Any]]) -> set[str]:
    if not rows:
        return set()
    if conn.dialect.name == "sqlite":
        return _insert_new_sqlite(conn, rows)
    return _insert_new_postgres(conn, rows)


_COLUMNS = "id, project_id, session_id, seq, kind, ts, actor, repo, path, source, received_at, body"
_PG_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS incoming_events (id uuid, project_id integer, session_id text, "
    "seq bigint, kind text, ts timestamptz, actor text, repo text, path text, source text, "
    "received_at timestamptz, body text) ON COMMIT DELETE ROWS"
)
_PG_MOVE = (
    f"INSERT INTO events ({_COLUMNS}) SELECT {_COLUMNS} FROM incoming_events ORDER BY id "
    "ON CONFLICT (id) DO NOTHING RETURNING id"
)


def _insert_new_postgres(conn: sa.Connection, rows: list[dict[str, Any]]) -> set[str]:
    """PostgreSQL hot path: COPY the rows into a per-connection staging table (emptied at commit), then move
    them with one INSERT … ON CONFLICT DO NOTHING: idempotent at close to COPY's speed, where an INSERT per row
    (even batched) costs several times more. Rows move in id order, so concurrent batches lock alike."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_PG_STAGING)
        with cursor.copy(f"COPY incoming_events ({_COLUMNS}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    (r["id"], r["project_id"], r["session_id"], r["seq"], r["kind"], r["ts"], r["actor"],
                     r["repo"], r["path"], r["source"], r["received_at"], r["body"])
                )  # fmt: skip
        cursor.execute(_PG_MOVE)
        return {str(value) for (value,) in cursor.fetchall()}
    finally:
        cursor.close()


_SQLITE_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def _sqlite_stamp(value: datetime) -> str:
    # The storage format SQLAlchemy's DateTime uses on SQLite (values here are UTC already), so Core reads it back.
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _insert_new_sqlite(conn: sa.Connection, rows: list[dict[str, Any]]) -> set[str]:
    """SQLite hot path: look up which ids exist, then one executemany (the caller holds the write transaction).

    The write transaction is BEGIN IMMEDIATE, so no other writer can insert between the look-up and the insert.
    Values are bound exactly as SQLAlchemy binds them for these column types (UUID as 32 hex digits).
    """
    keys = [row["id"].replace("-", "") for row in rows]
    existing: set[str] = set()
    for start in range(0, len(keys), 900):
        chunk = keys[start : start + 900]
        marks = ", ".join("?" * len(chunk))
        existing.update(conn.exec_driver_sql(f"SELECT id FROM events WHERE id IN ({marks})", tuple(chunk)).scalars())
    fresh = [(key, row) for key, row in zip(keys, rows, strict=True) if key not in existing]
    if fresh:
        received = _sqlite_stamp(fresh[0][1]["received_at"])
        conn.exec_driver_sql(
            _SQLITE_INSERT,
            [
                (
                    key,
                    r["project_id"],
                    r["session_id"],
                    r["seq"],
                    r["kind"],
                    _sqlite_stamp(r["ts"]),
                    r["actor"],
                    r["repo"],
                    r["path"],
                    r["source"],
                    received,
                    r["body"],
                )
                for key, r in fresh
            ],
        )
    return {row["id"] for _key, row in fresh}


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
    conn.execute(stmt, [summary[key] for key in sorted(summary)])  # same lock order in every transaction


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
