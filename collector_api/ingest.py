"""POST /v1/events: read a bounded (optionally gzipped) JSON batch and store it idempotently."""

from __future__ import annotations

import logging
import zlib
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from collector_api.auth import Principal
from collector_api.deps import get_state, require
from collector_api.errors import BadRequest, TooLarge
from collector_api.store import PreparedBatch, prepare_batch, prepare_read
from trajectory.wire import KIND, read_batch

log = logging.getLogger(__name__)
router = APIRouter(tags=["events"])

_BATCH_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["events"],
                    "properties": {
                        "events": {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "Events of schema v1 (docs/event-schema.json); a bare array also works.",
                        }
                    },
                }
            }
        },
    },
    "responses": {
        "200": {"description": "Every event as accepted, duplicate or rejected (with the reason), in request order."},
        "413": {"description": "Body or batch over the limit."},
        "422": {"description": "Not a JSON batch of events, or every event in it was rejected (reasons listed)."},
    },
}


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, decompressed if gzipped; TooLarge past `limit` bytes (checked while reading)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"body of {declared} bytes is over the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        body = gunzip(body, limit)
    return body


def gunzip(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as err:
        raise BadRequest(f"body is not valid gzip: {err}", status=400) from err
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"decompressed body is over the limit of {limit} bytes")
    if not inflater.eof:
        raise BadRequest("gzip body is truncated", status=400)
    return out


def prepare(project_id: int, body: bytes, max_batch: int, sqlite: bool) -> PreparedBatch:
    """The batch of a request body, validated and turned into rows (CPU work, before any transaction).

    A batch whose events are all valid, with UTC times as every smartco client sends them, is read by the fast
    strict reader (`trajectory.wire`), keeping each event's JSON as sent; anything else by the models, which
    explain each rejection and store the canonical JSON.
    """
    read = read_batch(body)
    if read is None:
        return prepare_batch(project_id, decode_batch(body, max_batch), sqlite)
    if len(read) > max_batch:
        raise TooLarge(f"batch of {len(read)} events is over the limit of {max_batch}")
    return prepare_read(project_id, read, KIND, sqlite)


def decode_batch(body: bytes, max_batch: int) -> list[Any]:
    """The list of event objects in a body: `{"events": [...]}` or a bare list."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise BadRequest(f"body is not valid JSON: {err}", status=400) from err
    items = data.get("events") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise BadRequest('body must be {"events": [...]} or a JSON array of events')
    if len(items) > max_batch:
        raise TooLarge(f"batch of {len(items)} events is over the limit of {max_batch}")
    return items


@router.post("/v1/events", openapi_extra=_BATCH_SCHEMA, summary="Store a batch of events (idempotent by id)")
async def post_events(request: Request, principal: Principal = Depends(require("ingest"))) -> Response:
    state = get_state(request)
    body = await read_body(request, state.settings.max_body_bytes)

    batch, stored, prepare_s = await run_in_threadpool(
        state.ingest, lambda: prepare(principal.project_id, body, state.settings.max_batch, state.sqlite)
    )
    result = batch.result(stored.inserted)
    state.metrics.count_events(result.accepted, result.duplicate, result.rejected)
    log.info(
        "batch stored",
        extra={"project_id": principal.project_id, "accepted": result.accepted, "duplicate": result.duplicate,
               "rejected": result.rejected, "prepare_ms": round(prepare_s * 1000, 2),
               "lock_wait_ms": round(stored.wait_s * 1000, 2), "store_ms": round(stored.store_s * 1000, 2),
               "group": stored.group},
    )  # fmt: skip
    answer = result.as_json()
    if result.rejected and not (result.accepted or result.duplicate):
        # Nothing in the batch was usable: a client error, with every reason listed.
        first = result.results[0]
        answer["error"] = f"every event was rejected; first: {first.get('reason', '')}"
        return Response(orjson.dumps(answer), status_code=422, media_type="application/json")
    return Response(orjson.dumps(answer), media_type="application/json")
