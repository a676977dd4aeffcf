"""The quickstart's capture stage: a scripted editing session through the real sidecar, over stdio, into a collector.

A pygls client plays the editor on a scratch repository: it types a function over several edit episodes,
reports a rejected and an accepted suggestion with the sidecar's `smartco/suggestion` notification, runs a
failing then a passing test whose JUnit XML lands where the sidecar watches, saves, commits with git and shuts
the sidecar down; then it waits until the spool is drained into the collector.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import httpx
import orjson
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from rich.console import Console

from lsp_agent.capture import SPOOL_FILE
from lsp_agent.errors import SessionScriptError
from lsp_agent.handlers import SUGGESTION_NOTIFICATION
from lsp_agent.repository import opt_in, repo_id
from lsp_agent.spool import Spool
from lsp_agent.uploader import Uploader

logger = logging.getLogger(__name__)

MODULE = "calc.py"
TESTS = "test_calc.py"
MODEL = "quickstart-model"
WAIT_S = 30.0
IDLE_S = 0.3
# The history stage pseudonymises with this salt too, so the engineer is one actor across both stages.
SALT = "smartco-quickstart"
SCRATCH_FILES = {
    MODULE: '"""Small arithmetic helpers."""\n',
    TESTS: "",
    ".gitignore": ".smartco/\n__pycache__/\n",
    "pytest.ini": "[pytest]\n",  # the scratch repository is its own pytest root, whatever surrounds it
}
TEST_CODE = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


@dataclass
class SessionStageResult:
    """What the capture stage recorded and delivered."""

    events_spooled: int
    events_uploaded: int
    session_ids: list[str]
    repo_path: Path
    kinds: dict[str, int] = field(default_factory=dict)  # event kind -> count, as the collector holds them
    tests_run: bool = False
    repo_id: str = ""  # the `repo` of the recorded events


def record_session(collector_url: str, token: str, workdir: Path, console: Console) -> SessionStageResult:
    """Record a scripted session with the real sidecar in a scratch repository under `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="session-", dir=workdir))
    repo = scratch_repository(base / "calc")
    data = base / "spool"
    repository = repo_id(repo)
    view = CollectorView(collector_url, token, repository)
    tests_run = find_spec("pytest") is not None
    with console.status("recording a scripted editing session through the sidecar"):
        asyncio.run(_drive(repo, sidecar_environment(collector_url, token, base), view, base, tests_run))
        spooled, uploaded = _drain(data, collector_url, token)
    held = view.poll()
    kinds = dict(Counter(event["kind"] for event in held))
    sessions = sorted({event["session_id"] for event in held})
    listed = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
    note = "" if tests_run else " (pytest is not installed: no test runs)"
    console.print(
        f"recorded session {', '.join(s[:13] for s in sessions)} in {repo}: {len(held)} events in the collector "
        f"({listed}); {spooled} spooled, {uploaded} uploaded{note}",
        soft_wrap=True,
    )
    return SessionStageResult(spooled, uploaded, sessions, repo, kinds, tests_run, repository)


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise SessionScriptError(f"git {args[0]} failed in {repo}: {done.stderr.strip()}")
    return done.stdout


def scratch_repository(path: Path) -> Path:
    """A git repository with one commit, opted in to capture for this engineer only."""
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    _git(path, "config", "user.email", "engineer@quickstart.invalid")
    _git(path, "config", "user.name", "Quickstart Engineer")
    for name, text in SCRATCH_FILES.items():
        (path / name).write_text(text)
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", "Start a calculator")
    opt_in(path)
    return path


def sidecar_environment(collector_url: str, token: str, base: Path) -> dict[str, str]:
    """The sidecar's environment: this collector, a spool under `base`, no user settings file, quick polls."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("SMARTCO_")}
    env |= {"SMARTCO_COLLECTOR_URL": collector_url, "SMARTCO_TOKEN": token, "SMARTCO_DATA_DIR": str(base / "spool")}
    env |= {"SMARTCO_LSP_CONFIG": str(base / "no-user-settings.toml"), "SMARTCO_SALT": SALT}
    env |= {"SMARTCO_UPLOAD_INTERVAL": "0.2", "SMARTCO_BACKOFF_MAX": "2"}
    env |= {"SMARTCO_GIT_POLL_SECONDS": "0.2", "SMARTCO_JUNIT_POLL_SECONDS": "0.2"}
    return env


class CollectorView:
    """The events of one repository that reached the collector, read with the token's `read` scope."""

    def __init__(self, url: str, token: str, repo: str) -> None:
        self.url, self.repo = url.rstrip("/"), repo
        self.headers = {"Authorization": f"Bearer {token}"}
        self.after = 0
        self.events: list[dict[str, Any]] = []

    def poll(self) -> list[dict[str, Any]]:
        while True:
            answer = httpx.get(f"{self.url}/v1/events", params={"after": self.after}, headers=self.headers, timeout=10)
            answer.raise_for_status()
            lines = [orjson.loads(line) for line in answer.text.splitlines() if line]
            self.events += [event for event in lines if event.get("repo") == self.repo]
            self.after = int(answer.headers.get("X-Next-After", self.after))
            if not lines:
                return self.events

    async def wait(self, what: str, kind: str, count: int = 1, timeout: float = WAIT_S) -> None:
        """Until the collector holds `count` events of `kind` (the sidecar works asynchronously)."""
        deadline = time.monotonic() + timeout
        while sum(1 for event in self.poll() if event["kind"] == kind) < count:
            if time.monotonic() > deadline:
                raise SessionScriptError(f"the collector did not receive {what} ({kind}) within {timeout:.0f}s")
            await asyncio.sleep(0.1)


class ScriptedEditor:
    """A pygls client sending what an editor sends: didOpen, one didChange per keystroke, didSave."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client, self.root = client, root
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def open(self, name: str) -> None:
        self.texts[name], self.versions[name] = (self.root / name).read_text(), 1
        item = types.TextDocumentItem(self.uri(name), "python", 1, self.texts[name])
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(item))

    def _change(self, name: str, start: types.Position, end: types.Position, text: str) -> None:
        self.versions[name] += 1
        document = types.VersionedTextDocumentIdentifier(uri=self.uri(name), version=self.versions[name])
        change = types.TextDocumentContentChangePartial(range=types.Range(start=start, end=end), text=text)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(document, [change]))

    def type(self, name: str, text: str) -> None:
        """Type `text` at the end of the document, one keystroke per didChange."""
        lines = self.texts[name].split("\n")
        line, column = len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2
        for char in text:
            self._change(name, types.Position(line, column), types.Position(line, column), char)
            line, column = (line + 1, 0) if char == "\n" else (line, column + len(char.encode("utf-16-le")) // 2)
        self.texts[name] += text

    def replace_line(self, name: str, line: int, content: str) -> None:
        """Replace the content of one line (as accepting a suggestion does)."""
        lines = self.texts[name].split("\n")
        width = len(lines[line].encode("utf-16-le")) // 2
        self._change(name, types.Position(line, 0), types.Position(line, width), content)
        lines[line] = content
        self.texts[name] = "\n".join(lines)

    def save(self, name: str) -> None:
        (self.root / name).write_text(self.texts[name])
        params = types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(self.uri(name)), self.texts[name])
        self.client.text_document_did_save(params)

    def suggestion(self, event: str, suggestion_id: str, name: str, text: str, line: int, **extra: Any) -> None:
        """The notification an editor plugin sends for a suggestion from another assistant."""
        params: dict[str, Any] = {"event": event, "id": suggestion_id, "uri": self.uri(name), "text": text}
        params["model"] = MODEL
        params |= {"provider": "quickstart", "position": {"line": line, "character": 0}, **extra}
        self.client.protocol.notify(SUGGESTION_NOTIFICATION, params)


async def _drive(repo: Path, env: dict[str, str], view: CollectorView, base: Path, tests_run: bool) -> None:
    """Start the sidecar over stdio, play the session, shut it down the way an editor does."""
    from lsp_agent import __version__

    client = LanguageClient("smartco-quickstart", __version__)
    command = [sys.executable, "-m", "smartco.cli", "lsp", "--log-file", str(base / "sidecar.log")]
    await client.start_io(*command, env=env, cwd=str(repo))
    try:
        params = types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            process_id=os.getpid(),
            root_uri=repo.as_uri(),
            workspace_folders=[types.WorkspaceFolder(repo.as_uri(), repo.name)],
            client_info=types.ClientInfo(name="smartco-quickstart", version=__version__),
            initialization_options={"smartco": {"idle_seconds": IDLE_S}},
        )
        await asyncio.wait_for(client.initialize_async(params), WAIT_S)
        client.initialized(types.InitializedParams())
        await _session(ScriptedEditor(client, repo), view, base, tests_run)
        await asyncio.wait_for(client.shutdown_async(None), WAIT_S)
        client.exit(None)
    finally:
        await _stop(client)


async def _stop(client: LanguageClient) -> None:
    """Wait for the sidecar to exit (it drains its spool for a few seconds first); kill it if it hangs."""
    server = client._server
    try:
        await asyncio.wait_for(client.stop(), WAIT_S)
    except TimeoutError:
        if server is not None and server.returncode is None:
            server.kill()
            await server.wait()
        raise SessionScriptError("the sidecar did not exit after `exit`") from None


async def _session(editor: ScriptedEditor, view: CollectorView, base: Path, tests_run: bool) -> None:
    """The script: two edit episodes, a rejected suggestion, a failing test, an accepted fix, a passing test."""
    await view.wait("the session start", "session.started")
    editor.open(MODULE)
    editor.type(MODULE, "\n\ndef add(a, b):\n")
    await view.wait("the first edit episode", "document.changed")
    editor.type(MODULE, '    """The sum of a and b."""\n    return a - b\n')
    await view.wait("the second edit episode", "document.changed", 2)
    editor.save(MODULE)
    body = editor.texts[MODULE].split("\n").index("    return a - b")
    editor.suggestion("shown", "quickstart-1", MODULE, "    return b - a", body, context_before="def add(a, b):")
    editor.suggestion("rejected", "quickstart-1", MODULE, "    return b - a", body, reason="dismissed")
    editor.open(TESTS)
    editor.type(TESTS, TEST_CODE)
    editor.save(TESTS)
    if tests_run:
        _run_tests(editor.root, base, 1)
        await view.wait("the failing test run", "test.run")
    editor.suggestion("shown", "quickstart-2", MODULE, "    return a + b", body, context_before="def add(a, b):")
    editor.replace_line(MODULE, body, "    return a + b")
    editor.suggestion("accepted", "quickstart-2", MODULE, "    return a + b", body)
    editor.save(MODULE)
    if tests_run:
        _run_tests(editor.root, base, 2)
        await view.wait("the passing test run", "test.run", 2)
    _git(editor.root, "add", "-A")
    _git(editor.root, "commit", "-q", "-m", "add(): the sum of two numbers, with its test")
    await view.wait("the commit", "git.commit")


def _run_tests(repo: Path, base: Path, run: int) -> None:
    """Run the tests with pytest; its JUnit XML is moved whole into `.smartco/test-results/` for the sidecar."""
    staging = base / f"junit-{run}.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={staging}", TESTS]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "SMARTCO_"))}
    # No third-party plugins: they only slow a one-test run down, and the sidecar's own plugin would write a
    # second report of the same run.
    env |= {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode not in (0, 1) or not staging.is_file():
        raise SessionScriptError(
            f"pytest could not run the scratch tests (exit {done.returncode}): {done.stdout[-500:]}"
        )
    reports = repo / ".smartco" / "test-results"
    reports.mkdir(parents=True, exist_ok=True)
    os.replace(staging, reports / f"junit-quickstart-{run}.xml")


def _drain(data: Path, collector_url: str, token: str) -> tuple[int, int]:
    """Upload whatever the sidecar left in its spool; (events spooled, events the collector acknowledged)."""
    from lsp_agent.settings import Settings

    spool = Spool(data / SPOOL_FILE, Settings().spool_max_bytes)
    try:
        if spool.count:
            uploader = Uploader(spool, collector_url, token)
            uploader.drain(WAIT_S)
            uploader.stop()
            if spool.count:
                reason = uploader.last_error or "timeout"
                raise SessionScriptError(f"{spool.count} events still queued for {collector_url} ({reason})")
        counters = spool.status().counters
        return counters.get("spooled", 0), counters.get("uploaded", 0) + counters.get("duplicate", 0)
    finally:
        spool.close()
