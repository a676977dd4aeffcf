"""What one collector process holds: settings, the engine, metrics, and the single-writer discipline for SQLite."""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TypeVar

import sqlalchemy as sa

from collector_api.database import is_sqlite, make_engine, sqlite_file
from collector_api.metrics import Metrics
from collector_api.settings import CollectorSettings
from collector_api.store import PreparedBatch, Rows, store_batch
from collector_api.writer import Stored, WriterClient, WriterUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


class CollectorState:
    def __init__(
        self, settings: CollectorSettings, writer_socket: str | None = None, cache_kib: int | None = None
    ) -> None:
        self.settings = settings
        self.engine = make_engine(
            settings.resolved_database_url, sqlite_synchronous=settings.sqlite_synchronous, sqlite_cache_kib=cache_kib
        )
        self.metrics = Metrics()
        # SQLite has one writer at a time: queue writers of this process on a thread lock, and the processes of
        # one collector on a lock file beside the database. SQLite's own busy handler would sleep in growing
        # steps (up to 100 ms) while the other process holds the lock; a file lock wakes the next writer at once.
        self.sqlite = is_sqlite(self.engine)
        self._write_lock = threading.Lock() if self.sqlite else None
        self._lock_file = _lock_file(self.engine)
        # One batch at a time per process: validating a batch holds the GIL for milliseconds, and a second batch
        # of the same process would only trade the GIL with it (SQLite's steps give it up row by row) and slow
        # both. Worker processes (`--workers`) are what run batches side by side.
        self.batch_lock = threading.Lock()
        # The collector's SQLite writer process (`collector_api.writer`), when `collector serve` started one.
        self.writer = WriterClient(writer_socket) if writer_socket and self.sqlite else None
        self._writer_lost = False

    def ingest(self, prepare: Callable[[], PreparedBatch]) -> tuple[PreparedBatch, Stored, float]:
        """Prepare a batch (one at a time in this process) and store its rows: through the SQLite writer when
        there is one (this process prepares the next batch meanwhile), else in a write transaction of its own.
        The batch, how it was stored, and the seconds its preparation took."""
        with self.batch_lock:
            began = time.perf_counter()
            batch = prepare()
            prepare_s = time.perf_counter() - began
            if self.writer is None:
                return batch, self._store_here(batch.rows), prepare_s
        try:
            stored = self.writer.store(batch.rows)
        except WriterUnavailable as err:
            if not self._writer_lost:
                log.warning("sqlite writer unavailable: this worker stores its batches", extra={"error": str(err)})
            self._writer_lost = True
        else:
            if self._writer_lost:
                log.info("sqlite writer reached again")
            self._writer_lost = False
            return batch, stored, prepare_s
        with self.batch_lock:
            return batch, self._store_here(batch.rows), prepare_s

    def _store_here(self, rows: Rows) -> Stored:
        began = time.perf_counter()
        inserted, waited = self.write_timed(lambda conn: store_batch(conn, rows))
        return Stored(inserted, waited, time.perf_counter() - began - waited, 1)

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    def write(self, work: Callable[[sa.Connection], T], attempts: int = 5) -> T:
        """Run `work` in one write transaction; retried on deadlocks and serialization failures (PostgreSQL)."""
        return self.write_timed(work, attempts)[0]

    def write_timed(self, work: Callable[[sa.Connection], T], attempts: int = 5) -> tuple[T, float]:
        """`write`, and the seconds it waited for the other writers (SQLite's one writer at a time)."""
        waited = 0.0
        for attempt in range(1, attempts + 1):
            try:
                if self._write_lock is None:
                    with self.engine.begin() as conn:
                        return work(conn), waited
                began = time.perf_counter()
                with self._write_lock, _exclusive(self._lock_file):
                    waited += time.perf_counter() - began
                    with self.engine.begin() as conn:
                        # IMMEDIATE takes SQLite's write lock now: another writer (say `smartco collector
                        # migrate`) makes us wait (busy timeout) instead of failing later, and a look-up followed
                        # by an insert cannot be raced.
                        conn.exec_driver_sql("BEGIN IMMEDIATE")
                        return work(conn), waited
            except sa.exc.OperationalError as err:
                if attempt == attempts or not _retryable(err):
                    raise
                log.warning("write transaction retried", extra={"attempt": attempt, "error": type(err.orig).__name__})
                time.sleep(0.01 * attempt)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.engine.dispose()
        if self._lock_file is not None:
            self._lock_file.close()


def _lock_file(engine: sa.Engine) -> IO[bytes] | None:
    """The lock file of an SQLite database file (None for PostgreSQL or an in-memory database)."""
    database = sqlite_file(engine.url)
    return None if database is None else open(f"{database}.write-lock", "ab")


@contextmanager
def _exclusive(handle: IO[bytes] | None) -> Iterator[None]:
    if handle is None:
        yield
        return
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)


def _retryable(err: sa.exc.OperationalError) -> bool:
    code = getattr(err.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "database is locked" in str(err.orig)
