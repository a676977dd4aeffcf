"""The SQLite writer: one process that runs every ingest transaction of a collector on an SQLite file.

SQLite lets one connection write at a time. When each worker process writes its own batches, every write first
drops the page cache that the other process's last write made stale, and every batch is a transaction of its
own that writes each index page it touched to the WAL again (an importer's name-based ids land all over the id
index). One writer process keeps its cache, and commits the batches that queue up while it works in one
transaction (group commit), writing the pages they share once. The workers keep the CPU work (HTTP, validation,
rows) and hand the writer finished rows over a Unix socket; a batch is answered only after its transaction
committed, so an acknowledged event is stored. A worker that cannot reach the writer writes itself, under the
same file lock (`CollectorState.write_timed`), so the writer is a speed-up and never a single point of failure.

`smartco collector serve` starts the writer (unless `--no-ingest-writer`) before the workers, starts it again
if it dies, and stops it after them; the writer also exits when the serve process is gone (SIGKILL included).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any

from collector_api.database import sqlite_file
from collector_api.errors import ConfigError
from collector_api.settings import CollectorSettings
from collector_api.store import Rows, store_batch

if TYPE_CHECKING:
    from collector_api.state import CollectorState

log = logging.getLogger(__name__)

SOCKET_ENV = "SMARTCO_COLLECTOR_WRITER_SOCKET"
GROUP_ROWS = 16_000  # most rows in one group transaction: bounds its time and the WAL it writes at once
CACHE_KIB = 64 * 1024  # the writer's page cache: holds the id index of a few million events
_HEADER = struct.Struct("!Q")


class WriterUnavailable(Exception):
    """The writer could not be reached or went away during a request: the caller writes the batch itself."""


class WriterFailed(Exception):
    """The writer reached the database and failed the batch's transaction (the message says why)."""


@dataclass(frozen=True)
class Stored:
    """A stored batch: the keys it inserted, the seconds it waited (queue and lock), the seconds of its
    transaction, and how many batches that transaction committed together."""

    inserted: set[str]
    wait_s: float
    store_s: float
    group: int


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket) -> bytes | None:
    """One framed message, or None when the peer closed the connection."""
    header = _recv_exact(sock, _HEADER.size)
    if header is None:
        return None
    return _recv_exact(sock, _HEADER.unpack(header)[0])


class WriterClient:
    """A worker's side: one connection per thread (the threads of the worker's pool each carry one batch)."""

    def __init__(self, path: str, timeout: float = 300.0) -> None:
        self.path = path
        self.timeout = timeout
        self._local = threading.local()

    def store(self, rows: Rows) -> Stored:
        payload = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        answer = self._ask(payload)
        if answer is None:  # a connection kept from a writer that died since (and was maybe started again)
            answer = self._ask(payload)
        if answer is None:
            raise WriterUnavailable("the writer closed the connection")
        reply = pickle.loads(answer)
        if reply[0] == "error":
            raise WriterFailed(reply[1])
        _, inserted, wait_s, store_s, group = reply
        return Stored(set(rows.keys) if inserted is None else set(inserted), wait_s, store_s, group)

    def _ask(self, payload: bytes) -> bytes | None:
        """The writer's answer; None when a connection kept from before broke (worth one more try on a new one);
        WriterUnavailable when a new connection fails."""
        kept = getattr(self._local, "sock", None) is not None
        try:
            sock = self._connection()
            _send(sock, payload)
            answer = _recv(sock)
        except OSError as err:
            self._drop()
            if kept:
                return None
            raise WriterUnavailable(f"{type(err).__name__}: {err}") from err
        if answer is None:
            self._drop()
        return answer

    def _connection(self) -> socket.socket:
        sock: socket.socket | None = getattr(self._local, "sock", None)
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(self.path)
            except OSError:
                sock.close()
                raise
            self._local.sock = sock
        return sock

    def _drop(self) -> None:
        sock = getattr(self._local, "sock", None)
        self._local.sock = None
        if sock is not None:
            sock.close()


_Job = tuple[Rows, float, "Future[tuple[Any, ...]]"]


class Writer:
    """The writer's work: a queue of batches and one thread that commits whatever has queued, as one group."""

    def __init__(self, state: CollectorState, group_rows: int = GROUP_ROWS) -> None:
        self.state = state
        self.group_rows = group_rows
        self.queue: SimpleQueue[_Job] = SimpleQueue()

    def submit(self, rows: Rows) -> Future[tuple[Any, ...]]:
        future: Future[tuple[Any, ...]] = Future()
        self.queue.put((rows, time.perf_counter(), future))
        return future

    def run(self) -> None:
        while True:
            group = [self.queue.get()]
            size = len(group[0][0].values)
            while size < self.group_rows:
                try:
                    job = self.queue.get_nowait()
                except Empty:
                    break
                group.append(job)
                size += len(job[0].values)
            try:
                self.commit(group)
            except BaseException as err:  # never leave a batch unanswered: its worker would wait for good
                for _, _, future in group:
                    if not future.done():
                        future.set_result(("error", f"{type(err).__name__}: {err}"))
                if not isinstance(err, Exception):
                    raise

    def commit(self, group: list[_Job]) -> None:
        """One transaction for the whole group; if it fails, each batch alone, so that one bad batch fails only
        its own request."""
        began = time.perf_counter()
        try:
            inserted, lock_wait = self.state.write_timed(lambda conn: [store_batch(conn, job[0]) for job in group])
        except Exception as err:
            if len(group) > 1:
                log.warning("group transaction failed; storing its batches one by one", extra={"error": repr(err)})
                for job in group:
                    self.commit([job])
                return
            log.exception("batch failed in the writer")
            group[0][2].set_result(("error", f"{type(err).__name__}: {err}"))
            return
        store_s = time.perf_counter() - began - lock_wait
        for (rows, queued, future), keys in zip(group, inserted, strict=True):
            every = len(keys) == len(rows.values)
            future.set_result(("ok", None if every else sorted(keys), began - queued + lock_wait, store_s, len(group)))


