"""FastAPI dependencies: the process state and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from collector_api.auth import Principal, authenticate
from collector_api.state import CollectorState

_BEARER = HTTPBearer(auto_error=False, description="A project token: `smartco collector token create`.")


def get_state(request: Request) -> CollectorState:
    state: CollectorState = request.app.state.collector
    return state


def require(scope: str) -> Callable[..., Principal]:
    """A dependency that authenticates the bearer token and checks `scope` (and `?project=` when given)."""

    def dependency(
        request: Request,
        _bearer: HTTPAuthorizationCredentials | None = Security(_BEARER),
        project: str | None = Query(default=None, max_length=128, description="Must be the token's project."),
    ) -> Principal:
        state = get_state(request)
        with state.reading() as conn:
            principal = authenticate(conn, request.headers.get("authorization"))
        principal.require(scope, project)
        return principal

    return dependency
