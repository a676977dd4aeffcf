"""GitHub webhooks on the collector: real payloads, HMAC signatures, replayed deliveries, bad bodies."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
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


def test_each_project_has_its_own_secret(hook: Hook, shared_data: Path) -> None:
    engine = make_engine(hook.database_url)
    with engine.begin() as conn:
        auth.set_webhook_secret(conn, "beta", "beta's own secret")
    engine.dispose()
    body = (shared_data / "github-webhook-payloads" / "issues" / "opened.payload.json").read_bytes()
    assert hook.send("issues", body, secret="beta's own secret").status_code == 401  # type: ignore[attr-defined]
    assert hook.send("issues", body, project="beta").status_code == 401  # type: ignore[attr-defined]
    assert hook.deliveries() == []
    answer = hook.send("issues", body, secret="beta's own secret", project="beta", delivery="for-beta")
    assert answer.status_code == 202  # type: ignore[attr-defined]
    engine = make_engine(hook.database_url)
    with engine.connect() as conn:
        owner = conn.execute(
            sa.select(projects.c.name)
            .join(webhook_deliveries, webhook_deliveries.c.project_id == projects.c.id)
            .where(webhook_deliveries.c.delivery_id == "for-beta")
        ).scalar()
    engine.dispose()
    assert owner == "beta" and hook.stats()["events"] == 0  # alpha's token sees none of beta's events


def test_signature_is_checked_before_anything_is_read_or_stored(hook: Hook) -> None:
    assert hook.send("issues", b"{not json", signature="sha256=" + "f" * 64).status_code == 401  # type: ignore[attr-defined]
    sha1 = "sha1=" + hmac.new(SECRET.encode(), b"{}", hashlib.sha1).hexdigest()
    assert hook.send("issues", b"{}", signature=sha1).status_code == 401  # type: ignore[attr-defined]
    assert hook.send("issues", b"{}", signature="sha256=").status_code == 401  # type: ignore[attr-defined]
    big = b'{"x": "' + b"a" * (1 << 20) + b'"}'
    assert hook.send("issues", big).status_code == 413  # type: ignore[attr-defined]
    headers = {"X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), b"{}", hashlib.sha256).hexdigest()}
    no_event = hook.client.post("/v1/webhooks/github?project=alpha", content=b"{}", headers=headers)
    assert no_event.status_code == 400 and "X-GitHub-Event" in no_event.json()["error"]
    assert hook.deliveries() == []


def test_replayed_delivery_with_another_body_is_still_a_duplicate(hook: Hook, shared_data: Path) -> None:
    folder = shared_data / "github-webhook-payloads"
    opened = (folder / "issues" / "opened.payload.json").read_bytes()
    other = (folder / "issues" / "opened.with-empty-body.payload.json").read_bytes()
    assert hook.send("issues", opened, delivery="same-id").status_code == 202  # type: ignore[attr-defined]
    again = hook.send("issues", other, delivery="same-id")
    assert again.status_code == 200 and again.json() == {"status": "duplicate", "delivery": "same-id"}  # type: ignore[attr-defined]
    assert hook.deliveries() == [("issues", "processed", 1)] and hook.stats()["events"] == 1


def test_merged_pull_request_becomes_pr_merged(hook: Hook, shared_data: Path) -> None:
    payload = json.loads((shared_data / "github-webhook-payloads" / "pull_request" / "closed.payload.json").read_text())
    pr = payload["pull_request"]
    pr.update(merged=True, merged_at=pr["closed_at"], merged_by=pr["user"])
    assert hook.send("pull_request", json.dumps(payload).encode()).status_code == 202  # type: ignore[attr-defined]
    assert hook.stats()["kinds"] == {"pr.merged": 1}


def test_a_delivery_that_cannot_be_processed_is_kept_and_marked(hook: Hook, shared_data: Path) -> None:
    payload = json.loads((shared_data / "github-webhook-payloads" / "issues" / "opened.payload.json").read_text())
    del payload["issue"]["number"]
    answer = hook.send("issues", json.dumps(payload).encode(), delivery="broken")
    assert answer.status_code == 202 and answer.json()["status"] == "stored"  # type: ignore[attr-defined]
    engine = make_engine(hook.database_url)
    with engine.connect() as conn:
        row = conn.execute(sa.select(webhook_deliveries).where(webhook_deliveries.c.delivery_id == "broken")).one()
    engine.dispose()
    assert row.status == "failed" and "KeyError" in row.error and json.loads(row.body) == payload


def test_unknown_events_are_acknowledged_and_logged(hook: Hook, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    body = b'{"action": "created", "repository": {"full_name": "o/r"}}'
    answer = hook.send("deployment_status", body, delivery="dep")
    assert answer.status_code == 202  # type: ignore[attr-defined]
    lines = [record.getMessage() for record in caplog.records if record.name == "trajectory.sources.webhook"]
    assert lines == ["webhook dep: event 'deployment_status' ignored"]
    assert hook.deliveries() == [("deployment_status", "ignored", 0)]


def test_bot_accounts_come_from_the_collector_settings(database_url: str, shared_data: Path) -> None:
    settings = CollectorSettings.from_sources({"SMARTCO_BOTS": "ci-robot, Codertocat"}, database_url=database_url)
    assert settings.bots == ("ci-robot", "Codertocat")
    prepare_database(database_url, "alpha")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        auth.set_webhook_secret(conn, "alpha", SECRET)
    engine.dispose()
    body = (shared_data / "github-webhook-payloads" / "issues" / "opened.payload.json").read_bytes()
    with TestClient(create_app(settings)) as client:
        Hook(client, database_url, "").send("issues", body)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        [payload] = [json.loads(row[0])["payload"] for row in conn.execute(sa.text("SELECT body FROM events"))]
    engine.dispose()
    assert payload["is_bot"] is True  # Codertocat is a plain user on GitHub, named a bot by this team
