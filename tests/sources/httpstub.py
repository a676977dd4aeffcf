"""A real HTTP server on 127.0.0.1 for tests: an ingest endpoint shaped like the collector's, with scripted faults.

It stands in where a test needs faults the real collector does not produce on demand (413, 429 with Retry-After,
503); tests against the real collector live in test_collector_e2e.py, with a fault-injecting proxy.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class StubServer:
    """Serves `handler(method, path, headers, body) -> Reply` until stopped; records every request."""

    def __init__(self, handler: Callable[[str, str, dict[str, str], bytes], Reply]) -> None:
        self.handler = handler
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {key.lower(): value for key, value in self.headers.items()}
                outer.requests.append((self.command, self.path, headers))
                reply = outer.handler(self.command, self.path, headers, body)
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class IngestStub:
    """POST /v1/events: idempotent by event id, like the collector; `faults` are answered first, in order."""

    def __init__(self, token: str = "tok") -> None:
        self.token = token
        self.events: dict[str, dict[str, Any]] = {}
        self.faults: list[Reply] = []
        self.max_batch: int | None = None
        self.lock = threading.Lock()

    def __call__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"detail": "invalid token"})
        with self.lock:
            if self.faults:
                return self.faults.pop(0)
        if headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        events = json.loads(body)["events"]
        if self.max_batch is not None and len(events) > self.max_batch:
            return Reply(413, {"detail": "batch too large"})
        results = []
        with self.lock:
            for event in events:
                status = "duplicate" if event["id"] in self.events else "accepted"
                self.events.setdefault(event["id"], event)
                results.append({"id": event["id"], "status": status})
        counts = {name: sum(r["status"] == name for r in results) for name in ("accepted", "duplicate", "rejected")}
        return Reply(200, {**counts, "results": results})
