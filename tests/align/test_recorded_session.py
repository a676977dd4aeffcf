"""End to end: a session recorded by the real sidecar under a real LSP client, shipped to a real collector along
with the history the importer mined; the dataset built from the collector ties the session to its commit, and
replaying the trajectory's diffs from its starting version gives the committed file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import orjson
import pytest
from lsp.sidecar import change, git, make_repo, sidecar, sidecar_command, sidecar_env, uri
from lsprotocol import types

from collector_api.testing import running_collector
from trajectory.align.builder import build
from trajectory.align.options import BuildOptions
from trajectory.align.source import CollectorSource
from trajectory.records import RecordBase, TrajectoryRecord, read_records
from trajectory.sources.history import GitImportSettings, import_git
from trajectory.sources.sink import CollectorSink

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]

STATS = '"""Small statistics helpers."""\n\nimport math\n\n\ndef mean(values):\n    return sum(values) / len(values)\n'
STDEV = (
    "\n\ndef stdev(values):\n"
    '    """The population standard deviation of `values`."""\n'
    "    # squared distances from the mean, summed\n"
    "    spread = sum((v - mean(values)) ** 2 for v in values)\n"
    "    return math.sqrt(spread / len(values))\n"
)
ACCEPTED = "\n\ndef median(values):\n    ordered = sorted(values)\n    return ordered[len(ordered) // 2]\n"


def _end(text: str) -> types.Position:
    lines = text.split("\n")
    return types.Position(len(lines) - 1, len(lines[-1]))


async def _type(client, doc: str, text: str, insert: str, version: int) -> tuple[str, int]:
    """Insert `insert` at the end of `text`, a line per didChange, as an editor sends a burst of typing."""
    for line in insert.splitlines(keepends=True):
        at = _end(text)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=doc, version=version),
                content_changes=[change(at.line, at.character, at.line, at.character, line)],
            )
        )
        text, version = text + line, version + 1
    return text, version


async def _suggest(client, doc: str, event: str, sid: str, text: str, line: int) -> None:
    params = {"event": event, "id": sid, "text": text, "uri": doc, "model": "local-7b",
              "position": {"line": line, "character": 0}}  # fmt: skip
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="smartco.suggestion", arguments=[params])
    )


async def _save(client, doc: str, path: Path, text: str) -> None:
    path.write_text(text)
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(doc), text))
    await client.workspace_execute_command_async(types.ExecuteCommandParams(command="smartco.status"))


async def _record_session(repo: Path, env: dict[str, str]) -> str:
    path = repo / "stats.py"
    async with sidecar(repo, env, options={"idle_seconds": 30}) as client:
        doc = uri(path)
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(doc, "python", 1, STATS)))
        await _suggest(client, doc, "rejected", "sg-1", "\n\ndef stdev(values):\n    return 0\n", 7)
        text, version = await _type(client, doc, STATS, STDEV, 2)
        await _save(client, doc, path, text)
        await _suggest(client, doc, "accepted", "sg-2", ACCEPTED, 13)
        text, version = await _type(client, doc, text, ACCEPTED, version)
        await _save(client, doc, path, text)
    return text


def _all_events(url: str, token: str) -> list[dict]:
    body = httpx.get(f"{url}/v1/events", params={"limit": 100_000}, headers={"Authorization": f"Bearer {token}"})
    return [orjson.loads(line) for line in body.content.splitlines() if line.strip()]


def _records(out: Path) -> list[RecordBase]:
    return [record for path in sorted(out.glob("*/*.jsonl")) for record in read_records(path)]


async def test_a_recorded_session_aligns_with_its_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files={"stats.py": STATS})
    data = tmp_path / "data"
    with running_collector(tmp_path / "collector") as collector:
        env = sidecar_env(data, collector)
        final = await _record_session(repo, env)
        shipped = subprocess.run([*sidecar_command(), "upload"], env=env, capture_output=True, text=True)
        assert shipped.returncode == 0 and "spool empty" in shipped.stdout, shipped.stderr
        git(repo, "add", "stats.py")
        git(repo, "commit", "-q", "-m", "Add stdev and median")
        sha = git(repo, "rev-parse", "HEAD").strip()
        settings = GitImportSettings(repo=repo, salt="test-salt", state_path=tmp_path / "state.json",
                                     destination=collector.url)  # fmt: skip
        sink = CollectorSink(collector.url, collector.token)
        import_git(settings, sink)
        sink.close()
        events = _all_events(collector.url, collector.token)
        result = build(CollectorSource(collector.url, collector.token), tmp_path / "out", BuildOptions())
    assert {e["source"] for e in events} == {"sidecar", "git"} and {e["repo"] for e in events} == {"local/repo"}
    assert result.events_read == len(events) and result.sessions == 1
    records = _records(tmp_path / "out")
    ids = {e["id"] for e in events}
    for record in records:
        assert set(record.provenance.event_ids) <= ids, record.id
        for commit in record.provenance.commits:
            assert git(repo, "cat-file", "-t", commit).strip() == "commit"

    [session] = [r for r in records if isinstance(r, TrajectoryRecord) and r.provenance.sessions != ["git:local/repo"]]
    assert session.task == "Add stdev and median" and session.outcome["commit"] == sha
    assert session.start_files == {"stats.py": STATS} and session.final_files == {"stats.py": final}
    assert session.replay() == session.final_files  # the recorded diffs rebuild the final version exactly
    assert git(repo, "show", f"{sha}:stats.py") == final
    assert session.start_commit == git(repo, "rev-parse", "HEAD~1").strip()
    assert all(step.commit == sha for step in session.steps if step.action == "edit")
    outcomes = [(fb.detail["outcome"], fb.version) for fb in session.feedback if fb.type == "suggestion_outcome"]
    first_edit = next(i for i, step in enumerate(session.steps) if step.action == "edit")
    assert outcomes == [("rejected", -1), ("accepted", first_edit)]  # each judged the version it was shown on

    kinds = {r.kind for r in records}
    assert {"comment", "comment_simple", "generation", "completion", "preference"} <= kinds
    [rejected] = [r for r in records if r.kind == "preference" and r.derivation == "rejected_suggestion"]  # type: ignore[attr-defined]
    assert "math.sqrt(spread" in rejected.chosen and rejected.rejected.endswith("return 0\n")  # type: ignore[attr-defined]
    assert any(r.kind == "completion" and r.origin == "accepted_suggestion" for r in records)  # type: ignore[attr-defined]
    notes = {a.annotation for r in records if r.kind == "comment" for a in r.annotations}  # type: ignore[attr-defined]
    assert "squared distances from the mean, summed" in notes
