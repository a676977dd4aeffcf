"""Event storage with SQLAlchemy Core: idempotent batch insert, session summaries, ordered reads."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
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


_COLUMNS = "id, project_id, session_id, seq, kind, ts, actor, repo, path, source, received_at, body"


@dataclass
class Rows:
    """What the database needs of a batch: its rows and their session summaries (`store_batch`). Plain data, so
    that a worker process can hand it to the collector's SQLite writer process (`collector_api.writer`)."""

    project_id: int
    values: list[tuple[Any, ...]]  # in _COLUMNS order, bound for the dialect, distinct ids, sorted by id
    summaries: list[dict[str, Any]]  # the session summaries of every row (of the usual batch: all new)
    sqlite: bool

    @property
    def keys(self) -> list[str]:
        """Each row's id as the database holds it (32 hex digits on SQLite)."""
        return [row[0] for row in self.values]


@dataclass
class PreparedBatch:
    """A batch validated and turned into rows outside any transaction, so that the write lock is held only for
    the database's own work (`store_batch` of `rows`); `result` then reports every item, outside the lock again."""

    rows: Rows
    ids: list[str]  # each row's id as the client wrote it (hyphenated), in the order of the rows
    first_index: dict[str, int]  # id -> index of its first occurrence in the request
    outcomes: list[dict[str, str] | None]  # rejected and in-batch duplicates already decided
    rejected: int

    def result(self, inserted: set[str]) -> IngestResult:
        """Every item as accepted, duplicate or rejected, given the keys that `store_batch` inserted."""
        if len(inserted) == len(self.outcomes):  # the usual batch: every item new, in request order
            every = [{"id": event_id, "status": "accepted"} for event_id in self.first_index]
            return IngestResult(every, len(every), 0, 0)
        outcomes = list(self.outcomes)
        for key, event_id in zip(self.rows.keys, self.ids, strict=True):
            status = "accepted" if key in inserted else "duplicate"
            outcomes[self.first_index[event_id]] = {"id": event_id, "status": status}
        results = [o for o in outcomes if o is not None]
        accepted = len(inserted)
        return IngestResult(results, accepted, len(results) - accepted - self.rejected, self.rejected)


Item = tuple[str, Any, str, str]
"""A valid item of a request: its id (hyphenated), the event (a model or a strict-reader struct: both have the
envelope's attributes, times in UTC), its kind and the JSON kept as its body."""


def prepare_batch(project_id: int, items: Sequence[Any], sqlite: bool = False) -> PreparedBatch:
    """Validate every item with the models and build its row (the body is the canonical JSON: UTC times, no
    nulls); CPU work that needs no database and runs before the transaction."""
    valid, outcomes = validate_batch(items)
    return _prepare(
        project_id,
        [None if e is None else (str(e.id), e, e.kind, e.model_dump_json(exclude_none=True)) for e in valid],
        outcomes,
        sqlite,
    )


def prepare_read(
    project_id: int, read: Sequence[tuple[Any, bytes]], kinds: Mapping[type, str], sqlite: bool
) -> PreparedBatch:
    """The rows of a batch that the strict reader took whole (`trajectory.wire.read_batch`: every item valid, each
    with its JSON as sent): the collector's hot path."""
    items: list[Item | None] = [(e.id, e, kinds[type(e)], raw.decode()) for e, raw in read]
    return _prepare(project_id, items, [None] * len(read), sqlite)


def _prepare(
    project_id: int, items: Sequence[Item | None], outcomes: list[dict[str, str] | None], sqlite: bool
) -> PreparedBatch:
    """Rows of the valid items (None marks an item rejected, its outcome given), once per id.

    On SQLite the values are bound exactly as SQLAlchemy binds these column types (UUID as 32 hex digits, naive
    UTC stamps), so that Core reads them back.
    """
    now = datetime.now(UTC)
    received: Any = _sqlite_stamp(now) if sqlite else now
    stamp = _sqlite_stamp if sqlite else _same
    first_index: dict[str, int] = {}
    chosen: list[Item] = []
    for index, item in enumerate(items):
        if item is None:
            continue
        if item[0] in first_index:
            outcomes[index] = {"id": item[0], "status": "duplicate"}
            continue
        first_index[item[0]] = index
        chosen.append(item)
    # A fixed order makes concurrent batches with overlapping ids take their locks in the same order.
    chosen.sort(key=_first)
    ids = [item[0] for item in chosen]
    keys = [event_id.replace("-", "") for event_id in ids] if sqlite else ids
    rows = [
        (key, project_id, e.session_id, e.seq, kind, stamp(e.ts), e.actor, e.repo, e.path, e.source, received, body)
        for key, (_, e, kind, body) in zip(keys, chosen, strict=True)
    ]  # fmt: skip
    rejected = len(items) - sum(1 for item in items if item is not None)
    rows_ = Rows(project_id, rows, _session_summaries(project_id, rows), sqlite)
    return PreparedBatch(rows_, ids, first_index, outcomes, rejected)


def _first(item: tuple[Any, ...]) -> Any:
    return item[0]


def store_batch(conn: sa.Connection, rows: Rows) -> set[str]:
    """Store the rows once each (by id) and update the session summaries, inside the caller's write transaction;
    the keys of the rows that were new."""
    inserted = _insert_new_sqlite(conn, rows) if rows.sqlite else _insert_new_postgres(conn, rows.values)
    if len(inserted) == len(rows.values):
        summaries = rows.summaries
    else:
        summaries = _session_summaries(rows.project_id, [row for row in rows.values if row[0] in inserted])
    if rows.sqlite:
        _update_sessions_sqlite(conn, summaries)
    else:
        _update_sessions(conn, summaries)
    return inserted


