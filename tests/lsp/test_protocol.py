"""Protocol tests: a real LSP client with Neovim 0.7 and VS Code capability profiles drives the real sidecar."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp.sidecar import NEOVIM_07, VSCODE, change, make_repo, replay, sidecar, sidecar_env, spooled, status, uri
from lsprotocol import types

pytestmark = pytest.mark.timeout(60)


def typed(client, doc_uri: str, line: int, start: int, text: str, version: int) -> int:
    """One didChange per keystroke, as Neovim 0.7 sends them; versions with gaps."""
    for offset, char in enumerate(text):
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=doc_uri, version=version),
                content_changes=[change(line, start + offset, line, start + offset, char)],
            )
        )
        version += 2
    return version


@pytest.mark.slow
@pytest.mark.parametrize("profile", [NEOVIM_07, VSCODE])
async def test_session_is_recorded_and_replays_to_the_saved_text(tmp_path: Path, profile: str) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    path = repo / "app.py"
    opened = path.read_text()
    async with sidecar(repo, sidecar_env(data), profile, options={"idle_seconds": 0.2}) as client:
        doc = uri(path)
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(doc, "python", 1, opened)))
        version = typed(client, doc, 1, 12, " + 41", 2)
        # A batched didChange (Neovim's 150 ms debounce) with several content changes, applied in order.
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=doc, version=version + 5),
                content_changes=[
                    change(2, 0, 2, 0, "\n"),
                    change(3, 0, 3, 0, "def helper(x):\n    return x * 2  # ünïcødé 🎉\n"),
                    change(4, 28, 4, 30, "ü"),  # the emoji is two UTF-16 code units
                ],
            )
        )
        final = "def main():\n    return 1 + 41\n\ndef helper(x):\n    return x * 2  # ünïcødé ü\n"
        path.write_text(final)
        client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(doc), final))
        # No didClose: Neovim never sends it for buffers still open at quit; shutdown must flush.
    events = spooled(data)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "session.started" and kinds[-1] == "session.ended"
    assert "document.changed" in kinds and "document.saved" in kinds
    assert [e["seq"] for e in events] == list(range(len(events)))
    saved = next(e for e in events if e["kind"] == "document.saved")
    assert saved["payload"]["text"] == final
    assert replay(events, "app.py") == final
    assert status(data)["mirror_resync"] == 0  # the mirror alone reproduced the saved text
    started = events[0]["payload"]
    assert started["editor"] == profile.split("@")[0] and started["git_branch"] == "main"
    assert events[0]["actor"].startswith("u_") and "example.com" not in str(events)


@pytest.mark.slow
async def test_secrets_never_reach_the_spool_and_are_counted(tmp_path: Path) -> None:
    from lsp.secrets_corpus import samples

    corpus = samples()[:12]
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    path = repo / "settings.py"
    opened = "".join(s.text for s in corpus[:6])
    typed_secret = corpus[7].text
    async with sidecar(repo, sidecar_env(data), options={"idle_seconds": 0.2}) as client:
        doc = uri(path)
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(doc, "python", 1, opened)))
        lines = opened.count("\n")
        typed(client, doc, lines, 0, typed_secret, 2)
        client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(doc), None))
    raw = b"".join(p.read_bytes() for p in data.glob("spool.sqlite3*"))
    for sample in [*corpus[:6], corpus[7]]:
        for line in sample.secret.splitlines():
            assert line.encode() not in raw
    summary = status(data)
    assert summary["redacted_total"] >= 7 + 6  # opened text, then the saved text again, plus the typed one


@pytest.mark.slow
async def test_paths_outside_opted_in_repositories_and_excluded_paths_are_not_recorded(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files={"app.py": "x = 1\n", ".env": "A=1\n", "keys/id_rsa": "k\n"})
    other = make_repo(tmp_path / "other", opt_in=False)
    data = tmp_path / "data"
    async with sidecar(repo, sidecar_env(data)) as client:
        for path in (repo / ".env", repo / "keys/id_rsa", other / "app.py", repo / "app.py"):
            item = types.TextDocumentItem(uri(path), "text", 1, path.read_text())
            client.text_document_did_open(types.DidOpenTextDocumentParams(item))
    paths = {e.get("path") for e in spooled(data)}
    assert paths == {None, "app.py"}
    assert {e["repo"] for e in spooled(data)} == {"local/repo"}
