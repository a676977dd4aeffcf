"""Operations routes: liveness, readiness (database reachable and migrated) and Prometheus metrics."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from collector_api.database import check_migrated
from collector_api.deps import get_state
from collector_api.errors import NotMigrated

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get("/readyz", summary="The database is reachable and at the migration head")
async def readyz(request: Request) -> Response:
    state = get_state(request)
    try:
        await run_in_threadpool(check_migrated, state.engine)
    except NotMigrated as err:
        return Response(
            orjson.dumps({"status": "unready", "error": str(err)}), status_code=503, media_type="application/json"
        )
    return Response(b'{"status":"ready"}', media_type="application/json")


@router.get("/metrics", summary="Prometheus metrics of this process")
async def metrics(request: Request) -> Response:
    return Response(get_state(request).metrics.render(), media_type="text/plain; version=0.0.4")
