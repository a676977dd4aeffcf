"""The quickstart's capture stage drives the real sidecar over stdio; its events reach a real collector."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from lsp.collector_client import collected, kinds
from lsp.sidecar import git, replay
from rich.console import Console

from collector_api.testing import running_collector


def test_the_capture_stage_imports_neither_fastapi_nor_sqlalchemy() -> None:
    code = "import sys, lsp_agent.quickstart; print(sorted(m for m in ('fastapi', 'sqlalchemy') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_record_session_delivers_the_scripted_session_to_the_collector(tmp_path: Path) -> None:
    from lsp_agent.quickstart import MODULE, record_session

    output = io.StringIO()
    with running_collector(tmp_path / "collector") as collector:
        result = record_session(collector.url, collector.token, tmp_path / "capture", Console(file=output))
        events = collected(collector)
    repo = result.repo_path
    assert repo.parent.parent == tmp_path / "capture"
    assert len(events) == result.events_spooled == result.events_uploaded
    assert result.session_ids == sorted({event["session_id"] for event in events})
    (session,) = result.session_ids
    ordered = sorted(events, key=lambda event: event["seq"])
    assert [event["seq"] for event in ordered] == list(range(len(ordered)))
    found = kinds(ordered)
    assert found[0] == "session.started" and found[-1] == "session.ended"
    assert found.count("document.opened") == 2 and found.count("document.saved") == 3
    assert found.count("document.changed") >= 3
    assert found.count("suggestion.shown") == 2
    rejected = next(e for e in ordered if e["kind"] == "suggestion.rejected")
    accepted = next(e for e in ordered if e["kind"] == "suggestion.accepted")
    assert rejected["payload"]["suggestion_id"] == "quickstart-1" and rejected["payload"]["reason"] == "dismissed"
    assert accepted["payload"]["text"] == "    return a + b" and accepted["payload"]["model"] == "quickstart-model"
    runs = [e["payload"] for e in ordered if e["kind"] == "test.run"]
    assert result.tests_run and [(run["failed"], run["passed"]) for run in runs] == [(1, 0), (0, 1)]
    (commit,) = [e["payload"] for e in ordered if e["kind"] == "git.commit"]
    assert commit["sha"] == git(repo, "rev-parse", "HEAD").strip()
    assert {change["path"] for change in commit["files"]} == {MODULE, "test_calc.py"}
    assert replay(ordered, MODULE) == (repo / MODULE).read_text()
    assert "return a + b" in (repo / MODULE).read_text()
    assert result.kinds == {kind: found.count(kind) for kind in set(found)}
    line = output.getvalue()
    assert f"recorded session {session[:13]}" in line and f"{len(events)} events in the collector" in line
