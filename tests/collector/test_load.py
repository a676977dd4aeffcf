"""Real collector processes under load and crashes: nothing acknowledged is lost, nothing is stored twice."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import httpx
import orjson
import pytest
import sqlalchemy as sa

from collector_api.database import make_engine
from collector_api.loadgen import BatchClient, batches, synthetic_event
from collector_api.testing import running_collector

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _count(database_url: str) -> tuple[int, int]:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*), count(DISTINCT id) FROM events")).one()
    engine.dispose()
    return int(total[0]), int(total[1])


def test_four_clients_with_overlapping_retries_store_exactly_200k(database_url: str, tmp_path: Path) -> None:
    url = None if database_url.startswith("sqlite") else database_url
    with running_collector(tmp_path, database_url=url, workers=2) as collector:
        clients = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "collector_api.loadgen",
                    "--url",
                    collector.url,
                    "--token",
                    collector.token,
                    "--client",
                    str(k),
                    "--clients",
                    "4",
                    "--per-client",
                    "50000",
                    "--batch",
                    "1000",
                    "--seed",
                    "7",
                ],
                stdout=subprocess.PIPE,
            )
            for k in range(4)
        ]
        results = [orjson.loads(p.communicate(timeout=900)[0]) for p in clients]
        assert all(p.returncode == 0 for p in clients)
        stats = httpx.get(f"{collector.url}/v1/stats", headers=collector.headers()).json()
    assert sum(r["accepted"] for r in results) == 200_000, results  # each event acknowledged as new exactly once
    assert sum(r["duplicate"] for r in results) > 0, "the clients did resend"
    assert sum(r["rejected"] for r in results) == 0
    assert stats["events"] == 200_000
    assert _count(collector.database_url) == (200_000, 200_000)


def test_sigkill_mid_ingest_loses_nothing_acknowledged(database_url: str, tmp_path: Path) -> None:
    url = None if database_url.startswith("sqlite") else database_url
    events = [synthetic_event(i) for i in range(30_000)]
    acknowledged: list[str] = []
    enough = threading.Event()
    with running_collector(tmp_path, database_url=url) as collector:
        client = BatchClient(collector.url, collector.token, give_up_after=60)

        def send_all() -> None:
            for chunk in batches(events, 500):
                result = client.send(chunk)
                acknowledged.extend(r["id"] for r in result["results"] if r["status"] != "rejected")
                if len(acknowledged) >= 5_000:
                    enough.set()

        sender = threading.Thread(target=send_all)
        sender.start()
        assert enough.wait(timeout=120)
        collector.kill()  # SIGKILL while the client keeps sending: in-flight batches are not acknowledged
        acked_at_kill = len(acknowledged)
        engine = make_engine(collector.database_url)
        with engine.connect() as conn:
            stored = {str(row[0]) for row in conn.execute(sa.text("SELECT id FROM events"))}
        engine.dispose()
        normalised = {s.replace("-", "") for s in stored}
        missing = [i for i in acknowledged[:acked_at_kill] if i.replace("-", "") not in normalised]
        assert not missing, f"{len(missing)} acknowledged events lost"
        collector.start()  # same database, same port: the client's retries now go through
        sender.join(timeout=300)
        assert not sender.is_alive()
        for chunk in batches(events, 1000):  # a full resend after the crash stores nothing twice
            client.send(chunk)
        client.close()
    assert client.totals["retries"] > 0, "the client saw the collector down"
    assert _count(collector.database_url) == (30_000, 30_000)
