"""Delivery: the WAL spool keeps every event until the collector acknowledged it, retries with backoff, resumes after
a restart, and a full spool records an explicit gap instead of dropping silently."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from lsp.sidecar import (
    change,
    edit,
    make_repo,
    open_document,
    save,
    sidecar,
    sidecar_env,
    spooled,
    spooled_kind,
    status,
    until,
)
from sources.httpstub import IngestStub, Reply, StubServer

from lsp_agent.spool import Spool
from lsp_agent.uploader import Uploader

pytestmark = pytest.mark.timeout(120)


def _collector_env(data: Path, url: str, token: str, **settings: Any) -> dict[str, str]:
    """The token comes from a file, as an engineer would keep it (never from the repository)."""
    token_file = data.parent / "token"
    token_file.write_text(token + "\n")
    return sidecar_env(data, collector_url=url, token_file=token_file, **settings)


def test_spool_is_sqlite_in_wal_mode(tmp_path: Path) -> None:
    Spool(tmp_path / "spool.sqlite3", 1 << 20).close()
    db = sqlite3.connect(tmp_path / "spool.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_backoff_is_exponential_with_jitter_and_capped(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3", 1 << 20)
    uploader = Uploader(spool, "http://127.0.0.1:9", "t", interval=1.0, backoff_max=30.0)
    ceilings = []
    for failures in range(8):
        uploader.failures = failures
        delays = [uploader.backoff() for _ in range(300)]
        ceiling = min(30.0, 2.0**failures)
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 250  # jitter: retries of many sidecars do not line up
        ceilings.append(max(delays))
    assert ceilings[:5] == sorted(ceilings[:5]) and max(ceilings) <= 30.0 < 2.0**7  # doubles, then capped
    uploader.stop()
    spool.close()


@pytest.mark.slow
async def test_events_leave_the_spool_only_after_the_collector_acknowledged_them(tmp_path: Path) -> None:
    stub = IngestStub(token="sidecar-token")
    stub.faults = [Reply(500, {"detail": "database is locked"}) for _ in range(10_000)]  # 500 until cleared
    server = StubServer(stub)
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    env = _collector_env(data, server.url, "sidecar-token")
    try:
        async with sidecar(repo, env, options={"idle_seconds": 0.2}) as client:
            doc = open_document(client, repo / "app.py")
            await until(lambda: len([r for r in server.requests if r[0] == "POST"]) >= 3)
            assert stub.events == {} and status(data)["queued"] == 2  # refused three times: all still spooled
            stub.faults.clear()  # now 200
            edit(client, doc, 2, change(1, 12, 1, 12, "0"))
            save(client, doc, "def main():\n    return 10\n")
            await until(lambda: status(data)["queued"] == 0 and len(stub.events) == 4, timeout=30)
        await until(lambda: status(data)["queued"] == 0)
    finally:
        server.stop()
    summary = status(data)
    delivered = sorted(stub.events.values(), key=lambda e: e["seq"])
    assert [e["seq"] for e in delivered] == list(range(len(delivered)))  # nothing lost, no gap
    assert [e["kind"] for e in delivered][-1] == "session.ended"
    assert summary["uploaded"] == summary["spooled"] == len(delivered)
    posts = [r for r in server.requests if r[0] == "POST"]
    assert len(posts) >= 4 and all(r[2]["authorization"] == "Bearer sidecar-token" for r in posts)


@pytest.mark.slow
async def test_upload_resumes_after_a_restart(tmp_path: Path) -> None:
    from collector_api.testing import RunningCollector, free_port, prepare_database

    database_url = f"sqlite:///{tmp_path / 'collector.db'}"
    token = prepare_database(database_url, "team")
    port = free_port()  # nothing listens there yet: the collector is down during the first session
    collector = RunningCollector(database_url, token, port, tmp_path / "collector.log")
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    env = _collector_env(data, collector.url, token, exit_drain_seconds=0.3)
    async with sidecar(repo, env, options={"idle_seconds": 0.2}) as client:
        doc = open_document(client, repo / "app.py")
        edit(client, doc, 2, change(1, 12, 1, 12, "0"))
        await until(lambda: spooled_kind(data, "document.changed"))
    first = spooled(data)
    assert len(first) == 4 and status(data)["uploaded"] == 0
    collector.start()
    try:
        async with sidecar(repo, env) as client:  # a new session; the old one's events go first
            open_document(client, repo / "app.py")
            await until(lambda: status(data)["queued"] == 0, timeout=30)
        await until(lambda: status(data)["queued"] == 0)
        stored = _stored(collector.url, token)
    finally:
        collector.stop()
    sessions = {e["session_id"] for e in stored}
    assert len(sessions) == 2 and {e["id"] for e in first} <= {e["id"] for e in stored}
    for session in sessions:
        seqs = sorted(e["seq"] for e in stored if e["session_id"] == session)
        assert seqs == list(range(len(seqs)))
    assert len(stored) == len({e["id"] for e in stored}) == status(data)["uploaded"]


def _stored(url: str, token: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/v1/events", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    response.raise_for_status()
    return [orjson.loads(line) for line in response.text.splitlines() if line]


@pytest.mark.slow
async def test_full_spool_records_an_explicit_gap_and_delivers_the_rest(tmp_path: Path) -> None:
    stub = IngestStub(token="t")
    stub.faults = [Reply(503, {"detail": "maintenance"}) for _ in range(10_000)]  # down until cleared
    server = StubServer(stub)
    repo = make_repo(tmp_path / "repo", files={"app.py": "x = 1\n" * 300})
    data = tmp_path / "data"
    env = _collector_env(data, server.url, "t", spool_max_bytes=8192, upload_interval=0.1, backoff_max=0.2)
    try:
        async with sidecar(repo, env, options={"idle_seconds": 0.1}) as client:
            doc = open_document(client, repo / "app.py")
            for version in range(2, 40):
                edit(client, doc, version, change(version, 0, version, 1, "y"))
                save(client, doc)
            await until(lambda: status(data)["dropped"] > 0)
            stub.faults.clear()  # the collector is back: room again, and the gap is recorded where it happened
            await until(lambda: status(data)["queued"] == 0, timeout=30)
            edit(client, doc, 41, change(0, 0, 0, 1, "z"))
            await until(lambda: spooled_kind(data, "document.changed") == [] and len(stub.events) > 0)
        await until(lambda: status(data)["queued"] == 0)
    finally:
        server.stop()
    delivered = sorted(stub.events.values(), key=lambda e: e["seq"])
    gaps = [e for e in delivered if e["kind"] == "capture.gap"]
    assert gaps and all(g["payload"]["reason"] == "spool full" for g in gaps)
    covered = {e["seq"] for e in delivered}
    for gap in gaps:
        covered |= set(range(gap["payload"]["first_seq"], gap["payload"]["last_seq"] + 1))
    assert covered == set(range(max(covered) + 1))  # every seq is either delivered or declared lost
    assert sum(g["payload"]["dropped"] for g in gaps) == status(data)["dropped"]
    assert delivered[-1]["kind"] == "session.ended"


@pytest.mark.slow
async def test_upload_command_ships_the_spool_now_or_says_why_not(tmp_path: Path) -> None:
    import subprocess

    from lsp.sidecar import sidecar_command

    stub = IngestStub(token="t")
    stub.faults = [Reply(500, {"detail": "down"}) for _ in range(10_000)]
    server = StubServer(stub)
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    env = _collector_env(data, server.url, "t", exit_drain_seconds=0, upload_interval=30)
    try:
        async with sidecar(repo, env) as client:
            open_document(client, repo / "app.py")
        queued = status(data)["queued"]
        assert queued == 3
        upload = [*sidecar_command(), "upload", "--timeout", "1"]
        refused = subprocess.run(upload, env=env, capture_output=True, text=True)
        assert refused.returncode == 1 and "3 events still queued (collector answered 500)" in refused.stderr
        stub.faults.clear()
        done = subprocess.run(upload, env=env, capture_output=True, text=True)
    finally:
        server.stop()
    assert done.returncode == 0 and done.stdout.strip() == "spool empty"
    assert len(stub.events) == queued and status(data)["queued"] == 0
