"""The collector's FastAPI application: `create_app(settings)` wires routes, errors and metrics; nothing at import."""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collector_api import ingest, ops, query, webhook, writer
from collector_api.errors import AuthError, BadRequest, CollectorError, Forbidden, NotFound, TooLarge
from collector_api.logs import configure_logging
from collector_api.metrics import Metrics
from collector_api.settings import CollectorSettings
from collector_api.state import CollectorState

log = logging.getLogger(__name__)
SETTINGS_ENV = "SMARTCO_COLLECTOR_SETTINGS_JSON"

_STATUS: dict[type[CollectorError], int] = {AuthError: 401, Forbidden: 403, NotFound: 404, TooLarge: 413}


def create_app(settings: CollectorSettings, writer_socket: str | None = None) -> FastAPI:
    """A collector application for `settings`; the database is opened at start-up, not here. With
    `writer_socket`, batches are stored by the SQLite writer process listening there (`collector_api.writer`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = CollectorState(settings, writer_socket)
        app.state.collector = state
        log.info("collector started", extra={"database": state.engine.url.get_backend_name()})
        await _recover_webhooks(state)
        # What start-up made (modules, schemas, validators) lives as long as the process: keep it out of the
        # collector's way, so that the garbage collections a batch's allocations trigger scan only new objects.
        gc.freeze()
        yield
        app.state.collector.close()

    app = FastAPI(title="smartco collector", version="1", lifespan=lifespan)
    for module in (ingest, query, webhook, ops):
        app.include_router(module.router)
    app.add_exception_handler(CollectorError, _collector_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_middleware(RequestMetrics)
    return app


async def _recover_webhooks(state: CollectorState) -> None:
    """Process deliveries a stopped process had stored but not processed; a database not reachable yet (or not
    migrated) must not keep the service from starting: /readyz reports it, the next start recovers them."""
    try:
        pending = await run_in_threadpool(webhook.pending_deliveries, state)
    except sa.exc.SQLAlchemyError as err:
        log.warning("stored webhook deliveries not recovered at start", extra={"error": type(err).__name__})
        return
    for delivery in pending:
        await run_in_threadpool(webhook.process_delivery, state, delivery)


def _error(status: int, message: str, **extra: Any) -> Response:
    return Response(
        orjson.dumps({"error": message, **extra}),
        status_code=status,
        media_type="application/json",
        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
    )


async def _collector_error(_request: Request, err: CollectorError) -> Response:
    status = err.status if isinstance(err, BadRequest) else _STATUS.get(type(err), 400)
    return _error(status, str(err))


async def _validation_error(_request: Request, err: RequestValidationError) -> Response:
    problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()[:5]]
    return _error(422, "; ".join(problems) or "invalid request")


async def _unexpected_error(request: Request, err: Exception) -> Response:
    log.exception("unexpected error", extra={"path": request.url.path})
    return _error(500, "internal error (logged)")


class RequestMetrics:
    """Pure ASGI middleware: latency and status per route template, and one structured log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - start
            metrics: Metrics | None = getattr(getattr(scope.get("app"), "state", None), "collector", None) and (
                scope["app"].state.collector.metrics
            )
            if metrics is not None:
                metrics.observe(scope["method"], route, status, elapsed)
            log.info(
                "request",
                extra={"method": scope["method"], "route": route, "status": status, "ms": round(elapsed * 1000, 2)},
            )


def app_from_env() -> FastAPI:
    """The uvicorn factory for `smartco collector serve`: settings come from the serve command via the env."""
    settings = CollectorSettings.model_validate_json(os.environ[SETTINGS_ENV])
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings, os.environ.get(writer.SOCKET_ENV))
