"""Collector fixtures: a migrated database per test and an in-process client over the real application."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from collector_api.app import create_app
from collector_api.settings import CollectorSettings
from collector_api.testing import prepare_database
from trajectory.events import event_to_dict, make_event


class Api:
    """A TestClient plus the project token, for readable tests."""

    def __init__(self, client: TestClient, token: str, database_url: str) -> None:
        self.client = client
        self.token = token
        self.database_url = database_url

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def post(self, events: list[dict[str, Any]], token: str | None = None) -> Any:
        return self.client.post("/v1/events", json={"events": events}, headers=self.headers(token))

    def get(self, path: str, token: str | None = None, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers(token))


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    token = prepare_database(database_url, "alpha")
    settings = CollectorSettings(database_url=database_url, max_body_bytes=1024 * 1024, max_batch=500)
    with TestClient(create_app(settings)) as client:
        yield Api(client, token, database_url)


def note_events(
    n: int,
    session: str = "s1",
    start: int = 0,
    actor: str = "u_a",
    repo: str = "github.com/o/r",
    ts: datetime | None = None,
) -> list[dict[str, Any]]:
    """`n` valid feedback.note events of one session, seq from `start`."""
    base = ts or datetime(2026, 3, 1, tzinfo=UTC)
    return [
        event_to_dict(
            make_event(
                "feedback.note",
                {"target": "edit", "note": f"note {start + i}"},
                session_id=session,
                seq=start + i,
                actor=actor,
                repo=repo,
                source="sidecar",
                ts=base + timedelta(seconds=start + i),
            )
        )
        for i in range(n)
    ]
