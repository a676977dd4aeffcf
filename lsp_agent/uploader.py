"""Ships spooled events to the collector's POST /v1/events from a background thread, with backoff and jitter."""

from __future__ import annotations

import gzip
import logging
import random
import threading
import time
from dataclasses import dataclass

import httpx
import orjson

from lsp_agent.errors import UploadError
from lsp_agent.spool import Pending, Spool

logger = logging.getLogger(__name__)


@dataclass
class UploadResult:
    """One batch's outcome."""

    sent: int
    accepted: int
    duplicate: int
    rejected: int


def post_batch(client: httpx.Client, url: str, token: str, batch: list[Pending]) -> UploadResult:
    """POST one batch; raise UploadError when the collector did not take it (the events stay spooled)."""
    body = b'{"events":[' + b",".join(p.body for p in batch) + b"]}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip"}
    try:
        response = client.post(url.rstrip("/") + "/v1/events", content=gzip.compress(body, 5), headers=headers)
    except httpx.HTTPError as err:
        raise UploadError(f"collector unreachable: {type(err).__name__}") from None
    if response.status_code == 413:
        raise UploadError("batch too large (413)")
    if response.status_code != 200:
        raise UploadError(f"collector answered {response.status_code}")
    answer = response.json()
    results = {r["id"]: r.get("status") for r in answer.get("results", [])}
    return UploadResult(len(batch), answer.get("accepted", 0), answer.get("duplicate", 0), _rejected(batch, results))


def _rejected(batch: list[Pending], results: dict[str, str | None]) -> int:
    return sum(1 for p in batch if results.get(p.id) == "rejected")


class Uploader:
    """A daemon thread: peek a batch, post it, remove what was acknowledged; back off on failure."""

    def __init__(
        self,
        spool: Spool,
        url: str | None,
        token: str | None,
        batch_max_events: int = 200,
        interval: float = 1.0,
        backoff_max: float = 60.0,
    ) -> None:
        self.spool, self.url, self.token = spool, url, token
        self.batch_max_events = batch_max_events
        self.interval, self.backoff_max = interval, backoff_max
        self.failures = 0
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The exit drain runs beside the thread: one batch in flight at a time, or both would post it.
        self._sending = threading.Lock()
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))

    def start(self) -> None:
        if self.url and self.token and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="smartco-uploader", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, drain_seconds: float = 0.0) -> None:
        """Stop the thread, after trying to empty the spool for up to `drain_seconds`."""
        if drain_seconds > 0:
            self.drain(drain_seconds)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        self._client.close()

    def drain(self, timeout: float) -> bool:
        """Upload until the spool is empty or `timeout` passed; True if it is empty."""
        deadline = time.monotonic() + timeout
        while self.spool.count > 0 and time.monotonic() < deadline and self.url and self.token:
            try:
                self.upload_once()
            except UploadError:
                self._stop.wait(min(0.5, max(0.0, deadline - time.monotonic())))
        return self.spool.count == 0

    def upload_once(self) -> int:
        """Send one batch; returns how many events left the spool."""
        assert self.url and self.token
        with self._sending:
            batch = self.spool.peek(self.batch_max_events)
            if not batch:
                return 0
            try:
                result = post_batch(self._client, self.url, self.token, batch)
            except UploadError as err:
                if "413" in str(err) and self.batch_max_events > 1:
                    self.batch_max_events = max(1, self.batch_max_events // 2)
                self.last_error = str(err)
                raise
            counters = {"uploaded": result.accepted, "duplicate": result.duplicate, "rejected": result.rejected}
            self.spool.remove([p.rowid for p in batch], counters)
        self.last_error = None
        return len(batch)

    def backoff(self) -> float:
        """Exponential backoff with full jitter, capped."""
        ceiling = min(self.backoff_max, self.interval * 2 ** min(self.failures, 16))
        return random.uniform(ceiling / 2, ceiling)

    def _run(self) -> None:
        while not self._stop.is_set():
            delay = self.interval
            try:
                if self.upload_once():
                    self.failures = 0
                    continue  # more may be waiting
            except UploadError as err:
                self.failures += 1
                delay = self.backoff()
                logger.info("upload failed (%s); retrying in %.1fs", err, delay)
            except Exception:  # the thread must survive anything a bad answer throws at it
                self.failures += 1
                delay = self.backoff()
                logger.exception("unexpected upload failure")
            self._wake.wait(delay)
            self._wake.clear()


def parse_results(raw: bytes) -> dict[str, str]:
    """id -> status from a collector answer (used by tools that inspect uploads)."""
    return {r["id"]: r["status"] for r in orjson.loads(raw).get("results", [])}
