"""Bearer tokens: 401 without or with a bad/revoked token, 403 for the wrong scope or project, JSON bodies."""

from __future__ import annotations

import sqlalchemy as sa

from collector_api import auth
from collector_api.database import make_engine
from tests.collector.conftest import Api, note_events


def _token(api: Api, project: str, *scopes: str) -> tuple[int, str]:
    engine = make_engine(api.database_url)
    with engine.begin() as conn:
        made = auth.create_token(conn, project, list(scopes))
    engine.dispose()
    return made


def test_missing_and_bad_tokens_are_401(api: Api) -> None:
    answer = api.client.post("/v1/events", json={"events": []})
    assert answer.status_code == 401 and "Authorization" in answer.json()["error"]
    assert answer.headers["www-authenticate"] == "Bearer"
    assert api.post([], token="sct_not-a-real-token").status_code == 401
    basic = api.client.get("/v1/stats", headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401 and "Bearer" in basic.json()["error"]


def test_revoked_token_is_401(api: Api) -> None:
    token_id, token = _token(api, "alpha", "read")
    assert api.get("/v1/stats", token=token).status_code == 200
    engine = make_engine(api.database_url)
    with engine.begin() as conn:
        auth.revoke_token(conn, token_id)
    engine.dispose()
    answer = api.get("/v1/stats", token=token)
    assert answer.status_code == 401 and "revoked" in answer.json()["error"]


def test_wrong_scope_is_403(api: Api) -> None:
    _, read_only = _token(api, "alpha", "read")
    answer = api.post(note_events(1), token=read_only)
    assert answer.status_code == 403 and "ingest" in answer.json()["error"]
    _, ingest_only = _token(api, "alpha", "ingest")
    assert api.get("/v1/events", token=ingest_only).status_code == 403


def test_wrong_project_is_403_and_projects_are_isolated(api: Api) -> None:
    _, beta = _token(api, "beta", "ingest", "read")
    assert api.post(note_events(5), token=beta).json()["accepted"] == 5
    answer = api.get("/v1/stats", token=beta, project="alpha")
    assert answer.status_code == 403 and "beta" in answer.json()["error"]
    assert api.get("/v1/stats").json()["events"] == 0  # alpha sees none of beta's events
    assert api.get("/v1/sessions/s1/events").status_code == 404


def test_tokens_are_stored_hashed(api: Api) -> None:
    _, token = _token(api, "alpha", "read")
    engine = make_engine(api.database_url)
    with engine.connect() as conn:
        stored = [row[0] for row in conn.execute(sa.text("SELECT token_hash FROM tokens"))]
    engine.dispose()
    assert token not in stored and auth.hash_token(token) in stored
