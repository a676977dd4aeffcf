"""Refactors: an identifier renamed in several places in one burst, and files moved (announced or by content)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp.sidecar import (
    change,
    edit,
    make_repo,
    open_document,
    replay,
    sidecar,
    sidecar_env,
    spooled,
    spooled_kind,
    until,
    uri,
)
from lsprotocol import types

from lsp_agent.refactor import detect_rename

pytestmark = pytest.mark.timeout(90)

SOURCE = "def total(xs):\n    return sum(xs)\n\n\nprint(total([1]))\nx = total([2]) + 1\n"


@pytest.mark.slow
async def test_rename_applied_as_one_workspace_edit_is_detected(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files={"calc.py": SOURCE})
    data = tmp_path / "data"
    async with sidecar(repo, sidecar_env(data), options={"idle_seconds": 0.3}) as client:
        doc = open_document(client, repo / "calc.py")
        # What an editor sends for a rename: one didChange, edits from the bottom up.
        edit(
            client,
            doc,
            2,
            change(5, 4, 5, 9, "grand_total"),
            change(4, 6, 4, 11, "grand_total"),
            change(0, 4, 0, 9, "grand_total"),
        )
        await until(lambda: spooled_kind(data, "document.changed"))
        edit(client, doc, 3, change(5, 23, 5, 24, "2"))  # an ordinary edit afterwards: no rename
        await until(lambda: spooled_kind(data, "document.changed")[1:])
    (found,) = spooled_kind(data, "refactor.detected")
    assert found["path"] == "calc.py"
    assert found["payload"] == {
        "refactor": "rename",
        "old_name": "total",
        "new_name": "grand_total",
        "occurrences": 3,
        "heuristic": True,
    }
    assert replay(spooled(data), "calc.py") == SOURCE.replace("total", "grand_total").replace("+ 1", "+ 2")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("a = foo(1)\nb = foo(2)\n", "a = bar(1)\nb = baz(2)\n"),  # two different names
        ("a = foo(1)\nb = 2\n", "a = bar(1)\nb = 2\n"),  # one place only
        ("a = foo(1)\nb = foo(2)\n", "a = bar(1)\nb = bar(2)\nc = 3\n"),  # and more besides
    ],
)
def test_edits_that_are_not_renames(before: str, after: str) -> None:
    assert detect_rename(before, after) is None


@pytest.mark.slow
async def test_announced_rename_is_one_move_and_keeps_the_edits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files={"old.py": "x = 1\n"})
    data = tmp_path / "data"
    async with sidecar(repo, sidecar_env(data), options={"idle_seconds": 600}) as client:
        old = open_document(client, repo / "old.py")
        edit(client, old, 2, change(0, 4, 0, 5, "2"))
        (repo / "pkg").mkdir()
        (repo / "old.py").rename(repo / "pkg" / "new.py")
        (repo / "pkg" / "new.py").write_text("x = 2\n")
        new = uri(repo / "pkg" / "new.py")
        client.workspace_did_rename_files(types.RenameFilesParams([types.FileRename(old, new)]))
        # VS Code then closes the old document and opens the new one: still one move.
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(old)))
        open_document(client, repo / "pkg" / "new.py")
        await until(lambda: spooled_kind(data, "document.opened", "pkg/new.py"))
    (move,) = spooled_kind(data, "refactor.detected")
    assert move["payload"] == {
        "refactor": "move",
        "old_path": "old.py",
        "new_path": "pkg/new.py",
        "occurrences": 1,
        "heuristic": False,
    }
    (changed,) = spooled_kind(data, "document.changed")
    assert changed["path"] == "old.py" and changed["seq"] < move["seq"]  # recorded under the name it was made in


@pytest.mark.slow
async def test_delete_then_create_with_the_same_content_is_a_move(tmp_path: Path) -> None:
    text = "def helper():\n    return 42\n"
    repo = make_repo(tmp_path / "repo", files={"a.py": text, "b.py": "y = 1\n", "c.py": "z = 1\n"})
    data = tmp_path / "data"
    async with sidecar(repo, sidecar_env(data)) as client:
        # An editor that only knows buffers: the file is deleted, its buffer closed, a new file opened.
        a = open_document(client, repo / "a.py")
        (repo / "a.py").unlink()
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(a)))
        (repo / "lib").mkdir()
        (repo / "lib" / "a.py").write_text(text)
        open_document(client, repo / "lib" / "a.py")
        # An editor that announces file operations, on a file that is not open.
        (repo / "b.py").rename(repo / "lib" / "b2.py")
        client.workspace_did_delete_files(types.DeleteFilesParams([types.FileDelete(uri(repo / "b.py"))]))
        client.workspace_did_create_files(types.CreateFilesParams([types.FileCreate(uri(repo / "lib" / "b2.py"))]))
        # A delete and a create with different content are not a move.
        (repo / "c.py").unlink()
        (repo / "lib" / "c.py").write_text("z = 2\n")
        client.workspace_did_delete_files(types.DeleteFilesParams([types.FileDelete(uri(repo / "c.py"))]))
        client.workspace_did_create_files(types.CreateFilesParams([types.FileCreate(uri(repo / "lib" / "c.py"))]))
        await until(lambda: len(spooled_kind(data, "refactor.detected")) >= 2)
    moves = [
        (e["payload"]["old_path"], e["payload"]["new_path"], e["payload"]["heuristic"])
        for e in spooled_kind(data, "refactor.detected")
    ]
    assert moves == [("a.py", "lib/a.py", True), ("b.py", "lib/b2.py", True)]
