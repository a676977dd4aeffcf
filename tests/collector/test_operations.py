"""Operations: readiness against an outdated or unreachable database, settings precedence, structured logs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from collector_api import database
from collector_api.app import create_app
from collector_api.settings import CollectorSettings
from collector_api.testing import RunningCollector, free_port, running_collector
from tests.collector.conftest import Api, note_events


def test_readyz_is_503_with_the_command_to_run_when_the_database_is_behind(api: Api) -> None:
    assert api.client.get("/readyz").status_code == 200
    engine = database.make_engine(api.database_url)
    database.downgrade(engine, "base")
    engine.dispose()
    answer = api.client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "unready"
    assert "smartco collector migrate" in answer.json()["error"]
    assert api.client.get("/healthz").status_code == 200  # alive, just not ready


def test_nothing_connects_until_asked_and_an_unreachable_database_is_503() -> None:
    closed_port = free_port()
    # create_app would raise here if it connected: the port is closed
    app = create_app(CollectorSettings(database_url=f"postgresql+psycopg://nobody@127.0.0.1:{closed_port}/none"))
    with TestClient(app) as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert "cannot reach the database" in answer.json()["error"]


def test_settings_precedence_defaults_then_env_then_flags(tmp_path: Path) -> None:
    assert CollectorSettings.from_sources(env={}).port == 8765
    env = {"SMARTCO_PORT": "9100", "SMARTCO_WORKERS": "3", "SMARTCO_DATA_DIR": str(tmp_path)}
    from_env = CollectorSettings.from_sources(env=env)
    assert (from_env.port, from_env.workers) == (9100, 3)
    assert from_env.resolved_database_url == f"sqlite:///{(tmp_path / 'collector.db').resolve()}"
    flagged = CollectorSettings.from_sources(env=env, port=9200, workers=None)
    assert (flagged.port, flagged.workers) == (9200, 3)
    bots = CollectorSettings.from_sources(env={"SMARTCO_BOTS": "ci-runner, deploy-bot"}).bots
    assert bots == ("ci-runner", "deploy-bot")


def test_serve_reports_a_bad_setting_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "smartco.cli", "collector", "serve", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("Error: invalid setting port")


@pytest.mark.slow
@pytest.mark.e2e
def test_serve_with_migrate_on_an_empty_database_and_json_logs_without_contents(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    server = RunningCollector(url, "", free_port(), tmp_path / "collector.log", extra_args=["--migrate"])
    server.start()
    try:
        assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready"}
    finally:
        server.stop()
    with running_collector(tmp_path / "second") as collector:
        secret_note = "the-text-of-an-engineer-note-that-must-not-be-logged"
        events = note_events(3)
        events[0]["payload"]["note"] = secret_note
        answer = httpx.post(f"{collector.url}/v1/events", json={"events": events}, headers=collector.headers())
        assert answer.json()["accepted"] == 3
        httpx.get(f"{collector.url}/v1/stats", headers={"Authorization": "Bearer wrong-token"})
        log_text = collector.log_path.read_text()
    records = [json.loads(line) for line in log_text.splitlines() if line.startswith("{")]
    assert records, log_text
    assert all({"ts", "level", "logger", "msg"} <= set(record) for record in records)
    assert any(record.get("accepted") == 3 for record in records), records
    assert secret_note not in log_text and collector.token not in log_text
