"""GitHub webhooks on the collector: real payloads, HMAC signatures, replayed deliveries, bad bodies."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from collector_api import auth
from collector_api.app import create_app
from collector_api.database import make_engine
from collector_api.schema import projects, webhook_deliveries
from collector_api.settings import CollectorSettings
from collector_api.testing import prepare_database

SECRET = "It's a Secret to Everybody"


class Hook:
    def __init__(self, client: TestClient, database_url: str, token: str) -> None:
        self.client, self.database_url, self.token = client, database_url, token

    def send(
        self,
        event: str,
        body: bytes,
        *,
        delivery: str | None = None,
        secret: str = SECRET,
        signature: str | None = None,
        project: str = "alpha",
    ) -> object:
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": signature or "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json",
        }
        return self.client.post(f"/v1/webhooks/github?project={project}", content=body, headers=headers)

    def stats(self) -> dict[str, object]:
        return self.client.get("/v1/stats", headers={"Authorization": f"Bearer {self.token}"}).json()  # type: ignore[no-any-return]

    def deliveries(self) -> list[tuple[str, str, int]]:
        engine = make_engine(self.database_url)
        with engine.connect() as conn:
            query = sa.select(
                webhook_deliveries.c.event_name, webhook_deliveries.c.status, webhook_deliveries.c.events_created
            )
            rows = [(r[0], r[1], r[2]) for r in conn.execute(query)]
        engine.dispose()
        return rows


@pytest.fixture
def hook(database_url: str) -> Iterator[Hook]:
    token = prepare_database(database_url, "alpha")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        auth.set_webhook_secret(conn, "alpha", SECRET)
    engine.dispose()
    with TestClient(create_app(CollectorSettings(database_url=database_url, max_body_bytes=1 << 20))) as client:
        yield Hook(client, database_url, token)


def _payloads(shared_data: Path) -> list[tuple[str, Path]]:
    root = shared_data / "github-webhook-payloads"
    return sorted((p.parent.name, p) for p in root.glob("*/*.json"))


def test_every_real_payload_is_stored_once_and_processed(hook: Hook, shared_data: Path) -> None:
    payloads = _payloads(shared_data)
    assert len(payloads) >= 20
    for event, path in payloads:
        body = path.read_bytes()
        delivery = f"d-{event}-{path.stem}"
        first = hook.send(event, body, delivery=delivery)
        assert first.status_code == 202, (path, first.text)  # type: ignore[attr-defined]
        again = hook.send(event, body, delivery=delivery)
        assert again.json()["status"] == "duplicate"  # type: ignore[attr-defined]
    rows = hook.deliveries()
    assert len(rows) == len(payloads)
    assert not [r for r in rows if r[1] in ("failed", "stored")], rows
    by_event: dict[str, set[str]] = {}
    for event, status, _n in rows:
        by_event.setdefault(event, set()).add(status)
    assert by_event["ping"] == {"ignored"}
    for kind in (
        "issues",
        "issue_comment",
        "pull_request",
        "pull_request_review",
        "pull_request_review_comment",
        "push",
    ):
        assert "processed" in by_event[kind], kind
    kinds = hook.stats()["kinds"]
    assert {"issue.opened", "issue.comment", "pr.opened", "review.comment", "git.commit"} <= set(kinds)  # type: ignore[arg-type]
    assert hook.stats()["events"] == sum(n for _e, _s, n in rows)


def test_bad_or_missing_signature_is_401_and_nothing_stored(hook: Hook, shared_data: Path) -> None:
    body = (shared_data / "github-webhook-payloads" / "issues" / "opened.payload.json").read_bytes()
    assert hook.send("issues", body, secret="wrong").status_code == 401  # type: ignore[attr-defined]
    forged = hook.send("issues", body, signature="sha256=" + "0" * 64)
    assert forged.status_code == 401 and "Signature" in forged.json()["error"]  # type: ignore[attr-defined]
    no_header = hook.client.post(
        "/v1/webhooks/github?project=alpha",
        content=body,
        headers={"X-GitHub-Event": "issues", "X-GitHub-Delivery": "x"},
    )
    assert no_header.status_code == 401
    tampered = body.replace(b'"opened"', b'"closed"', 1)
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hook.send("issues", tampered, signature=signature).status_code == 401  # type: ignore[attr-defined]
    assert hook.deliveries() == [] and hook.stats()["events"] == 0


def test_malformed_oversized_and_unknown(hook: Hook) -> None:
    assert hook.send("issues", b"{not json").status_code == 400  # type: ignore[attr-defined]
    assert hook.send("issues", b"[1, 2]").status_code == 400  # type: ignore[attr-defined]
    big = b'{"x": "' + b"a" * (1 << 20) + b'"}'
    assert hook.send("issues", big).status_code == 413  # type: ignore[attr-defined]
    assert hook.send("issues", b"{}", project="nobody").status_code == 404  # type: ignore[attr-defined]
    unknown = hook.send("deployment_status", b'{"action": "created", "repository": {"full_name": "o/r"}}')
    assert unknown.status_code == 202  # type: ignore[attr-defined]
    assert [(e, s) for e, s, _n in hook.deliveries()] == [("deployment_status", "ignored")]


def test_stored_but_unprocessed_deliveries_are_processed_at_start(database_url: str, shared_data: Path) -> None:
    prepare_database(database_url, "alpha")
    body = (shared_data / "github-webhook-payloads" / "issues" / "opened.payload.json").read_text()
    engine = make_engine(database_url)
    with engine.begin() as conn:
        project_id = conn.execute(sa.select(projects.c.id)).scalar()
        conn.execute(
            webhook_deliveries.insert().values(
                project_id=project_id,
                delivery_id="crashed-before-processing",
                event_name="issues",
                received_at=datetime.now(UTC),
                status="stored",
                body=body,
            )
        )
    engine.dispose()
    with TestClient(create_app(CollectorSettings(database_url=database_url))):
        pass
    engine = make_engine(database_url)
    with engine.connect() as conn:
        status = conn.execute(sa.select(webhook_deliveries.c.status)).scalar()
        kinds = [r[0] for r in conn.execute(sa.text("SELECT kind FROM events"))]
    engine.dispose()
    assert status == "processed" and kinds == ["issue.opened"]
