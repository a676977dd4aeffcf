"""Reading what a real collector holds, for the sidecar's end-to-end tests."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from collector_api.testing import RunningCollector


def collected(collector: RunningCollector) -> list[dict[str, Any]]:
    """Every event the collector stored for the test project, in ingest order."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        response = httpx.get(
            f"{collector.url}/v1/events", params={"after": after}, headers=collector.headers(), timeout=10
        )
        response.raise_for_status()
        events += [orjson.loads(line) for line in response.text.splitlines() if line]
        if int(response.headers["X-Count"]) == 0:
            return events
        after = int(response.headers["X-Next-After"])


def session_events(collector: RunningCollector, session_id: str) -> list[dict[str, Any]]:
    """One session's events in sequence order, as the collector serves them."""
    response = httpx.get(f"{collector.url}/v1/sessions/{session_id}/events", headers=collector.headers(), timeout=10)
    response.raise_for_status()
    return [orjson.loads(line) for line in response.text.splitlines() if line]


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [event["kind"] for event in events]
