"""POST /v1/webhooks/github: verify the signature, store the delivery once, answer, then turn it into events."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from collector_api.deps import get_state
from collector_api.errors import AuthError, BadRequest, NotFound
from collector_api.ingest import read_body
from collector_api.schema import projects, webhook_deliveries
from collector_api.state import CollectorState
from collector_api.store import prepare_batch, store_batch
from trajectory.events import event_to_dict
from trajectory.sources.webhook import events_from_webhook

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"])


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """GitHub's X-Hub-Signature-256 (`sha256=<hex HMAC of the raw body>`), compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


@router.post("/v1/webhooks/github", summary="Receive a GitHub webhook delivery (HMAC-signed with the project's secret)")
async def github_webhook(
    request: Request,
    background: BackgroundTasks,
    project: str = Query(..., max_length=128, description="The project whose webhook secret signs deliveries."),
) -> Response:
    state = get_state(request)
    body = await read_body(request, state.settings.max_body_bytes)
    delivery = request.headers.get("x-github-delivery", "")
    event_name = request.headers.get("x-github-event", "")
    secret_row = await run_in_threadpool(_project_secret, state, project)
    if secret_row is None:
        raise NotFound(f"no project {project!r} with a webhook secret (smartco collector webhook-secret)")
    project_id, secret = secret_row
    if not signature_ok(secret, body, request.headers.get("x-hub-signature-256")):
        state.metrics.count_webhook("bad_signature")
        raise AuthError("missing or wrong X-Hub-Signature-256 for this project's secret")
    if not delivery or len(delivery) > 128 or not event_name or len(event_name) > 64:
        raise BadRequest("X-GitHub-Delivery and X-GitHub-Event headers are required", status=400)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise BadRequest(f"body is not valid JSON: {err}", status=400) from err
    if not isinstance(payload, dict):
        raise BadRequest("a webhook body is a JSON object", status=400)
    stored = await run_in_threadpool(_store_once, state, project_id, delivery, event_name, body)
    if not stored:
        state.metrics.count_webhook("duplicate")
        return _answer(200, {"status": "duplicate", "delivery": delivery})
    state.metrics.count_webhook("stored")
    background.add_task(run_in_threadpool, process_delivery, state, delivery)
    return _answer(202, {"status": "stored", "delivery": delivery})


def _answer(status: int, data: dict[str, Any]) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _project_secret(state: CollectorState, name: str) -> tuple[int, str] | None:
    with state.reading() as conn:
        row = conn.execute(sa.select(projects.c.id, projects.c.webhook_secret).where(projects.c.name == name)).first()
    return (int(row[0]), str(row[1])) if row is not None and row[1] else None


def _store_once(state: CollectorState, project_id: int, delivery: str, event_name: str, body: bytes) -> bool:
    """True when this delivery is new and now stored; False for one seen before (or being stored concurrently)."""
    try:
        return state.write(lambda conn: _store(conn, project_id, delivery, event_name, body))
    except sa.exc.IntegrityError:  # GitHub redelivered while the first copy was being stored by another worker
        return False


def _store(conn: sa.Connection, project_id: int, delivery: str, event_name: str, body: bytes) -> bool:
    exists = conn.execute(
        sa.select(webhook_deliveries.c.id).where(webhook_deliveries.c.delivery_id == delivery)
    ).first()
    if exists is not None:
        return False
    conn.execute(
        webhook_deliveries.insert().values(
            project_id=project_id,
            delivery_id=delivery,
            event_name=event_name,
            received_at=datetime.now(UTC),
            status="stored",
            body=body.decode(),
        )
    )
    return True


def process_delivery(state: CollectorState, delivery: str) -> None:
    """Translate a stored delivery into events and store them; the delivery records how it ended."""
    with state.reading() as conn:
        row = conn.execute(sa.select(webhook_deliveries).where(webhook_deliveries.c.delivery_id == delivery)).first()
    if row is None or row.status != "stored":
        return
    try:
        events = events_from_webhook(
            row.event_name,
            orjson.loads(row.body),
            delivery_id=delivery,
            salt=state.settings.pseudonym_salt,
            bots=state.settings.bots,
        )
        items = [event_to_dict(event) for event in events]
        result = None
        if items:
            batch = prepare_batch(row.project_id, items, state.sqlite)
            result = batch.result(state.write(lambda conn: store_batch(conn, batch.rows)))
        status, created, error = ("processed" if items else "ignored"), (result.accepted if result else 0), None
        if result is not None:
            state.metrics.count_events(result.accepted, result.duplicate, result.rejected)
    except Exception as err:  # a delivery we cannot translate is kept, marked, and logged, never lost
        log.exception("webhook delivery failed", extra={"delivery": delivery, "event": row.event_name})
        status, created, error = "failed", 0, f"{type(err).__name__}: {err}"[:2000]
    state.write(
        lambda conn: conn.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.delivery_id == delivery)
            .values(status=status, events_created=created, error=error)
        )
    )
    state.metrics.count_webhook(status)
    log.info(
        "webhook delivery", extra={"delivery": delivery, "event": row.event_name, "status": status, "events": created}
    )


def pending_deliveries(state: CollectorState) -> list[str]:
    """Deliveries stored but not processed (the process stopped in between): processed again at start-up."""
    with state.reading() as conn:
        query = sa.select(webhook_deliveries.c.delivery_id).where(webhook_deliveries.c.status == "stored")
        return [str(value) for value in conn.execute(query).scalars()]
