"""Protocol tests: a real LSP client with Neovim 0.7 and VS Code capability profiles drives the real sidecar."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from lsp.sidecar import NEOVIM_07, VSCODE, change, make_repo, replay, sidecar, sidecar_env, spooled, status, uri

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
