"""Faults end to end: the collector is down for part of a session; the sidecar is SIGKILLed and restarted.

Afterwards every event the sidecar spooled is in the real collector exactly once, and each session's sequence
numbers run 0..n-1 without a gap.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lsp.collector_client import collected, kinds
from lsp.sidecar import change, make_repo, replay, sidecar, sidecar_env, spooled, status, uri
from lsprotocol import types
from pytest_lsp.client import LanguageClient

from collector_api.testing import RunningCollector, free_port, prepare_database

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]


async def until(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll `condition` without blocking the client's event loop; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s")


def down_collector(base: Path) -> RunningCollector:
    """A migrated collector with a token and a port, not started: its port is closed until `start()`."""
    base.mkdir(parents=True)
    url = f"sqlite:///{base / 'collector.db'}"
    return RunningCollector(url, prepare_database(url, "test"), free_port(), base / "collector.log")


class Typist:
    """Types lines at the end of one document, one didChange per keystroke, and saves after each line."""

    def __init__(self, client: LanguageClient, path: Path) -> None:
        self.client, self.path, self.uri = client, path, uri(path)
        self.text = path.read_text()
        self.version = 1
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(self.uri, "python", self.version, self.text))
        )

    def line(self, content: str) -> None:
        row = self.text.count("\n")
        for column, char in enumerate(content + "\n"):
            self.version += 1
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
                    content_changes=[change(row, column, row, column, char)],
                )
            )
        self.text += content + "\n"
        self.path.write_text(self.text)
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(self.uri), self.text)
        )


def saves(data: Path) -> int:
    """document.saved events waiting in the spool."""
    return kinds(spooled(data)).count("document.saved")


def spool_figures(data: Path) -> tuple[int, dict[str, int]]:
    """(events queued, counters) read straight from the spool file: cheap enough to poll."""
    db = sqlite3.connect(data / "spool.sqlite3")
    try:
        queued = int(db.execute("SELECT count(*) FROM events").fetchone()[0])
        return queued, dict(db.execute("SELECT name, value FROM counters").fetchall())
    finally:
        db.close()


def uploaded(data: Path) -> int:
    return spool_figures(data)[1].get("uploaded", 0)


def drained(data: Path) -> bool:
    return spool_figures(data)[0] == 0


def assert_exactly_once(collector: RunningCollector, data: Path) -> list[dict[str, Any]]:
    """Every spooled event stored once; per session, seq 0..n-1; nothing left in the spool."""
    events = collected(collector)
    ids = [event["id"] for event in events]
    assert len(ids) == len(set(ids))
    summary = status(data)
    assert summary["queued"] == 0 and summary["dropped"] == 0
    assert len(events) == summary["spooled"]
    by_session: dict[str, list[int]] = defaultdict(list)
    for event in events:
        by_session[event["session_id"]].append(event["seq"])
    for seqs in by_session.values():
        assert sorted(seqs) == list(range(len(seqs)))
    return events


async def test_collector_down_for_part_of_a_session_loses_nothing(tmp_path: Path) -> None:
    repo, data = make_repo(tmp_path / "repo"), tmp_path / "data"
    collector = down_collector(tmp_path / "collector")
    try:
        async with sidecar(repo, sidecar_env(data, collector), options={"idle_seconds": 0.2}) as client:
            typist = Typist(client, repo / "app.py")
            for i in range(3):
                typist.line(f"before_{i} = {i}")
            await until(lambda: saves(data) == 3)
            assert uploaded(data) == 0  # the port is closed: everything waits in the spool
            collector.start()
            for i in range(3):
                typist.line(f"during_{i} = {i}")
            # All six saves stored and nothing queued: no batch is in flight when the collector dies.
            await until(lambda: kinds(collected(collector)).count("document.saved") == 6 and drained(data))
            collector.kill()  # down again, this time by a crash, mid-session
            for i in range(2):
                typist.line(f"after_{i} = {i}")
            await until(lambda: saves(data) == 2)
            collector.start()
        await until(lambda: "session.ended" in kinds(collected(collector)))
        events = assert_exactly_once(collector, data)
    finally:
        collector.stop()
    # Nothing was in flight when the collector died, so nothing was ever sent twice (not even by the exit drain).
    assert status(data)["duplicate"] == 0
    assert kinds(events).count("document.saved") == 8
    assert len({event["session_id"] for event in events}) == 1
    assert replay(events, "app.py") == (repo / "app.py").read_text()


async def kill(client: LanguageClient) -> None:
    """SIGKILL the sidecar under the client, as a crash (or an OOM killer) would."""
    server = client._server
    assert server is not None
    server.send_signal(signal.SIGKILL)
    assert await server.wait() == -signal.SIGKILL


async def test_sidecar_killed_mid_session_and_restarted_loses_nothing(tmp_path: Path) -> None:
    repo, data = make_repo(tmp_path / "repo"), tmp_path / "data"
    collector = down_collector(tmp_path / "collector")
    env = sidecar_env(data, collector)
    try:
        async with sidecar(repo, env, options={"idle_seconds": 0.2}) as client:
            typist = Typist(client, repo / "app.py")
            for i in range(3):
                typist.line(f"first_{i} = {i}")
            await until(lambda: saves(data) == 3)
            typist.line("killed_right_after = 0")
            await kill(client)  # with events in the spool that never left it
        collector.start()
        async with sidecar(repo, env, options={"idle_seconds": 0.2}) as client:
            typist = Typist(client, repo / "app.py")
            # The restarted sidecar ships the dead session's spooled events with its own.
            await until(lambda: drained(data) and uploaded(data) >= 8)
            before = uploaded(data)
            for i in range(30):
                typist.line(f"second_{i} = {i}")
            await until(lambda: uploaded(data) > before + 10)
            await kill(client)  # again, this time while uploads are flowing
        async with sidecar(repo, env, options={"idle_seconds": 0.2}) as client:
            Typist(client, repo / "app.py").line("third = 3")
        await until(lambda: kinds(collected(collector)).count("session.ended") == 1)
        events = assert_exactly_once(collector, data)
    finally:
        collector.stop()
    sessions = sorted({event["session_id"] for event in events})
    assert len(sessions) == 3
    started = [event for event in events if event["kind"] == "session.started"]
    assert len(started) == 3
    assert replay(events, "app.py") == (repo / "app.py").read_text()
