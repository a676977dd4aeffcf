"""End to end with a real editor: headless Neovim types, saves and commits; the collector then holds the session."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from lsp.collector_client import collected, kinds, session_events
from lsp.sidecar import git, make_repo, replay, sidecar_command, sidecar_env, status, wait_for

from collector_api.testing import running_collector
from trajectory.diffs import apply_diff

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]
DRIVER = Path(__file__).parent / "neovim" / "drive.lua"
NVIM = shutil.which("nvim")

# Written by the test as a user would write it for Neovim 0.7 (no lspconfig): the sidecar is started once and
# attached to every buffer that has a file type.
INIT_LUA = """
vim.cmd('filetype on')
vim.api.nvim_create_autocmd('FileType', {
  pattern = '*',
  callback = function(args)
    if vim.bo[args.buf].buftype ~= '' then return end
    _G.smartco_client_id = _G.smartco_client_id or vim.lsp.start_client({
      name = 'smartco',
      cmd = vim.fn.json_decode([==[CMD]==]),
      root_dir = vim.fn.getcwd(),
      init_options = { smartco = { idle_seconds = 0.5 } },
    })
    vim.lsp.buf_attach_client(args.buf, _G.smartco_client_id)
  end,
})
"""


def editor_env(base: Path, env: dict[str, str]) -> dict[str, str]:
    """Neovim's own state (log, shada, swap) kept in tmp_path; the sidecar inherits the rest."""
    for name in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env[name] = str(base / name.lower())
    env["SMARTCO_E2E_DIR"] = str(base)
    return env


def run_neovim(base: Path, repo: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    init = base / "init.lua"
    init.write_text(INIT_LUA.replace("CMD", json.dumps(sidecar_command())))
    assert NVIM is not None
    args = [NVIM, "--headless", "-n", "-i", "NONE", "-u", str(init), "app.py", "-c", f"luafile {DRIVER}"]
    log = (base / "nvim.log").open("wb")
    return subprocess.Popen(args, cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


def wait_step(base: Path, editor: subprocess.Popen[bytes], name: str, timeout: float) -> None:
    def reached() -> bool:
        if (base / "error").exists():
            pytest.fail(f"the Neovim driver failed: {(base / 'error').read_text()}")
        if editor.poll() is not None:
            pytest.fail(f"Neovim exited with {editor.returncode}: {(base / 'nvim.log').read_text(errors='replace')}")
        return (base / name).exists()

    wait_for(reached, timeout)


@pytest.mark.skipif(NVIM is None, reason="nvim is not installed (`make editor` installs it; CI runs `make test`)")
def test_neovim_session_reaches_the_collector_and_replays_to_the_saved_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    opened = (repo / "app.py").read_text()
    data = tmp_path / "data"
    with running_collector(tmp_path / "collector") as collector:
        editor = run_neovim(tmp_path, repo, editor_env(tmp_path, sidecar_env(data, collector)))
        try:
            wait_step(tmp_path, editor, "committed", 90)
            head = git(repo, "rev-parse", "HEAD").strip()
            # Neovim stays open until the sidecar has seen the commit (made by git, not through the editor).
            wait_for(lambda: head in {e["payload"].get("sha") for e in collected(collector)}, 30)
            (tmp_path / "quit").write_text("")
            assert editor.wait(30) == 0, (tmp_path / "nvim.log").read_text(errors="replace")
        finally:
            if editor.poll() is None:
                editor.kill()
                editor.wait()
        wait_for(lambda: "session.ended" in kinds(collected(collector)), 30)
        everything = collected(collector)
        session_id = next(e["session_id"] for e in everything if e["kind"] == "session.started")
        events = session_events(collector, session_id)

    saved_bytes = (repo / "app.py").read_bytes()
    assert [e["seq"] for e in events] == list(range(len(events)))  # the whole session, no gap
    assert {e["session_id"] for e in everything} == {session_id}
    found = kinds(events)
    assert found[0] == "session.started" and found[-1] == "session.ended"
    assert events[0]["payload"]["editor"] == "Neovim"
    assert events[-1]["payload"]["reason"] == "shutdown"  # Neovim never sends didClose at quit
    assert "document.closed" not in found
    assert found.count("document.changed") >= 3  # typing paused longer than the idle gap twice
    opened_event = next(e for e in events if e["kind"] == "document.opened")
    assert opened_event["payload"]["text"] == opened
    assert replay(events, "app.py").encode() == saved_bytes
    saved = next(e for e in events if e["kind"] == "document.saved")
    assert saved["payload"]["text"].encode() == saved_bytes
    assert "ünïcødé 🎉" in saved["payload"]["text"] and "def entry():" in saved["payload"]["text"]
    assert found.index("document.saved") > max(i for i, k in enumerate(found) if k == "document.changed")
    commit = next(e for e in events if e["kind"] == "git.commit")
    assert commit["payload"]["sha"] == git(repo, "rev-parse", "HEAD").strip()
    assert commit["payload"]["message"].strip() == "typed in neovim"
    (change,) = commit["payload"]["files"]
    assert change["path"] == "app.py"
    assert apply_diff(opened, change["diff"]).encode() == saved_bytes
    assert status(data)["mirror_resync"] == 0  # the mirror followed every keystroke without help