def _serve_connection(writer: Writer, conn: socket.socket) -> None:
    with conn:
        while True:
            try:
                message = _recv(conn)
                if message is None:
                    return
                reply = writer.submit(pickle.loads(message)).result()
                _send(conn, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:
                return


def serve(settings_json: str, path: str, ready: Connection, parent_pid: int) -> None:
    """The writer process: listen on `path`, tell `ready`, and serve until SIGTERM or until the parent is gone."""
    from collector_api.logs import configure_logging
    from collector_api.state import CollectorState

    settings = CollectorSettings.model_validate_json(settings_json)
    configure_logging(settings.log_format, settings.log_level)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    # Ctrl-C reaches every process of the terminal's group: the workers finish their requests (through this
    # writer), then the serve process stops it with SIGTERM
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        state = CollectorState(settings, cache_kib=CACHE_KIB)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(128)
        listener.settimeout(0.5)
    except Exception as err:
        ready.send(f"{type(err).__name__}: {err}")
        raise
    writer = Writer(state)
    threading.Thread(target=writer.run, name="sqlite-writer", daemon=True).start()
    ready.send("ready")
    log.info("sqlite writer started", extra={"socket": path})
    try:
        while not stopping.is_set() and os.getppid() == parent_pid:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if stopping.is_set():
                    break
                raise
            conn.settimeout(None)
            threading.Thread(target=_serve_connection, args=(writer, conn), daemon=True).start()
    finally:
        listener.close()
        state.close()
        if os.getppid() != parent_pid:  # the serve process was killed: nobody else will tidy up
            with contextlib.suppress(OSError):
                os.unlink(path)
                os.rmdir(os.path.dirname(path))  # the private folder, if nothing else is in it
        log.info("sqlite writer stopped")


def _exit_on_sigterm(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def wanted(settings: CollectorSettings) -> bool:
    """Whether `collector serve` runs a writer: asked for, and the database is an SQLite file."""
    return settings.ingest_writer and sqlite_file(settings.resolved_database_url) is not None


class _Supervisor:
    """The serve process's side: starts the writer, starts it again when it dies (backing off while it keeps
    dying; the workers write themselves meanwhile), and stops it."""

    def __init__(self, settings: CollectorSettings, path: str, timeout: float) -> None:
        self.settings, self.path, self.timeout = settings, path, timeout
        self.context = multiprocessing.get_context("spawn")
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.process: Any = None
        self.restarts = 0

    def start(self) -> None:
        """Start the writer and wait until it listens; ConfigError (with its reason) when it does not."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)  # the socket of a writer that died
        ours, theirs = self.context.Pipe(duplex=False)
        self.process = self.context.Process(
            target=serve,
            args=(self.settings.model_dump_json(), self.path, theirs, os.getpid()),
            name="smartco-sqlite-writer",
        )
        self.process.start()
        theirs.close()
        if not ours.poll(self.timeout):
            raise ConfigError(f"the SQLite writer did not start within {self.timeout:.0f}s")
        try:
            answer = ours.recv()
        except EOFError:
            self.process.join(5)
            answer = f"it exited with code {self.process.exitcode} (see its log lines above)"
        if answer != "ready":
            raise ConfigError(f"the SQLite writer could not start: {answer}")

    def watch(self) -> None:
        """Thread: start the writer again whenever it has died (backing off while it fails to start)."""
        delay = 1.0
        while not self.stopping.wait(delay):
            with self.lock:
                if self.stopping.is_set() or self.process.is_alive():
                    delay = 1.0
                    continue
                log.warning("sqlite writer exited; starting it again", extra={"exit_code": self.process.exitcode})
                try:
                    self.start()
                except ConfigError as err:
                    log.error("sqlite writer did not start again; workers store batches", extra={"error": str(err)})
                    delay = min(delay * 2, 60.0)
                else:
                    self.restarts += 1
                    delay = 1.0

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:  # a start under way ends first
            if self.process is None:
                return
            self.process.terminate()
            self.process.join(15)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()


@contextmanager
def running_writer(settings: CollectorSettings, timeout: float = 60.0) -> Iterator[str | None]:
    """Start the writer process (if `wanted`), keep it running, and publish its socket to the workers through
    the environment; stop it on the way out. Yields the socket's path, or None when there is no writer."""
    if not wanted(settings):
        yield None
        return
    folder = tempfile.mkdtemp(prefix="smartco-writer-")  # short: a Unix socket's path has at most ~100 bytes
    supervisor = _Supervisor(settings, os.path.join(folder, "writer.sock"), timeout)
    try:
        supervisor.start()
        threading.Thread(target=supervisor.watch, name="sqlite-writer-watch", daemon=True).start()
        os.environ[SOCKET_ENV] = supervisor.path
        # uvicorn (one worker) ends by raising the SIGTERM it caught again: make that an exit that runs this
        # `finally` instead of the default action, which ends the process on the spot
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            yield supervisor.path
        finally:
            signal.signal(signal.SIGTERM, previous)
    finally:
        os.environ.pop(SOCKET_ENV, None)
        supervisor.stop()
        shutil.rmtree(folder, ignore_errors=True)
