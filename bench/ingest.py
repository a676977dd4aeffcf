"""Ingest benchmark: HTTP ingest into a real collector vs raw inserts into the same schema, SQLite and PostgreSQL.

SQLite: a uvicorn collector on 127.0.0.1 receives 200,000 realistic events (300-800 bytes) in batches of 1,000;
the reference inserts the same rows with plain sqlite3.executemany, one transaction per 1,000, into a database
migrated to the same schema with the same durability (WAL, synchronous=NORMAL). PostgreSQL (when
SMARTCO_TEST_POSTGRES_URL or --postgres is given): the same HTTP ingest against COPY of the same rows.

The checked figures use the issue's reference set-up: ids spread over the id index (name-based, as the git and
GitHub importers make them; random UUIDs behave alike). `--ids recorded` adds the same measurement with the
sidecar's time-ordered ids, reported but not checked: every insert then lands at the index's right edge, which
makes the raw insert three times faster, while the HTTP side's work per event (parsing, validation, the
response) stays the same; on a 2-core machine shared with the sending clients that work, not the database,
bounds the rate. Ends with one JSON line per checked figure.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import sqlalchemy as sa

from collector_api import auth, database
from collector_api.loadgen import batches, synthetic_event
from collector_api.testing import running_collector
from trajectory.events import EVENT_ADAPTER
from trajectory.sources.identity import stable_event_id

COLUMNS = (
    "id",
    "project_id",
    "session_id",
    "seq",
    "kind",
    "ts",
    "actor",
    "repo",
    "path",
    "source",
    "received_at",
    "body",
)


def imported_id(index: int) -> str:
    """The id an importer would give synthetic event number `index`: name-based, so spread over the index."""
    return str(stable_event_id("bench", index))


def rows_for(events: list[dict[str, Any]], project_id: int) -> list[tuple[Any, ...]]:
    """The rows the collector would store, prepared outside the timed part (the reference gets them for free)."""
    now = datetime.now(UTC)
    rows = []
    for item in events:
        event = EVENT_ADAPTER.validate_python(item)
        body = EVENT_ADAPTER.dump_json(event, exclude_none=True).decode()
        rows.append(
            (
                str(event.id),
                project_id,
                event.session_id,
                event.seq,
                event.kind,
                event.ts,
                event.actor,
                event.repo,
                event.path,
                event.source,
                now,
                body,
            )
        )
    return rows


def _client(url: str, token: str, events: list[dict[str, Any]], start: Any, results: Any) -> None:
    """One sender: its batches encoded before the start (the raw reference gets its rows ready-made too), then
    posted one after another, each on a new connection and its answer read in full and checked.

    A new connection per batch is what a sidecar flushing every few seconds makes, and it lets the kernel hand
    each batch to whichever worker process accepts first: clients that all connect at the same instant and keep
    their connections are often all accepted by one worker (asyncio accepts every pending connection at once),
    which measures the luck of that draw instead of the collector.
    """
    bodies = [orjson.dumps({"events": chunk}) for chunk in batches(events, 1000)]
    address = urlsplit(url)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    accepted = 0
    start.wait()
    for body in bodies:
        conn = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=120)
        try:
            conn.request("POST", "/v1/events", body, headers)
            answer = conn.getresponse()
            data = answer.read()
        finally:
            conn.close()
        if answer.status != 200:
            raise RuntimeError(f"collector answered {answer.status}: {data[:300]!r}")
        accepted += orjson.loads(data)["accepted"]
    results.put(accepted)


def http_rate(url: str, token: str, events: list[dict[str, Any]], clients: int) -> float:
    """Events per second through HTTP, sent by `clients` processes (as separate sidecars and importers would)."""
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    shares = [[e for i, e in enumerate(events) if i // 1000 % clients == k] for k in range(clients)]
    procs = [context.Process(target=_client, args=(url, token, share, start, results)) for share in shares]
    for proc in procs:
        proc.start()
    time.sleep(1.0)  # every client is up and has its events ready
    began = time.perf_counter()
    start.set()
    accepted = sum(results.get(timeout=600) for _ in procs)
    elapsed = time.perf_counter() - began
    for proc in procs:
        proc.join()
    assert accepted == len(events), f"collector accepted {accepted} of {len(events)}"
    return len(events) / elapsed


def sqlite_raw_rate(path: Path, rows: list[tuple[Any, ...]]) -> float:
    engine = database.make_engine(f"sqlite:///{path}")
    database.upgrade(engine)
    with engine.begin() as conn:
        project_id = auth.ensure_project(conn, "bench")
    engine.dispose()
    # The same values SQLAlchemy binds for SQLite: 32-hex UUIDs and ISO-like timestamps without zone.
    prepared = [
        (
            uuid.UUID(r[0]).hex,
            project_id,
            r[2],
            r[3],
            r[4],
            r[5].strftime("%Y-%m-%d %H:%M:%S.%f"),
            r[6],
            r[7],
            r[8],
            r[9],
            r[10].strftime("%Y-%m-%d %H:%M:%S.%f"),
            r[11],
        )
        for r in rows
    ]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    start = time.perf_counter()
    for chunk in batches(prepared, 1000):
        conn.execute("BEGIN")
        conn.executemany(sql, chunk)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return len(rows) / elapsed


def postgres_copy_rate(url: str, rows: list[tuple[Any, ...]]) -> float:
    engine = database.make_engine(url)
    database.upgrade(engine)
    with engine.begin() as conn:
        project_id = auth.ensure_project(conn, "bench-copy")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        start = time.perf_counter()
        for chunk in batches(rows, 1000):
            with cursor.copy(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for r in chunk:
                    copy.write_row((r[0], project_id, *r[2:]))
            raw.commit()
        elapsed = time.perf_counter() - start
    finally:
        raw.close()
        engine.dispose()
    return len(rows) / elapsed


def fresh_pg_schema(base: str, name: str) -> str:
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    admin.dispose()
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{name}"


def figure(name: str, value: float, target: float) -> dict[str, Any]:
    return {"bench": name, "value": round(value, 3), "unit": "x", "target": f">= {target}", "ok": value >= target}


def best_of_rounds(rounds: int, raw: Callable[[int], float], http: Callable[[int], float]) -> tuple[float, float]:
    """Raw and HTTP rates measured alternately, `rounds` times each; the best of each (a shared machine only
    ever makes a run slower, so the best is the least disturbed)."""
    raws, https = [], []
    for round_no in range(rounds):
        raws.append(raw(round_no))
        https.append(http(round_no))
        print(f"  round {round_no + 1}: raw {raws[-1]:,.0f}/s, HTTP {https[-1]:,.0f}/s", flush=True)
    return max(raws), max(https)


ID_KINDS = {
    "imported": "name-based UUIDv5 ids, as the git and GitHub importers make them: each insert lands at a random "
    "place of the id index (the set-up of the issue's reference figures; checked)",
    "recorded": "time-ordered UUIDv7 ids, as the sidecar makes them: each insert lands at the id index's right edge "
    "(reported, not checked)",
}
CHECKED = "imported"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP sender processes")
    parser.add_argument("--workers", type=int, default=2, help="collector worker processes (one per core here)")
    parser.add_argument(
        "--ids", default=",".join(ID_KINDS),
        help="comma-separated kinds of event id to measure with, each a figure: "
        + "; ".join(f"{kind}: {text}" for kind, text in ID_KINDS.items()),
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of raw and HTTP; best of each")
    parser.add_argument("--postgres", default=os.environ.get("SMARTCO_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    kinds = [kind.strip() for kind in args.ids.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in ID_KINDS]
    if unknown or not kinds:
        parser.error(f"--ids takes {', '.join(ID_KINDS)}; got {args.ids!r}")
    figures = []
    for kind in kinds:
        figures += measure(args, kind)
    if not args.postgres:
        print("postgres: skipped (set SMARTCO_TEST_POSTGRES_URL or --postgres)")
    checked = [item for item in figures if item["ids"] == CHECKED]
    for item in figures:
        if item["ids"] != CHECKED:
            print(f"not checked: {item['bench']} {item['value']} ({item['ids']} ids)")
    for item in checked:
        print(json.dumps(item))
    return 0 if all(item["ok"] for item in checked) else 1


def measure(args: argparse.Namespace, kind: str) -> list[dict[str, Any]]:
    """The SQLite (and PostgreSQL) figures for events with ids of `kind`."""
    events = [synthetic_event(i) for i in range(args.events)]
    if kind == "imported":
        for index, event in enumerate(events):
            event["id"] = imported_id(index)
    sizes = [len(orjson.dumps(e)) for e in events[:5000]]
    print(f"{len(events)} events, {min(sizes)}-{max(sizes)} bytes (mean {sum(sizes) / len(sizes):.0f}), {kind} ids")
    suffix = "" if kind == "imported" else f"_{kind}_ids"
    rows = rows_for(events, 1)
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        def sqlite_http(n: int) -> float:
            with running_collector(root / f"http{n}", workers=args.workers) as collector:
                return http_rate(collector.url, collector.token, events, args.clients)

        print(f"sqlite, {kind} ids:")
        raw, http = best_of_rounds(args.rounds, lambda n: sqlite_raw_rate(root / f"raw{n}.db", rows), sqlite_http)
        print(f"sqlite: raw executemany {raw:,.0f} rows/s, HTTP ingest {http:,.0f} events/s, ratio {http / raw:.2f}")
        figures.append({**figure(f"ingest_sqlite_ratio{suffix}", http / raw, 0.75), "ids": kind})
        if args.postgres:
            base = args.postgres

            def pg_http(n: int) -> float:
                url = fresh_pg_schema(base, "bench_http")
                with running_collector(root / f"pg{n}", database_url=url, workers=args.workers) as collector:
                    return http_rate(collector.url, collector.token, events, args.clients)

            print(f"postgres, {kind} ids:")
            copy, http_pg = best_of_rounds(
                args.rounds, lambda n: postgres_copy_rate(fresh_pg_schema(base, "bench_copy"), rows), pg_http
            )
            ratio = http_pg / copy
            print(f"postgres: raw COPY {copy:,.0f} rows/s, HTTP ingest {http_pg:,.0f} events/s, ratio {ratio:.2f}")
            figures.append({**figure(f"ingest_postgres_ratio{suffix}", ratio, 0.6), "ids": kind})
    return figures


if __name__ == "__main__":
    sys.exit(main())
