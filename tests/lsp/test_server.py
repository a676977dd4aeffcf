"""The sidecar as a language server: what it advertises, TCP, and where its settings come from."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path

import pytest
from lsp.sidecar import (
    NEOVIM_07,
    VSCODE,
    execute,
    initialize_params,
    make_repo,
    open_document,
    sidecar,
    sidecar_command,
    sidecar_env,
    spooled,
    spooled_kind,
    until,
)
from lsprotocol import types
from pytest_lsp.client import LanguageClient, make_test_lsp_client

from lsp_agent.settings import Settings, from_editor, from_environment

pytestmark = pytest.mark.timeout(90)

# What a main language server offers; the sidecar must offer none of it unless told to.
COMPETING = (
    "completion_provider",
    "hover_provider",
    "definition_provider",
    "references_provider",
    "document_symbol_provider",
    "code_action_provider",
    "document_formatting_provider",
    "rename_provider",
    "signature_help_provider",
    "semantic_tokens_provider",
    "inlay_hint_provider",
    "diagnostic_provider",
)


@pytest.mark.slow
@pytest.mark.parametrize("profile", [NEOVIM_07, VSCODE])
async def test_advertises_incremental_sync_and_save_with_text_and_nothing_competing(
    tmp_path: Path, profile: str
) -> None:
    repo = make_repo(tmp_path / "repo")
    async with sidecar(repo, sidecar_env(tmp_path / "data"), profile) as client:
        caps = client.initialize_result.capabilities  # type: ignore[attr-defined]
    sync = caps.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental and sync.open_close
    assert isinstance(sync.save, types.SaveOptions) and sync.save.include_text is True
    assert [name for name in COMPETING if getattr(caps, name) is not None] == []
    assert set(caps.execute_command_provider.commands) >= {"smartco.status", "smartco.pause", "smartco.resume"}


@pytest.mark.slow
async def test_completion_is_offered_only_when_an_endpoint_is_configured(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    env = sidecar_env(tmp_path / "data", completion_url="http://127.0.0.1:9/v1")
    async with sidecar(repo, env) as client:
        caps = client.initialize_result.capabilities  # type: ignore[attr-defined]
    assert caps.completion_provider is not None
    assert "smartco.completion.accepted" in caps.execute_command_provider.commands
    assert [name for name in COMPETING if name != "completion_provider" and getattr(caps, name)] == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _connect(port: int, timeout: float = 30.0) -> LanguageClient:
    async def attempt() -> LanguageClient | None:
        client = make_test_lsp_client()
        try:
            await client.start_tcp("127.0.0.1", port)
        except OSError:
            return None
        return client

    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if (client := await attempt()) is not None:
            return client
        await asyncio.sleep(0.1)
    raise AssertionError(f"nothing listening on port {port}")


@pytest.mark.slow
async def test_tcp_transport_records_like_stdio(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    port = _free_port()
    server = subprocess.Popen(
        [*sidecar_command(), "--tcp", f"127.0.0.1:{port}"], env=sidecar_env(data), cwd=repo, stderr=subprocess.PIPE
    )
    try:
        client = await _connect(port)
        result = await client.initialize_session(initialize_params(repo))
        assert result.capabilities.text_document_sync.change == types.TextDocumentSyncKind.Incremental
        open_document(client, repo / "app.py")
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
    kinds = [e["kind"] for e in spooled(data)]
    assert kinds == ["session.started", "document.opened", "session.ended"]


@pytest.mark.slow
def test_bad_tcp_address_is_one_line_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [*sidecar_command(), "--tcp", "127.0.0.1:http"], env=sidecar_env(tmp_path), capture_output=True, text=True
    )
    assert done.returncode != 0 and "HOST:PORT" in done.stderr and "Traceback" not in done.stderr


def test_precedence_defaults_file_env_flags(tmp_path: Path) -> None:
    config = tmp_path / "lsp.toml"
    config.write_text("idle_seconds = 4.0\nbatch_max_events = 50\njunit_poll_seconds = 7.0\n")
    env = {"SMARTCO_IDLE_SECONDS": "5", "SMARTCO_BATCH_MAX_EVENTS": "60", "SMARTCO_LARGE_INSERT_CHARS": "99"}
    settings, problems = from_environment(env, {"idle_seconds": "3"}, config)
    assert problems == []
    assert settings.idle_seconds == 3.0  # flag > env > file
    assert settings.batch_max_events == 60  # env > file
    assert settings.junit_poll_seconds == 7.0  # file > default
    assert settings.large_insert_chars == 99  # env > default
    assert settings.survival_checkpoints == Settings().survival_checkpoints  # default
    editor, problems = from_editor(settings, {"smartco": {"idle_seconds": 0.7}})
    assert problems == [] and editor.idle_seconds == 0.7 and editor.batch_max_events == 60  # editor > flag


@pytest.mark.slow
async def test_precedence_in_the_running_sidecar(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    env = sidecar_env(data, idle_seconds=5, capture_all="false", large_insert_chars=60, batch_max_events=70)
    (data / "config" / "smartco").mkdir(parents=True)
    (data / "config" / "smartco" / "lsp.toml").write_text("batch_max_events = 50\njunit_poll_seconds = 7.5\n")
    flags = ("--idle-seconds", "3", "--capture-all", "--set", "large_insert_chars=65")
    async with sidecar(repo, env, options={"idle_seconds": 0.7}, args=flags) as client:
        settings = (await execute(client, "smartco.status"))["settings"]
    assert settings["idle_seconds"] == 0.7  # initializationOptions > flag > env
    assert settings["capture_all"] is True  # flag > env
    assert settings["large_insert_chars"] == 65  # --set flag > env
    assert settings["batch_max_events"] == 70  # env > user file
    assert settings["junit_poll_seconds"] == 7.5  # user file > default
    assert settings["survival_checkpoints"] == [30.0, 120.0, 600.0]  # default
    assert settings["token"] is None and settings["salt"] == "(set)"  # secrets are never shown


@pytest.mark.slow
async def test_invalid_options_are_shown_and_defaults_used_never_a_crash(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    options = {
        "idle_seconds": "soon",
        "survival_checkpoints": [600, 30],
        "spool_max_bytes": 10,
        "no_such_setting": True,
        "collector_url": "https://elsewhere.example",
        "pseudonymise": False,
        "large_insert_chars": 120,
    }
    async with sidecar(repo, sidecar_env(data, git_poll_seconds="-1"), options=options) as client:
        await until(lambda: len(client.messages) >= 7)
        settings = (await execute(client, "smartco.status"))["settings"]
        open_document(client, repo / "app.py")
        await until(lambda: spooled_kind(data, "document.opened"))
    text = "\n".join(m.message for m in client.messages)
    for name in ("idle_seconds", "survival_checkpoints", "spool_max_bytes", "no_such_setting", "collector_url"):
        assert name in text
    assert "pseudonymise" in text and "git_poll_seconds" in text  # the env's bad value too
    assert all(m.type in (types.MessageType.Warning, types.MessageType.Error) for m in client.messages)
    defaults = Settings()
    assert settings["idle_seconds"] == defaults.idle_seconds
    assert settings["survival_checkpoints"] == list(defaults.survival_checkpoints)
    assert settings["spool_max_bytes"] == defaults.spool_max_bytes
    assert settings["git_poll_seconds"] == defaults.git_poll_seconds  # the bad env value was skipped
    assert settings["collector_url"] is None and settings["pseudonymise"] is True
    assert settings["large_insert_chars"] == 120  # the valid option still applies
    assert spooled(data)[0]["actor"].startswith("u_")


@pytest.mark.slow
@pytest.mark.parametrize("options", [["not", "an", "object"], {"smartco": 3}])
async def test_malformed_initialization_options_are_shown(tmp_path: Path, options: object) -> None:
    repo = make_repo(tmp_path / "repo")
    async with sidecar(repo, sidecar_env(tmp_path / "data"), options=options) as client:
        await until(lambda: client.messages)
        status = await execute(client, "smartco.status")
    assert "initializationOptions" in client.messages[0].message
    assert status["capture"] == "on"


@pytest.mark.slow
async def test_collector_and_token_are_never_taken_from_the_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", files={"app.py": "x = 1\n", "notes.local.txt": "mine\n"})
    (repo / ".smartco-capture").write_text(
        'collector_url = "https://collector.elsewhere.example"\ntoken = "stolen"\ntoken_file = "/etc/hostname"\n'
        'exclude = ["*.local.txt"]\nidle_seconds = 9\n'
    )
    data = tmp_path / "data"
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    env = sidecar_env(data, collector_url="http://127.0.0.1:9", token_file=token_file)
    async with sidecar(repo, env) as client:
        await until(lambda: len(client.messages) >= 4)
        settings = (await execute(client, "smartco.status"))["settings"]
        for name in ("notes.local.txt", "app.py"):
            open_document(client, repo / name)
        await until(lambda: spooled_kind(data, "document.opened"))
    warnings = "\n".join(m.message for m in client.messages)
    for name in ("collector_url", "token", "token_file", "idle_seconds"):
        assert f"'{name}'" in warnings
    assert "stolen" not in warnings
    assert settings["collector_url"] == "http://127.0.0.1:9" and settings["token_file"] == str(token_file)
    assert settings["idle_seconds"] == 1.5
    assert {e.get("path") for e in spooled(data)} == {None, "app.py"}  # the repository may add exclusions


def test_token_comes_from_env(tmp_path: Path) -> None:
    assert from_environment({"SMARTCO_TOKEN": "t1"}, None, tmp_path / "none.toml")[0].resolved_token() == "t1"


def test_token_file(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("t2\n")
    settings, _ = from_environment({}, {"token_file": str(path)}, tmp_path / "none.toml")
    assert settings.resolved_token() == "t2"
    editor, problems = from_editor(settings, {"token": "t3", "token_file": "/tmp/x"})
    assert editor.resolved_token() == "t2" and len(problems) == 2
