"""Where imported events go: a collector's `POST /v1/events` (batched, retried) or an events JSONL file."""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import httpx
import orjson

from trajectory.events import EventBase, event_to_dict
from trajectory.sources import SourceError

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_WAIT_S = 300.0


class SinkError(SourceError):
    """The destination refused the events for good (bad token, no such collector, retries exhausted)."""


@dataclass
class Delivery:
    """What the destination did with a batch (or with everything so far, when added up)."""

    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, other: Delivery) -> None:
        self.accepted += other.accepted
        self.duplicate += other.duplicate
        self.rejected += other.rejected
        self.reasons.extend(other.reasons[: max(0, 20 - len(self.reasons))])


class EventSink(Protocol):
    """A destination for events, fed one batch at a time."""

    def send(self, events: list[EventBase]) -> Delivery: ...

    def close(self) -> None: ...


class JsonlSink:
    """Appends events to a JSONL file, one event per line, flushed after every batch."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[bytes] = path.open("ab")

    def send(self, events: list[EventBase]) -> Delivery:
        self._file.write(b"".join(orjson.dumps(event_to_dict(event)) + b"\n" for event in events))
        self._file.flush()
        return Delivery(accepted=len(events))

    def close(self) -> None:
        self._file.close()


class CollectorSink:
    """POSTs batches to a collector; waits and retries on 429/5xx and lost connections, halves a batch on 413."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout_s: float = 30.0,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[float, str], None] | None = None,
    ) -> None:
        self.endpoint = url.rstrip("/") + "/v1/events"
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.on_wait = on_wait
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip"}
        self.client = httpx.Client(timeout=timeout_s, headers=headers)

    def send(self, events: list[EventBase]) -> Delivery:
        if not events:
            return Delivery()
        response = self._post(events)
        if response.status_code == 413:
            if len(events) == 1:
                return Delivery(rejected=1, reasons=[f"{events[0].id}: too large for the collector"])
            half = len(events) // 2
            first, second = self.send(events[:half]), self.send(events[half:])
            first.add(second)
            return first
        if response.status_code in (401, 403):
            raise SinkError(f"the collector refused the token ({response.status_code}): {_detail(response)}")
        if response.status_code != 200:
            raise SinkError(f"the collector answered {response.status_code}: {_detail(response)}")
        return _delivery(response)

    def _post(self, events: list[EventBase]) -> httpx.Response:
        body = gzip.compress(orjson.dumps({"events": [event_to_dict(event) for event in events]}), compresslevel=5)
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.client.post(self.endpoint, content=body)
            except httpx.TransportError as err:
                reason = f"collector unreachable ({type(err).__name__})"
                delay = min(2.0**attempt, 60.0)
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                reason = f"collector answered {response.status_code}"
                delay = _retry_after(response) or min(2.0**attempt, 60.0)
            if attempt == self.max_attempts:
                raise SinkError(f"giving up after {attempt} attempts: {reason}")
            log.warning("%s; retrying in %.1fs (attempt %d)", reason, delay, attempt)
            if self.on_wait:
                self.on_wait(delay, reason)
            self.sleep(delay)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.client.close()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return min(max(float(value), 0.0), MAX_WAIT_S) if value is not None else None
    except ValueError:
        return None


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    return str(data.get("detail", data) if isinstance(data, dict) else data)[:200]


def _delivery(response: httpx.Response) -> Delivery:
    data = response.json()
    reasons = [f"{item.get('id')}: {item.get('reason')}" for item in data.get("results", []) if item.get("reason")]
    return Delivery(
        accepted=int(data.get("accepted", 0)),
        duplicate=int(data.get("duplicate", 0)),
        rejected=int(data.get("rejected", 0)),
        reasons=reasons[:20],
    )


def batched(events: Iterable[EventBase], size: int) -> Iterator[list[EventBase]]:
    """Consecutive batches of at most `size` events."""
    batch: list[EventBase] = []
    for event in events:
        batch.append(event)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
