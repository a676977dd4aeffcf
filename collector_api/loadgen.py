"""Realistic synthetic events and a retrying batch client: for load tests, the ingest benchmark and the quickstart.

Run as a process: `python -m collector_api.loadgen --url URL --token T --client K --clients N --per-client M`
prints one JSON line with what the collector answered.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import random
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

BASE_TIME = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
_WORDS = ("value", "result", "items", "config", "parse", "request", "cache", "index", "count", "user", "token")


def event_id(index: int) -> str:
    """A deterministic UUIDv7 for synthetic event number `index` (time-ordered like real ones)."""
    ms = int(BASE_TIME.timestamp() * 1000) + index
    rand = int.from_bytes(hashlib.blake2b(index.to_bytes(8, "big"), digest_size=10).digest(), "big")
    value = (ms << 80) | (0x7 << 76) | ((rand >> 68) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def _code_line(rng: random.Random) -> str:
    a, b = rng.choice(_WORDS), rng.choice(_WORDS)
    return f"    {a}_{rng.randint(0, 99)} = {b}.get({rng.randint(0, 999)!r})"


def synthetic_event(index: int, sessions: int = 50) -> dict[str, Any]:
    """Event number `index`: a mix of edit episodes, saves, suggestions and notes, 300-800 bytes as JSON."""
    rng = random.Random(index)
    session = index % sessions
    envelope = {
        "id": event_id(index),
        "schema_version": 1,
        "ts": (BASE_TIME + timedelta(milliseconds=index)).isoformat(),
        "session_id": f"load-{session:04d}",
        "seq": index // sessions,
        "actor": f"u_{hashlib.sha1(str(session % 7).encode()).hexdigest()[:20]}",
        "repo": f"github.com/acme/service-{session % 5}",
        "path": f"src/service/module_{rng.randint(0, 40)}.py",
        "source": "sidecar",
    }
    roll = rng.random()
    if roll < 0.7:
        removed = [_code_line(rng) for _ in range(rng.randint(0, 2))]
        added = [_code_line(rng) for _ in range(rng.randint(1, 4))]
        start = rng.randint(1, 400)
        diff = f"@@ -{start},{len(removed)} +{start},{len(added)} @@\n" + "".join(
            [f"-{line}\n" for line in removed] + [f"+{line}\n" for line in added]
        )
        payload: dict[str, Any] = {
            "before_hash": hashlib.sha1(diff.encode()).hexdigest()[:16],
            "after_hash": hashlib.sha1(diff[::-1].encode()).hexdigest()[:16],
            "diff": diff,
            "lines_added": len(added),
            "lines_removed": len(removed),
            "changes": rng.randint(1, 30),
        }
        return {**envelope, "kind": "document.changed", "payload": payload}
    if roll < 0.85:
        text = _code_line(rng).strip()
        payload = {
            "suggestion_id": f"sg-{index}",
            "model": "qwen2.5-coder-1.5b",
            "text": text,
            "position": {"line": rng.randint(0, 400), "character": 4},
        }
        kind = rng.choice(["suggestion.shown", "suggestion.accepted", "suggestion.rejected"])
        return {**envelope, "kind": kind, "payload": payload}
    if roll < 0.95:
        return {**envelope, "kind": "document.saved", "payload": {"content_hash": f"{rng.getrandbits(64):016x}"}}
    note = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 30)))
    return {**envelope, "kind": "feedback.note", "payload": {"target": "edit", "note": note}}


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class BatchClient:
    """Posts batches until the collector acknowledges them: retries transport errors and 5xx with backoff."""

    def __init__(self, url: str, token: str, *, compress: bool = False, give_up_after: float = 120.0) -> None:
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60.0)
        self.compress = compress
        self.give_up_after = give_up_after
        self.totals = {"accepted": 0, "duplicate": 0, "rejected": 0, "retries": 0}

    def send(self, events: Sequence[dict[str, Any]]) -> dict[str, Any]:
        body = orjson.dumps({"events": list(events)})
        headers = {"Content-Type": "application/json"}
        if self.compress:
            body, headers["Content-Encoding"] = gzip.compress(body, compresslevel=1), "gzip"
        deadline, delay = time.monotonic() + self.give_up_after, 0.05
        while True:
            try:
                answer = self.http.post("/v1/events", content=body, headers=headers)
                if answer.status_code < 500:
                    answer.raise_for_status()
                    result: dict[str, Any] = answer.json()
                    for key in ("accepted", "duplicate", "rejected"):
                        self.totals[key] += result[key]
                    return result
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("collector did not acknowledge a batch in time")
            self.totals["retries"] += 1
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)

    def close(self) -> None:
        self.http.close()


def run_client(
    url: str, token: str, client: int, clients: int, per_client: int, batch: int, seed: int
) -> dict[str, Any]:
    """One load client: its own events, plus resends of its batches and of a neighbour's (overlapping retries)."""
    rng = random.Random(seed * 1000 + client)
    own = [synthetic_event(client * per_client + i) for i in range(per_client)]
    neighbour = (client + 1) % clients
    sender = BatchClient(url, token)
    try:
        for chunk in batches(own, batch):
            sender.send(chunk)
            if rng.random() < 0.2:  # the acknowledgement was "lost": send the same batch again
                sender.send(chunk)
            if rng.random() < 0.1:  # a retry that overlaps another client's events
                start = neighbour * per_client + rng.randrange(0, max(1, per_client - batch))
                sender.send([synthetic_event(i) for i in range(start, start + batch // 2)])
    finally:
        sender.close()
    return {"client": client, **sender.totals}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--client", type=int, default=0)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--per-client", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    result = run_client(args.url, args.token, args.client, args.clients, args.per_client, args.batch, args.seed)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
