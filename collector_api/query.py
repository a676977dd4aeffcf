"""Reading routes: sessions, a session's events and all events after a position (NDJSON), stats."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from collector_api.auth import Principal
from collector_api.deps import get_state, require
from collector_api.errors import BadRequest, NotFound
from collector_api.state import CollectorState
from collector_api.store import SessionFilter, events_after, list_sessions, session_events, session_exists, stats

router = APIRouter(tags=["read"])
NDJSON = "application/x-ndjson"


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


@router.get("/v1/events", summary="Events after a position, in ingest order (NDJSON)")
async def get_events(
    request: Request,
    after: int = Query(0, ge=0, le=2**62, description="Return events with a position after this one."),
    limit: int = Query(10_000, ge=1, le=100_000),
    principal: Principal = Depends(require("read")),
) -> Response:
    state = get_state(request)

    def page() -> list[tuple[int, str]]:
        with state.reading() as conn:
            return events_after(conn, principal.project_id, after, limit)

    rows = await run_in_threadpool(page)
    next_after = rows[-1][0] if rows else after
    body = "".join(f"{body}\n" for _pos, body in rows)
    headers = {"X-Next-After": str(next_after), "X-Count": str(len(rows))}
    return Response(body, media_type=NDJSON, headers=headers)


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except ValueError as err:
        raise BadRequest("cursor is not one this collector gave out", status=400) from err


@router.get("/v1/sessions", summary="Recorded sessions, filtered, with cursor pagination")
async def get_sessions(
    request: Request,
    actor: str | None = Query(None, max_length=512),
    repo: str | None = Query(None, max_length=512),
    since: datetime | None = Query(None, description="Sessions with events at or after this time."),
    until: datetime | None = Query(None, description="Sessions with events at or before this time."),
    cursor: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Depends(require("read")),
) -> Response:
    state = get_state(request)
    after_id = _decode_cursor(cursor)
    flt = SessionFilter(actor, repo, since, until)

    def page() -> list[dict[str, Any]]:
        with state.reading() as conn:
            return list_sessions(conn, principal.project_id, flt, after_id, limit)

    rows = await run_in_threadpool(page)
    next_cursor = (
        base64.urlsafe_b64encode(str(rows[-1]["id"]).encode()).decode().rstrip("=") if len(rows) == limit else None
    )
    items = [{k: v for k, v in row.items() if k not in ("id", "project_id")} for row in rows]
    return _json({"sessions": items, "next_cursor": next_cursor})


@router.get("/v1/sessions/{session_id}/events", summary="One session's events in sequence order (NDJSON)")
async def get_session_events(
    request: Request, session_id: str, principal: Principal = Depends(require("read"))
) -> StreamingResponse:
    state = get_state(request)

    def exists() -> bool:
        with state.reading() as conn:
            return session_exists(conn, principal.project_id, session_id)

    if not await run_in_threadpool(exists):
        raise NotFound(f"no session {session_id!r} in project {principal.project!r}")
    return StreamingResponse(_stream_session(state, principal.project_id, session_id), media_type=NDJSON)


def _stream_session(state: CollectorState, project_id: int, session_id: str) -> Iterator[str]:
    with state.reading() as conn:
        for body in session_events(conn, project_id, session_id):
            yield body + "\n"


@router.get("/v1/stats", summary="Counts of events, sessions and kinds of the token's project")
async def get_stats(request: Request, principal: Principal = Depends(require("read"))) -> Response:
    state = get_state(request)

    def compute() -> dict[str, Any]:
        with state.reading() as conn:
            return stats(conn, principal.project_id)

    return _json({"project": principal.project, **await run_in_threadpool(compute)})
