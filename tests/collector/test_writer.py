"""The SQLite writer: batches that queue commit as one group, a failing batch fails alone, and the collector keeps
storing when the writer is gone (the workers write themselves), and the writer does not outlive its collector."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from collector_api import auth
from collector_api.app import create_app
from collector_api.settings import CollectorSettings
from collector_api.state import CollectorState
from collector_api.store import prepare_batch
from collector_api.testing import prepare_database, running_collector, wait_for
from collector_api.writer import Writer
from tests.collector.conftest import note_events


@pytest.fixture
def state(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'collector.db'}"
    prepare_database(url, "alpha")
    state = CollectorState(CollectorSettings(database_url=url))
    yield state
    state.close()


def _project(state: CollectorState) -> int:
    with state.reading() as conn:
        return auth.project_id(conn, "alpha")


def _stored(state: CollectorState) -> dict[str, int]:
    with state.reading() as conn:
        rows = conn.execute(sa.text("SELECT session_id, event_count FROM sessions")).all()
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar() == sum(n for _, n in rows)
    return {session: int(count) for session, count in rows}


def _run(writer: Writer) -> None:
    threading.Thread(target=writer.run, daemon=True).start()


def test_batches_that_queue_commit_together_and_each_learns_what_it_inserted(state: CollectorState) -> None:
    project = _project(state)
    events = note_events(7, "s1")
    first = prepare_batch(project, events[:5], sqlite=True)
    second = prepare_batch(project, note_events(4, "s2"), sqlite=True)
    overlapping = prepare_batch(project, events, sqlite=True)  # 5 stored by `first`, 2 new
    writer = Writer(state)
    futures = [writer.submit(batch.rows) for batch in (first, second, overlapping)]
    _run(writer)  # all three are queued before the writer looks: one transaction
    replies = [future.result(timeout=30) for future in futures]
    assert [reply[0] for reply in replies] == ["ok"] * 3
    assert [reply[4] for reply in replies] == [3, 3, 3]
    assert replies[0][1] is None and replies[1][1] is None  # every row new
    new_keys = sorted(overlapping.rows.keys[i] for i in range(7) if overlapping.ids[i] not in first.ids)
    assert replies[2][1] == new_keys and len(new_keys) == 2
    assert _stored(state) == {"s1": 7, "s2": 4}


def test_a_failing_batch_fails_alone(state: CollectorState) -> None:
    project = _project(state)
    good = prepare_batch(project, note_events(3, "s1"), sqlite=True)
    bad = prepare_batch(project + 1000, note_events(3, "s2"), sqlite=True)  # no such project: foreign key fails
    other = prepare_batch(project, note_events(2, "s3"), sqlite=True)
    writer = Writer(state)
    futures = [writer.submit(batch.rows) for batch in (good, bad, other)]
    _run(writer)
    replies = [future.result(timeout=30) for future in futures]
    assert replies[0][0] == "ok" and replies[2][0] == "ok"
    assert replies[1][0] == "error" and "FOREIGN KEY" in replies[1][1]
    assert _stored(state) == {"s1": 3, "s3": 2}


def _log(collector: Any) -> list[dict[str, Any]]:
    lines = collector.log_path.read_text().splitlines()
    return [orjson.loads(line) for line in lines if line.startswith("{")]


def _writer(collector: Any) -> tuple[int, Path]:
    """The writer's pid and the private folder of its socket."""
    started = next(line for line in _log(collector) if line["msg"] == "sqlite writer started")
    return started["pid"], Path(started["socket"]).parent


def _post(collector: Any, events: list[dict[str, Any]]) -> dict[str, Any]:
    answer = httpx.post(f"{collector.url}/v1/events", json={"events": events}, headers=collector.headers())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _exited(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return True
    return state in "ZX"


def test_a_worker_stores_its_batches_itself_when_the_writer_cannot_be_reached(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'collector.db'}"
    token = prepare_database(url, "alpha")
    app = create_app(CollectorSettings(database_url=url), writer_socket=str(tmp_path / "no-writer.sock"))
    events = note_events(40, "s1")
    with TestClient(app) as client, caplog.at_level(logging.INFO):
        headers = {"Authorization": f"Bearer {token}"}
        first = client.post("/v1/events", json={"events": events[:25]}, headers=headers)
        second = client.post("/v1/events", json={"events": events}, headers=headers)
    assert first.status_code == 200 and first.json()["accepted"] == 25
    assert second.status_code == 200 and (second.json()["accepted"], second.json()["duplicate"]) == (15, 25)
    lost = [r for r in caplog.records if r.getMessage().startswith("sqlite writer unavailable")]
    assert len(lost) == 1  # said once, not per batch
    state = CollectorState(CollectorSettings(database_url=url))
    try:
        assert _stored(state) == {"s1": 40}
    finally:
        state.close()


@pytest.mark.slow
@pytest.mark.e2e
def test_a_writer_that_dies_is_started_again(tmp_path: Path) -> None:
    with running_collector(tmp_path) as collector:
        first_pid, folder = _writer(collector)
        assert first_pid != collector.process.pid and folder.is_dir()  # type: ignore[union-attr]
        events = note_events(80, "s1")
        assert _post(collector, events[:50])["accepted"] == 50
        os.kill(first_pid, signal.SIGKILL)
        wait_for(lambda: _exited(first_pid), 10)
        started = wait_for(lambda: [line for line in _log(collector) if line["msg"] == "sqlite writer started"][1:], 30)
        assert started[0]["pid"] != first_pid
        assert _post(collector, events)["accepted"] == 30  # 50 stored already: 30 new
        assert _post(collector, note_events(10, "s2"))["accepted"] == 10
        log = _log(collector)
    assert not folder.exists()  # stopped (SIGTERM): the serve process tidied up
    assert any(line["msg"] == "sqlite writer exited; starting it again" for line in log)
    stored = [line for line in log if line["msg"] == "batch stored"]
    assert [line["accepted"] for line in stored] == [50, 30, 10]
    assert not any(line["msg"].startswith("sqlite writer unavailable") for line in log)  # through the new writer
    state = CollectorState(CollectorSettings(database_url=collector.database_url))
    try:
        assert _stored(state) == {"s1": 80, "s2": 10}
    finally:
        state.close()


@pytest.mark.slow
@pytest.mark.e2e
def test_writer_does_not_outlive_a_killed_collector(tmp_path: Path) -> None:
    with running_collector(tmp_path) as collector:
        writer_pid, folder = _writer(collector)
        collector.kill()
        wait_for(lambda: _exited(writer_pid), 10)
        assert not folder.exists()  # the writer tidied up after the killed serve process


@pytest.mark.slow
@pytest.mark.e2e
def test_no_ingest_writer_flag(tmp_path: Path) -> None:
    with running_collector(tmp_path, extra_args=["--no-ingest-writer"]) as collector:
        assert _post(collector, note_events(20, "s1"))["accepted"] == 20
        log = _log(collector)
    assert not any(line["msg"] == "sqlite writer started" for line in log)
    assert [line["group"] for line in log if line["msg"] == "batch stored"] == [1]
