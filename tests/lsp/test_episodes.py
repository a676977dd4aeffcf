"""Edit episodes: keystrokes coalesced per document, closed by an idle gap, a save, a close, a switch or shutdown."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from lsp.sidecar import (
    change,
    edit,
    execute,
    initialize_params,
    make_repo,
    open_document,
    replay,
    save,
    sidecar,
    sidecar_command,
    sidecar_env,
    spooled,
    spooled_kind,
    until,
)
from lsprotocol import types
from pytest_lsp.client import make_test_lsp_client

from lsp_agent.recording import content_hash
from trajectory.diffs import apply_diff

pytestmark = pytest.mark.timeout(90)


def keystrokes(client, doc: str, line: int, col: int, text: str, version: int) -> int:
    """One didChange per character typed on one line, versions with gaps (Neovim 0.7)."""
    for offset, char in enumerate(text):
        edit(client, doc, version, change(line, col + offset, line, col + offset, char))
        version += 3
    return version


@pytest.mark.slow
async def test_idle_gap_closes_an_episode_of_coalesced_keystrokes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    opened = (repo / "app.py").read_text()
    async with sidecar(repo, sidecar_env(data), options={"idle_seconds": 0.5}) as client:
        doc = open_document(client, repo / "app.py")
        version = keystrokes(client, doc, 1, 12, " + 1", 2)
        first = (await until(lambda: spooled_kind(data, "document.changed")))[0]
        keystrokes(client, doc, 0, 9, "x", version)
        second = (await until(lambda: spooled_kind(data, "document.changed")[1:]))[0]
    middle = "def main():\n    return 1 + 1\n"
    final = "def main(x):\n    return 1 + 1\n"
    one, two = first["payload"], second["payload"]
    assert one["changes"] == 4 and two["changes"] == 1
    assert (one["version_from"], one["version_to"]) == (1, 11)  # versions with gaps are taken as they come
    assert one["before_hash"] == content_hash(opened) and one["after_hash"] == content_hash(middle)
    assert two["before_hash"] == one["after_hash"] and two["after_hash"] == content_hash(final)
    assert (one["lines_added"], one["lines_removed"]) == (1, 1)
    assert apply_diff(opened, one["diff"]) == middle and apply_diff(middle, two["diff"]) == final
    assert replay(spooled(data), "app.py") == final


@pytest.mark.slow
async def test_save_close_and_switch_close_episodes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files={"a.py": "a = 1\n", "b.py": "b = 1\n"})
    data = tmp_path / "data"
    async with sidecar(repo, sidecar_env(data), options={"idle_seconds": 600}) as client:
        a, b = open_document(client, repo / "a.py"), open_document(client, repo / "b.py")
        keystrokes(client, a, 0, 5, "0", 2)
        keystrokes(client, b, 0, 5, "0", 2)  # switching to b ends a's episode
        await until(lambda: spooled_kind(data, "document.changed", "a.py"))
        assert spooled_kind(data, "document.changed", "b.py") == []
        save(client, b, "b = 10\n")
        await until(lambda: spooled_kind(data, "document.saved", "b.py"))
        keystrokes(client, a, 0, 6, "0", 10)
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(a)))
        await until(lambda: spooled_kind(data, "document.closed", "a.py"))
    events = spooled(data)
    order = [
        (e["kind"], e.get("path")) for e in events if e["kind"].startswith("document.") and "open" not in e["kind"]
    ]
    assert order == [
        ("document.changed", "a.py"),
        ("document.changed", "b.py"),
        ("document.saved", "b.py"),
        ("document.changed", "a.py"),
        ("document.closed", "a.py"),
    ]
    assert replay(events, "a.py") == "a = 100\n" and replay(events, "b.py") == "b = 10\n"


async def test_batched_changes_and_shutdown_without_exit_flush_everything(tmp_path: Path) -> None:
    """Neovim 0.7: a 150 ms batch of many changes, no didClose at quit, and `exit` may never come."""
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    client = make_test_lsp_client()
    await client.start_io(*sidecar_command(), env=sidecar_env(data), cwd=str(repo))
    await client.initialize_session(initialize_params(repo, options={"idle_seconds": 600}))
    doc = open_document(client, repo / "app.py")
    line = "    helper = [n * 2 for n in range(10)]\n"
    edit(client, doc, 7, *[change(1, i, 1, i, ch) for i, ch in enumerate(line)])
    await client.shutdown_async(None)
    # Flushed by `shutdown` itself: the process is still alive and has not been told to exit.
    assert client._server is not None and client._server.returncode is None
    kinds = [e["kind"] for e in spooled(data)]
    assert kinds == ["session.started", "document.opened", "document.changed", "session.ended"]
    client._server.kill()
    await client._server.wait()
    await client.stop()
    changed = spooled_kind(data, "document.changed")[0]["payload"]
    assert changed["changes"] == len(line) and changed["version_to"] == 7
    assert replay(spooled(data), "app.py") == "def main():\n" + line + "    return 1\n"


@pytest.mark.slow
@pytest.mark.parametrize("how", ["exit", "stdin closed"])
async def test_editor_gone_without_shutdown_still_flushes(tmp_path: Path, how: str) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    client = make_test_lsp_client()
    await client.start_io(*sidecar_command(), env=sidecar_env(data), cwd=str(repo))
    await client.initialize_session(initialize_params(repo, options={"idle_seconds": 600}))
    doc = open_document(client, repo / "app.py")
    keystrokes(client, doc, 1, 12, "0", 2)
    await execute(client, "smartco.status")  # a round trip: the notifications before it were handled
    assert client._server is not None
    if how == "exit":
        client.exit(None)
    else:
        client._server.stdin.close()  # type: ignore[union-attr]
    await client._server.wait()
    await client.stop()
    kinds = [e["kind"] for e in spooled(data)]
    assert kinds == ["session.started", "document.opened", "document.changed", "session.ended"]
    assert spooled_kind(data, "session.ended")[0]["payload"]["reason"] == "exit"


ALPHABET = "abc xyz_()=:\n\nü€🎉\t"


def _offset(text: str, line: int, character: int) -> int:
    """The string index of an LSP position (UTF-16 code units), the test's own reading of the protocol."""
    lines = text.split("\n")
    index = sum(len(x) + 1 for x in lines[:line])
    units = 0
    for i, ch in enumerate(lines[line] if line < len(lines) else ""):
        if units >= character:
            return index + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return index + len(lines[line]) if line < len(lines) else len(text)


