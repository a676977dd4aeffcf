"""SOURCE forms: an events JSONL file, a real collector process (read token, paging), its database (SQLite,
PostgreSQL); all give the same dataset; bad sources fail with one clear line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest
from align.stream import scenario, write_events
from click.testing import CliRunner

from collector_api.testing import prepare_database, running_collector
from smartco.cli import root
from trajectory.align import SourceError
from trajectory.align.builder import build
from trajectory.align.options import BuildOptions
from trajectory.align.source import CollectorSource, DatabaseSource, FileSource, open_source
from trajectory.sources.sink import CollectorSink

pytestmark = pytest.mark.timeout(120)


def _events() -> list:
    return [e for n in range(3) for e in scenario(f"github.com/acme/r{n}", id_base=n * 1000).events]


def _records(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/*.jsonl"))}


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(root, ["dataset", "build", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def reference(tmp_path: Path) -> dict[str, bytes]:
    """The dataset built from the events JSONL file."""
    events = write_events(tmp_path / "events.jsonl", _events())
    build(FileSource(events), tmp_path / "from-file", BuildOptions())
    return _records(tmp_path / "from-file")


def _fill(url: str, token: str) -> None:
    sink = CollectorSink(url, token)
    try:
        events = _events()
        for start in range(0, len(events), 25):
            assert sink.send(events[start : start + 25]).accepted == len(events[start : start + 25])
    finally:
        sink.close()


@pytest.mark.e2e
def test_a_collector_a_sqlite_database_and_a_file_give_the_same_dataset(tmp_path: Path, reference) -> None:
    with running_collector(tmp_path / "collector") as collector:
        _fill(collector.url, collector.token)
        code, out, err = _cli("--from", collector.url, "--token", collector.token, "--out", str(tmp_path / "http"))
        assert code == 0, err
        assert _records(tmp_path / "http") == reference
        assert out.count("\n") == 1  # one summary line, nothing else on stdout
        assert "records (" in out and f"written to {tmp_path / 'http'}" in out
        paged = build(CollectorSource(collector.url, collector.token, page_size=7), tmp_path / "paged", BuildOptions())
        assert _records(tmp_path / "paged") == reference and paged.events_read == len(_events())
        readonly = prepare_database(collector.database_url, "test", ("ingest",))
        code, _, err = _cli("--from", collector.url, "--token", readonly, "--out", str(tmp_path / "no"))
        assert code == 1 and err.strip().count("\n") == 0 and "read scope" in err
    code, _, err = _cli("--from", collector.database_url, "--out", str(tmp_path / "db"))
    assert code == 0, err
    assert _records(tmp_path / "db") == reference


@pytest.mark.postgres
@pytest.mark.e2e
def test_a_collector_on_postgresql_and_its_database(tmp_path: Path, postgres_url: str, reference) -> None:
    with running_collector(tmp_path / "collector", database_url=postgres_url) as collector:
        _fill(collector.url, collector.token)
        build(CollectorSource(collector.url, collector.token), tmp_path / "http", BuildOptions())
    build(DatabaseSource(postgres_url), tmp_path / "db", BuildOptions())
    assert _records(tmp_path / "http") == _records(tmp_path / "db") == reference


def test_bad_sources_fail_with_one_clear_line(tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.jsonl", _events()[:5])
    closed = "http://127.0.0.1:9"  # nothing listens on the discard port
    cases = {
        ("--from", str(tmp_path / "missing.jsonl")): "does not exist",
        ("--from", closed, "--token", "t"): "127.0.0.1:9 is not reachable",
        ("--from", closed): "needs a read token",
        ("--from", f"sqlite:///{tmp_path / 'missing.db'}"): "does not exist",
        ("--from", "ftp://example.com/events"): "unsupported source scheme",
        ("--from", str(events), "--test-after", "2024-13-01"): "--test-after '2024-13-01' is not a date",
        ("--from", str(events), "--ratios", "0.5,0.5,0.5"): "summing to 1",
        ("--from", str(events), "--ratios", "a,b"): "expected three numbers",
    }
    for args, message in cases.items():
        code, out, err = _cli(*args, "--out", str(tmp_path / "out"))
        assert code == 1 and out == "", args
        assert err.startswith("Error: ") and err.count("\n") == 1 and message in err, (args, err)
    assert not (tmp_path / "missing.db").exists()  # the check did not create an empty database


def test_open_source_tells_the_forms_apart(tmp_path: Path) -> None:
    events = write_events(tmp_path / "e.jsonl", [])
    assert isinstance(open_source(str(events)), FileSource)
    assert isinstance(open_source("https://collector.example/", "tok"), CollectorSource)
    assert isinstance(open_source("postgresql+psycopg://u:secret@db/x"), DatabaseSource)
    assert "secret" not in open_source("postgresql+psycopg://u:secret@db/x").describe()
    assert open_source("https://u:pw@collector.example:8443/base?x=1", "tok").describe() == (
        "https://collector.example:8443/base"
    )
    with pytest.raises(SourceError):
        open_source("mongodb://db/x")