def _same(value: Any) -> Any:
    return value


_PG_STAGING = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS incoming_events (id uuid, project_id integer, session_id text, "
    "seq bigint, kind text, ts timestamptz, actor text, repo text, path text, source text, "
    "received_at timestamptz, body text) ON COMMIT DELETE ROWS"
)
_PG_MOVE = (
    f"INSERT INTO events ({_COLUMNS}) SELECT {_COLUMNS} FROM incoming_events ORDER BY id "
    "ON CONFLICT (id) DO NOTHING RETURNING id"
)


def _insert_new_postgres(conn: sa.Connection, rows: list[tuple[Any, ...]]) -> set[str]:
    """PostgreSQL hot path: COPY the rows straight into `events` under a savepoint, as fast as a raw COPY; when
    an id is already there (a resent batch) the COPY fails whole, and the rows go the idempotent way instead:
    COPY into a per-connection staging table (emptied at commit), then one INSERT … ON CONFLICT DO NOTHING
    RETURNING the ids it inserted. Rows move in id order, so concurrent batches lock alike."""
    if not rows:
        return set()
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute("SAVEPOINT fresh_events")
        try:
            with cursor.copy(f"COPY events ({_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT fresh_events")
        else:
            cursor.execute("RELEASE SAVEPOINT fresh_events")
            return {str(row[0]) for row in rows}
        cursor.execute(_PG_STAGING)
        with cursor.copy(f"COPY incoming_events ({_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(_PG_MOVE)
        return {str(value) for (value,) in cursor.fetchall()}
    finally:
        cursor.close()


_SQLITE_INSERT = (
    f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"
)


def _sqlite_stamp(value: datetime) -> str:
    """The storage format SQLAlchemy's DateTime uses on SQLite, so that Core reads it back: the values here are
    UTC already, so the "+00:00" that `str` ends with is cut off (`str` is twice as fast as `isoformat` with a
    timespec, and this runs for every event)."""
    text = str(value)  # YYYY-MM-DD HH:MM:SS[.ffffff]+00:00
    return text[:26] if value.microsecond else text[:19] + ".000000"


def _insert_new_sqlite(conn: sa.Connection, rows: Rows) -> set[str]:
    """SQLite hot path: one executemany that skips ids already stored (the caller holds the write transaction).

    When it changed fewer rows than it was given, the rows it did insert are the ones placed after the last
    position before it: positions are the rowid, which SQLite always takes past the largest, and the write
    transaction is BEGIN IMMEDIATE, so nobody else inserts in between.
    """
    if not rows.values:
        return set()
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        last = cursor.execute("SELECT max(pos) FROM events").fetchone()[0] or 0
        if cursor.executemany(_SQLITE_INSERT, rows.values).rowcount == len(rows.values):
            return set(rows.keys)
        return {key for (key,) in cursor.execute("SELECT id FROM events WHERE pos > ?", (last,))}
    finally:
        cursor.close()


def _session_summaries(project_id: int, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """One summary per session of the rows (first and last time, count, highest seq), in session order. Times
    stay as the rows bind them (SQLite's stamps compare as the times do: UTC, fixed width)."""
    summary: dict[str, dict[str, Any]] = {}
    for _, _, session_id, seq, _, ts, actor, repo, _, source, _, _ in rows:
        s = summary.get(session_id)
        if s is None:
            summary[session_id] = {
                "project_id": project_id, "session_id": session_id, "actor": actor, "repo": repo,
                "source": source, "first_ts": ts, "last_ts": ts, "event_count": 1, "max_seq": seq,
            }  # fmt: skip
            continue
        if ts < s["first_ts"]:
            s["first_ts"] = ts
        elif ts > s["last_ts"]:
            s["last_ts"] = ts
        s["event_count"] += 1
        if seq > s["max_seq"]:
            s["max_seq"] = seq
    return [summary[key] for key in sorted(summary)]  # same lock order in every transaction


_SQLITE_SESSIONS = (
    "INSERT INTO sessions (project_id, session_id, actor, repo, source, first_ts, last_ts, event_count, max_seq) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, session_id) DO UPDATE SET "
    "first_ts = min(first_ts, excluded.first_ts), last_ts = max(last_ts, excluded.last_ts), "
    "event_count = event_count + excluded.event_count, max_seq = max(max_seq, excluded.max_seq)"
)


def _update_sessions_sqlite(conn: sa.Connection, summaries: list[dict[str, Any]]) -> None:
    """The session upsert as one prepared statement (stamps compare as text in SQLAlchemy's SQLite format)."""
    if summaries:
        conn.exec_driver_sql(
            _SQLITE_SESSIONS,
            [
                (s["project_id"], s["session_id"], s["actor"], s["repo"], s["source"], s["first_ts"], s["last_ts"],
                 s["event_count"], s["max_seq"])
                for s in summaries
            ],
        )  # fmt: skip


def _update_sessions(conn: sa.Connection, summaries: list[dict[str, Any]]) -> None:
    if not summaries:
        return
    pg = conn.dialect.name == "postgresql"
    least, greatest = (sa.func.least, sa.func.greatest) if pg else (sa.func.min, sa.func.max)
    stmt = (postgresql.insert if pg else sqlite.insert)(sessions)
    stmt = stmt.on_conflict_do_update(
        index_elements=["project_id", "session_id"],
        set_={
            "first_ts": least(sessions.c.first_ts, stmt.excluded.first_ts),
            "last_ts": greatest(sessions.c.last_ts, stmt.excluded.last_ts),
            "event_count": sessions.c.event_count + stmt.excluded.event_count,
            "max_seq": greatest(sessions.c.max_seq, stmt.excluded.max_seq),
        },
    )
    conn.execute(stmt, summaries)


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
