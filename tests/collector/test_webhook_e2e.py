"""The webhook set-up the README describes, end to end: a collector process, the secret command, signed deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from collector_api.testing import RunningCollector, running_collector

pytestmark = pytest.mark.e2e


@pytest.fixture
def collector(tmp_path: Path, database_url: str) -> Iterator[RunningCollector]:
    with running_collector(tmp_path / "collector", database_url, project="widgets", workers=2) as running:
        yield running


def _signed(secret: str, body: bytes, event: str, delivery: str) -> dict[str, str]:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": signature,
            "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/test"}  # fmt: skip


def _events(collector: RunningCollector, expected: int, timeout: float = 30.0) -> list[dict[str, object]]:
    """The project's events once `expected` of them are there (processing happens after the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{collector.url}/v1/events", headers=collector.headers(), timeout=10)
        events = [json.loads(line) for line in answer.text.splitlines() if line]
        if len(events) >= expected or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def test_secret_command_then_signed_deliveries_once_each(collector: RunningCollector, shared_data: Path) -> None:
    command = [sys.executable, "-m", "smartco.cli", "collector", "webhook-secret", "--database-url",
               collector.database_url, "--project", "widgets"]  # fmt: skip
    secret = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    assert len(secret) >= 32
    url = f"{collector.url}/v1/webhooks/github?project=widgets"
    body = (shared_data / "github-webhook-payloads" / "issues" / "opened.payload.json").read_bytes()
    forged = httpx.post(url, content=body, headers=_signed("not the secret", body, "issues", "d-forged"), timeout=10)
    assert forged.status_code == 401

    def deliver(_: int) -> int:
        return httpx.post(url, content=body, headers=_signed(secret, body, "issues", "d-1"), timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:  # GitHub redelivering while the first is still in flight
        statuses = list(pool.map(deliver, range(16)))
    assert sorted(set(statuses)) == [200, 202] and statuses.count(202) == 1, statuses
    events = _events(collector, 1)
    assert [event["kind"] for event in events] == ["issue.opened"]
    assert events[0]["repo"] == "github.com/codertocat/hello-world"
