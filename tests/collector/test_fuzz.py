"""A schema-driven fuzz run of the collector's OpenAPI description (schemathesis): no input makes a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.core import NotSet

from collector_api import auth
from collector_api.app import create_app
from collector_api.database import make_engine
from collector_api.settings import CollectorSettings
from collector_api.testing import prepare_database


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Any:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'collector.db'}"
    token = prepare_database(database_url, "fuzz")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        auth.set_webhook_secret(conn, "fuzz", "fuzz-secret")
    engine.dispose()
    app = create_app(CollectorSettings(database_url=database_url, max_body_bytes=256 * 1024, max_batch=200))
    return app, token


@pytest.mark.slow
def test_no_input_makes_a_server_error(collector: Any) -> None:
    app, token = collector
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    failures: list[str] = []
    with TestClient(app) as client:
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def call(case: Any) -> None:
                response = client.request(
                    case.method,
                    case.formatted_path,
                    params=case.query,
                    json=case.body if not isinstance(case.body, NotSet) else None,
                    headers={**(case.headers or {}), "Authorization": f"Bearer {token}"},
                )
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}")

            call()
    assert not failures, failures[:5]
