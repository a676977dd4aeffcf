"""Test helpers for the sidecar: real git repositories, the real sidecar process under a real LSP client."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp.client import LanguageClient, client_capabilities, make_test_lsp_client

from collector_api.testing import wait_for  # noqa: F401 (the LSP tests' import of it)
from trajectory.diffs import apply_diff

NEOVIM_07 = "neovim@v0.7.0"
VSCODE = "visual_studio_code@v1.65.2"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout


def make_repo(path: Path, opt_in: bool = True, files: dict[str, str] | None = None) -> Path:
    """A git repository with one commit; opted in for capture with the committed marker."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "dev@example.com")
    git(path, "config", "user.name", "Dev")
    for name, text in (files or {"app.py": "def main():\n    return 1\n"}).items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    if opt_in:
        (path / ".smartco-capture").write_text("")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def sidecar_env(data_dir: Path, collector: Any = None, **settings: Any) -> dict[str, str]:
    """The environment of a sidecar process: isolated config and spool, and the collector if given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCO_")}
    env["XDG_CONFIG_HOME"] = str(data_dir / "config")
    env["SMARTCO_DATA_DIR"] = str(data_dir)
    env["SMARTCO_SALT"] = "test-salt"
    env["SMARTCO_GIT_POLL_SECONDS"] = "0.2"
    env["SMARTCO_UPLOAD_INTERVAL"] = "0.2"
    env["SMARTCO_BACKOFF_MAX"] = "1.0"
    if collector is not None:
        env["SMARTCO_COLLECTOR_URL"] = collector.url
        env["SMARTCO_TOKEN"] = collector.token
    for key, value in settings.items():
        env[f"SMARTCO_{key.upper()}"] = str(value)
    return env


def sidecar_command() -> list[str]:
    return [sys.executable, "-m", "smartco.cli", "lsp"]


def initialize_params(repo: Path, profile: str = NEOVIM_07, options: Any = None) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=client_capabilities(profile),
        process_id=os.getpid(),
        root_uri=from_fs_path(str(repo)),
        client_info=types.ClientInfo(name=profile.split("@")[0], version=profile.split("@")[1]),
        initialization_options=options,
    )


@asynccontextmanager
async def sidecar(
    repo: Path, env: dict[str, str], profile: str = NEOVIM_07, options: Any = None, args: tuple[str, ...] = ()
) -> AsyncIterator[LanguageClient]:
    """The real sidecar over stdio, initialized by a client with the capabilities of `profile`."""
    client = make_test_lsp_client()
    await client.start_io(*sidecar_command(), *args, env=env, cwd=str(repo))
    client.initialize_result = await client.initialize_session(  # type: ignore[attr-defined]
        initialize_params(repo, profile, options)
    )
    try:
        yield client
    finally:
        if client._server is not None and client._server.returncode is None:
            await client.shutdown_session()
        await client.stop()


def uri(path: Path) -> str:
    value = from_fs_path(str(path))
    assert value is not None
    return value


def spooled(data_dir: Path) -> list[dict[str, Any]]:
    """Every event still in the spool, oldest first."""
    db = sqlite3.connect(data_dir / "spool.sqlite3")
    try:
        return [orjson.loads(row[0]) for row in db.execute("SELECT body FROM events ORDER BY rowid")]
    finally:
        db.close()


def replay(events: list[dict[str, Any]], path: str) -> str:
    """The text of `path` rebuilt from its opened text and every recorded diff, in seq order."""
    text: str | None = None
    for event in sorted(events, key=lambda e: (e["session_id"], e["seq"])):
        if event.get("path") != path:
            continue
        if event["kind"] == "document.opened":
            text = event["payload"]["text"]
        elif event["kind"] == "document.changed":
            assert text is not None
            text = apply_diff(text, event["payload"]["diff"])
    assert text is not None
    return text


async def until(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll `condition` (without blocking the client's event loop) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def of_kind(events: list[dict[str, Any]], kind: str, path: str | None = None) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == kind and (path is None or e.get("path") == path)]


def spooled_kind(data_dir: Path, kind: str, path: str | None = None) -> list[dict[str, Any]]:
    """Events of `kind` (on `path`) in the spool now; an empty list while the spool does not exist yet."""
    if not (data_dir / "spool.sqlite3").exists():
        return []
    return of_kind(spooled(data_dir), kind, path)


def open_document(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    doc = uri(path)
    item = types.TextDocumentItem(doc, "python", version, path.read_text() if text is None else text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(item))
    return doc


def edit(client: LanguageClient, doc: str, version: int, *changes: types.TextDocumentContentChangePartial) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=version, uri=doc), list(changes)
        )
    )


def save(client: LanguageClient, doc: str, text: str | None = None) -> None:
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(doc), text))


async def execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    params = types.ExecuteCommandParams(command=command, arguments=list(arguments))
    return await client.workspace_execute_command_async(params)


def change(line: int, char: int, end_line: int, end_char: int, text: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line, char), end=types.Position(end_line, end_char)), text=text
    )


def status(data_dir: Path) -> dict[str, Any]:
    """`smartco lsp status --json` of a spool, through the real CLI."""
    done = subprocess.run(
        [*sidecar_command(), "status", "--json"], env=sidecar_env(data_dir), capture_output=True, text=True, check=True
    )
    return dict(orjson.loads(done.stdout))
