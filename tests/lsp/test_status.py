"""`smartco lsp status|pause|resume` and the LSP commands: what is queued and redacted; recording stops and restarts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lsp.sidecar import (
    change,
    edit,
    execute,
    git,
    make_repo,
    open_document,
    replay,
    save,
    sidecar,
    sidecar_command,
    sidecar_env,
    spooled,
    spooled_kind,
    status,
    until,
)

pytestmark = pytest.mark.timeout(90)


def _cli(data: Path, *args: str) -> str:
    done = subprocess.run([*sidecar_command(), *args], env=sidecar_env(data), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
async def test_status_shows_queue_and_redactions_in_the_cli_and_the_lsp_command(tmp_path: Path) -> None:
    token = "ghp_" + "Q9w8E7r6T5y4U3i2O1p0" * 2
    repo = make_repo(tmp_path / "repo", files={"app.py": f"TOKEN = '{token}'\nPASSWORD = 'Xk9!pQ2#mZ7$wL4v'\n"})
    data = tmp_path / "data"
    async with sidecar(repo, sidecar_env(data)) as client:
        open_document(client, repo / "app.py")
        await until(lambda: spooled_kind(data, "document.opened"))
        from_lsp = await execute(client, "smartco.status")
        from_cli = status(data)  # read while the sidecar runs: the spool is in WAL mode
        text = _cli(data, "status")
    for summary in (from_lsp, from_cli):
        assert summary["queued"] == 2 and summary["queued_by_kind"] == {"session.started": 1, "document.opened": 1}
        assert summary["redacted"] == {"github_token": 1, "assigned_secret": 1} and summary["redacted_total"] == 2
        assert summary["paused"] is False and summary["dropped"] == 0
    assert from_lsp["sessions"] == {str(repo): spooled(data)[0]["session_id"]}
    assert "queued: 2 events" in text and "github_token 1" in text and "capture: on" in text
    assert token not in text and token not in str(from_lsp)


@pytest.mark.slow
async def test_pause_and_resume_from_the_cli_and_the_lsp(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    async with sidecar(repo, sidecar_env(data), options={"idle_seconds": 600}) as client:
        doc = open_document(client, repo / "app.py")
        edit(client, doc, 2, change(1, 12, 1, 12, "0"))  # before the pause: recorded
        assert _cli(data, "pause").strip() == "capture paused"
        assert (await execute(client, "smartco.status"))["paused"] is True  # the sidecar sees the CLI's pause
        edit(client, doc, 3, change(1, 13, 1, 13, "0"))  # typed while paused: "100"
        save(client, doc, "def main():\n    return 100\n")
        (repo / "app.py").write_text("def main():\n    return 100\n")
        git(repo, "commit", "-q", "-am", "while paused")
        assert "capture: paused" in _cli(data, "status")
        await execute(client, "smartco.resume")
        assert (await execute(client, "smartco.status"))["paused"] is False
        edit(client, doc, 4, change(1, 14, 1, 14, "0"))  # after: recorded again, on top of a fresh snapshot
        save(client, doc, "def main():\n    return 1000\n")
        await until(lambda: spooled_kind(data, "document.saved"))
        await execute(client, "smartco.pause")
        assert "capture paused" not in _cli(data, "status") and "capture: paused" in _cli(data, "status")
        _cli(data, "resume")
        assert (await execute(client, "smartco.status"))["paused"] is False
    events = spooled(data)
    assert spooled_kind(data, "git.commit") == []
    assert [e["payload"]["text"] for e in spooled_kind(data, "document.saved")] == ["def main():\n    return 1000\n"]
    changed = [e["payload"]["diff"] for e in spooled_kind(data, "document.changed")]
    assert len(changed) == 2 and "+    return 10\n" in changed[0] and "+    return 1000\n" in changed[1]
    assert not any("+    return 100\n" in d for d in changed)  # nothing typed while paused
    reopened = spooled_kind(data, "document.opened")[1]["payload"]["text"]
    assert reopened == "def main():\n    return 100\n"  # the snapshot taken on resume
    assert replay(events, "app.py") == "def main():\n    return 1000\n"
