"""Suggestions: completion proxy (against a real local HTTP endpoint), editor-plugin signals, survival, heuristic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lsp.sidecar import (
    change,
    edit,
    execute,
    git,
    make_repo,
    open_document,
    sidecar,
    sidecar_env,
    spooled,
    spooled_kind,
    until,
)
from lsprotocol import types
from sources.httpstub import Reply, StubServer

pytestmark = pytest.mark.timeout(90)

SECRET = "sk-proj-" + "Zq8vT2mW9xK4pL7nR3sB6dF1" * 2


class Endpoint:
    """An OpenAI-compatible /v1/completions endpoint on 127.0.0.1 that answers from a script and keeps requests."""

    def __init__(self, answers: list[Reply]) -> None:
        self.answers = answers
        self.bodies: list[dict[str, Any]] = []
        self.server = StubServer(self.handle)
        self.url = self.server.url + "/v1"

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if method != "POST" or path != "/v1/completions" or headers.get("authorization") != "Bearer model-key":
            return Reply(404, {"error": f"{method} {path}"})
        self.bodies.append(json.loads(body))
        return self.answers.pop(0) if self.answers else Reply(200, {"choices": []})


def _completions(*texts: str) -> Reply:
    return Reply(
        200, {"id": "cmpl-1", "object": "text_completion", "choices": [{"index": 0, "text": t} for t in texts]}
    )


async def _complete(client, doc: str, line: int, character: int) -> types.CompletionList:
    params = types.CompletionParams(types.TextDocumentIdentifier(doc), types.Position(line, character))
    result = await client.text_document_completion_async(params)
    assert isinstance(result, types.CompletionList)
    return result


@pytest.mark.slow
async def test_completion_proxy_items_carry_a_command_and_acceptance_is_exact(tmp_path: Path) -> None:
    endpoint = Endpoint([_completions(" * 2", " + 41"), Reply(500, {"error": "overloaded"}), _completions(" - 1")])
    text = f"KEY = '{SECRET}'\n\ndef main():\n    return 1\n"
    repo = make_repo(tmp_path / "repo", files={"app.py": text})
    data = tmp_path / "data"
    env = sidecar_env(data, completion_url=endpoint.url, completion_model="coder-7b", completion_api_key="model-key")
    try:
        async with sidecar(repo, env) as client:
            doc = open_document(client, repo / "app.py")
            first = await _complete(client, doc, 3, 12)
            assert [i.text_edit.new_text for i in first.items] == [" * 2", " + 41"]  # type: ignore[union-attr]
            for item in first.items:
                assert item.command is not None and item.command.command == "smartco.completion.accepted"
                assert item.text_edit.range == types.Range(types.Position(3, 12), types.Position(3, 12))  # type: ignore[union-attr]
            await execute(client, item.command.command, *item.command.arguments)  # the editor accepts " + 41"
            failed = await _complete(client, doc, 3, 12)  # the endpoint answers 500: no items, no crash
            await until(lambda: client.log_messages)
            again = await _complete(client, doc, 3, 12)
            await until(lambda: spooled_kind(data, "suggestion.rejected"))
    finally:
        endpoint.server.stop()
    assert list(failed.items) == [] and "answered 500" in client.log_messages[-1].message
    assert len(again.items) == 1
    request = endpoint.bodies[0]
    assert request["model"] == "coder-7b" and request["prompt"].endswith("def main():\n    return 1")
    assert SECRET not in json.dumps(endpoint.bodies) and "[REDACTED:openai_key]" in request["prompt"]
    assert request["suffix"] == "\n"
    shown = spooled_kind(data, "suggestion.shown")
    assert [e["payload"]["text"] for e in shown] == [" * 2", " + 41", " - 1"]
    (accepted,) = spooled_kind(data, "suggestion.accepted")
    assert accepted["payload"] == {
        "suggestion_id": shown[1]["payload"]["suggestion_id"],
        "model": "coder-7b",
        "provider": "smartco-proxy",
        "text": " + 41",
        "position": {"line": 3, "character": 12},
        "heuristic": False,
    }
    (rejected,) = spooled_kind(data, "suggestion.rejected")  # " * 2" was shown and not taken
    assert rejected["payload"]["suggestion_id"] == shown[0]["payload"]["suggestion_id"]
    assert rejected["payload"]["reason"] == "not accepted"
    assert SECRET not in json.dumps(spooled(data))


@pytest.mark.slow
async def test_editor_plugin_signals_become_suggestion_events(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    doc_path = repo / "app.py"
    position = {"line": 1, "character": 12}
    base = {"uri": None, "model": "gpt-x", "provider": "copilot", "position": position}
    async with sidecar(repo, sidecar_env(data)) as client:
        doc = open_document(client, doc_path)
        base["uri"] = doc
        shown = base | {"event": "shown", "id": "s-1", "text": " + 1", "context_before": "def main():"}
        client.protocol.notify("smartco/suggestion", shown)
        client.protocol.notify("smartco/suggestion", base | {"event": "accepted", "id": "s-1", "text": " + 1"})
        await execute(
            client, "smartco.suggestion", base | {"event": "rejected", "id": "s-2", "text": "x", "reason": "esc"}
        )
        client.protocol.notify("smartco/suggestion", {"event": "accepted", "uri": doc})  # no id: refused, no crash
        client.protocol.notify("smartco/suggestion", {"event": "liked", "id": "s-3", "uri": doc})
        await until(lambda: len(client.log_messages) >= 2)
        status = await execute(client, "smartco.status")
    assert status["capture"] == "on"
    events = {e["kind"]: e for e in spooled(data) if e["kind"].startswith("suggestion.")}
    assert set(events) == {"suggestion.shown", "suggestion.accepted", "suggestion.rejected"}
    common = {"model": "gpt-x", "provider": "copilot", "position": position, "heuristic": False}
    assert events["suggestion.shown"]["payload"] == common | {
        "suggestion_id": "s-1",
        "text": " + 1",
        "context_before": "def main():",
    }
    assert events["suggestion.accepted"]["payload"] == common | {"suggestion_id": "s-1", "text": " + 1"}
    assert events["suggestion.rejected"]["payload"] == common | {"suggestion_id": "s-2", "text": "x", "reason": "esc"}
    assert all(e["path"] == "app.py" for e in events.values())
    assert "needs an id" in client.log_messages[0].message and "liked" in client.log_messages[1].message


SUGGESTED = "    total = sum(values)  # added by the model\n"


@pytest.mark.slow
async def test_survival_fractions_at_each_checkpoint_and_at_the_next_commit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    start = "def main():\n    return 1\n"
    env = sidecar_env(data, survival_checkpoints="0.3,2.5,3")  # stand-ins for 30 s, 2 min and 10 min
    async with sidecar(repo, env) as client:
        doc = open_document(client, repo / "app.py")
        edit(client, doc, 2, change(2, 0, 2, 0, SUGGESTED))
        signal = {
            "event": "accepted",
            "id": "s-9",
            "text": SUGGESTED,
            "uri": doc,
            "position": {"line": 2, "character": 0},
        }
        client.protocol.notify("smartco/suggestion", signal)
        await until(lambda: spooled_kind(data, "suggestion.survival"))
        cut = SUGGESTED.index("  # added")
        edit(client, doc, 3, change(2, cut, 2, len(SUGGESTED) - 1, ""))  # the engineer keeps only the code
        await until(lambda: len(spooled_kind(data, "suggestion.survival")) >= 3, timeout=30)
        (repo / "app.py").write_text(start + SUGGESTED)  # what is committed is the suggestion, whole
        git(repo, "commit", "-q", "-am", "sum")
        sha = git(repo, "rev-parse", "HEAD").strip()
        await until(lambda: len(spooled_kind(data, "suggestion.survival")) >= 4)
    measured = {e["payload"]["checkpoint"]: e["payload"] for e in spooled_kind(data, "suggestion.survival")}
    kept = len(SUGGESTED) - (len(SUGGESTED) - 1 - cut)  # the code part and the line break
    assert measured["30s"]["survived_ratio"] == 1.0 and measured["30s"]["survived_chars"] == len(SUGGESTED)
    for label in ("2m", "10m"):
        assert measured[label]["survived_chars"] == kept
        assert measured[label]["survived_ratio"] == round(kept / len(SUGGESTED), 4)
    assert measured["commit"]["commit_sha"] == sha and measured["commit"]["survived_ratio"] == 1.0
    assert {p["suggestion_id"] for p in measured.values()} == {"s-9"}


@pytest.mark.slow
async def test_large_single_insertion_is_a_heuristic_acceptance_and_typing_is_not(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files={"a.py": "x = 1\n", "b.py": "y = 1\n"})
    data = tmp_path / "data"
    block = "def pasted(values):\n    total = 0\n    for v in values:\n        total += v\n    return total\n"
    async with sidecar(repo, sidecar_env(data), options={"idle_seconds": 0.2}) as client:
        a, b = open_document(client, repo / "a.py"), open_document(client, repo / "b.py")
        edit(client, a, 2, change(1, 0, 1, 0, block))
        await until(lambda: spooled_kind(data, "document.changed", "a.py"))
        for i, char in enumerate(block.split("\n")[0]):
            edit(client, b, 3 + i, change(1, i, 1, i, char))
        await until(lambda: spooled_kind(data, "document.changed", "b.py"))
    (accepted,) = spooled_kind(data, "suggestion.accepted")
    assert accepted["path"] == "a.py" and accepted["payload"]["heuristic"] is True
    assert accepted["payload"]["text"] == block and accepted["payload"]["provider"] == "unknown"
    assert accepted["payload"]["position"] == {"line": 1, "character": 0}
