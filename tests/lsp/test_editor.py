"""End to end with a real editor: headless Neovim types, saves and commits; the collector then holds the session."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsp.collector_client import collected, kinds, session_events
from lsp.sidecar import git, make_repo, replay, sidecar_env, spooled, status, wait_for

from collector_api.testing import running_collector
from trajectory.diffs import apply_diff

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]
SCRIPTS = Path(__file__).parent / "neovim"
README = Path(__file__).resolve().parents[2] / "README.md"
NVIM = shutil.which("nvim")
needs_nvim = pytest.mark.skipif(
    NVIM is None, reason="nvim is not installed (`make editor` installs it; CI runs `make test`)"
)


def readme_lua(title: str) -> str:
    """The README's Lua block that starts with `-- smartco: {title}`: the tests run the documented set-up."""
    blocks = re.findall(r"```lua\n(.*?)```", README.read_text(), flags=re.DOTALL)
    found = [block for block in blocks if block.startswith(f"-- smartco: {title}")]
    assert len(found) == 1, f"README.md has {len(found)} Lua blocks titled {title!r}"
    return found[0]


def editor_env(base: Path, env: dict[str, str]) -> dict[str, str]:
    """Neovim's own state (log, shada, swap) kept in tmp_path; `smartco` on PATH as the README assumes."""
    for name in ("XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        env[name] = str(base / name.lower())
    env["SMARTCO_E2E_DIR"] = str(base)
    bin_dir = str(Path(sys.executable).parent)
    assert shutil.which("smartco", path=bin_dir), f"no smartco script beside {sys.executable}"
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    return env


def run_neovim(base: Path, repo: Path, env: dict[str, str], init: str, script: str) -> subprocess.Popen[bytes]:
    (base / "init.lua").write_text(init)
    assert NVIM is not None
    args = [NVIM, "--headless", "-n", "-i", "NONE", "-u", str(base / "init.lua"), "app.py"]
    args += ["-c", f"luafile {SCRIPTS / script}"]
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


@needs_nvim
def test_neovim_session_reaches_the_collector_and_replays_to_the_saved_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    opened = (repo / "app.py").read_text()
    data = tmp_path / "data"
    with running_collector(tmp_path / "collector") as collector:
        env = editor_env(tmp_path, sidecar_env(data, collector))
        editor = run_neovim(tmp_path, repo, env, readme_lua("Neovim 0.7 setup"), "drive.lua")
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


@needs_nvim
def test_readme_completedone_snippet_reports_suggestions_despite_spurious_completedone(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    init = readme_lua("Neovim 0.7 setup") + readme_lua("report an assistant's completion items")
    editor = run_neovim(tmp_path, repo, editor_env(tmp_path, sidecar_env(data)), init, "suggest.lua")
    try:
        assert editor.wait(60) == 0, (tmp_path / "nvim.log").read_text(errors="replace")
    finally:
        if editor.poll() is None:
            editor.kill()
            editor.wait()
    if (tmp_path / "error").exists():
        pytest.fail(f"the Neovim driver failed: {(tmp_path / 'error').read_text()}")
    lines = (tmp_path / "saved").read_text().splitlines()
    assert lines[-3:] == ["result = compute_total(items)", "total = sorted", "other = "]
    events = [e for e in spooled(data) if e["kind"].startswith("suggestion.") and e["kind"] != "suggestion.survival"]
    # One `shown` per suggestion although each menu was built twice, and the CompleteDone fired for the first
    # menu (carrying the pre-inserted suggestion) was never taken for the end of the completion.
    assert [(e["kind"], e["payload"]["text"]) for e in events] == [
        ("suggestion.shown", "compute_total(items)"),
        ("suggestion.accepted", "compute_total(items)"),
        ("suggestion.shown", "sum(values)"),
        ("suggestion.rejected", "sum(values)"),
        ("suggestion.shown", "max(values)"),
        ("suggestion.rejected", "max(values)"),
    ]
    ids = [e["payload"]["suggestion_id"] for e in events]
    assert ids[0] == ids[1] != ids[2] == ids[3] != ids[4] == ids[5]
    accepted = events[1]["payload"]
    assert accepted["position"] == {"line": 2, "character": len("result = ")}
    assert accepted["model"] == "my-model" and accepted["provider"] == "[AI]"
    assert {e["path"] for e in events} == {"app.py"}