def _position(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    line = before.count("\n")
    column = before[before.rfind("\n") + 1 :]
    return line, sum(2 if ord(ch) > 0xFFFF else 1 for ch in column)


def _random_change(rng: random.Random, text: str) -> tuple[types.TextDocumentContentChangePartial, str]:
    start = rng.randint(0, len(text))
    end = min(len(text), start + rng.choice([0, 0, 1, 3, 12]))
    inserted = "".join(rng.choice(ALPHABET) for _ in range(rng.choice([0, 1, 1, 2, 6])))
    (l1, c1), (l2, c2) = _position(text, start), _position(text, end)
    assert _offset(text, l1, c1) == start and _offset(text, l2, c2) == end
    return change(l1, c1, l2, c2, inserted), text[:start] + inserted + text[end:]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
async def test_replaying_recorded_diffs_reproduces_the_text(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    text = "def f(x):\n    return x  # ünï 🎉\n\nclass A:\n    pass\n"
    repo = make_repo(tmp_path / "repo", files={"app.py": text})
    data = tmp_path / "data"
    async with sidecar(repo, sidecar_env(data), options={"idle_seconds": 0.2}) as client:
        doc = open_document(client, repo / "app.py")
        version = 1
        for burst in range(12):
            for _ in range(rng.randint(1, 15)):
                changes = []
                for _ in range(rng.randint(1, 4)):
                    item, text = _random_change(rng, text)
                    changes.append(item)
                version += rng.randint(1, 3)
                edit(client, doc, version, *changes)
            if burst % 3 == 2:  # sometimes wait for the idle gap, sometimes run straight on
                count = len(spooled_kind(data, "document.changed"))
                await until(lambda c=count: len(spooled_kind(data, "document.changed")) > c)
        (repo / "app.py").write_text(text)
        save(client, doc, text)
    events = spooled(data)
    assert len(spooled_kind(data, "document.changed")) >= 4
    assert spooled_kind(data, "document.saved")[0]["payload"]["text"] == text
    assert replay(events, "app.py") == text
    status = await_status(data)
    assert status["mirror_resync"] == 0


def await_status(data: Path) -> dict[str, object]:
    from lsp.sidecar import status

    return status(data)
