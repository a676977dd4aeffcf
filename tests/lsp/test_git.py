"""Git watching: what is done in a terminal (commit, checkout, merge, amend, rebase, reset) reaches the spool."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lsp.sidecar import (
    change,
    edit,
    git,
    make_repo,
    open_document,
    replay,
    sidecar,
    sidecar_env,
    spooled,
    spooled_kind,
    status,
    until,
)
from lsprotocol import types

from lsp_agent.reflog import ReflogReader, parse_line
from trajectory.diffs import apply_diff
from trajectory.events import parse_event
from trajectory.privacy import pseudonymise

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]


def _commit(repo: Path, name: str, text: str, message: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


async def test_terminal_git_work_becomes_git_events(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    main_before = git(repo, "rev-parse", "HEAD").strip()
    async with sidecar(repo, sidecar_env(data)):
        token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2
        sha = _commit(repo, "app.py", f"def main():\n    return 2\n\nTOKEN = '{token}'\n", "return 2")
        commits = await until(lambda: spooled_kind(data, "git.commit"))
        git(repo, "checkout", "-q", "-b", "feature")
        await until(lambda: spooled_kind(data, "git.checkout"))
        feature = _commit(repo, "feature.py", "def feature():\n    return 'f'\n", "add feature")
        git(repo, "checkout", "-q", "main")
        main_tip = _commit(repo, "other.py", "x = 1\n", "other")
        git(repo, "merge", "-q", "--no-ff", "-m", "merge feature", "feature")
        merges = await until(lambda: spooled_kind(data, "git.merge"))
        git(repo, "commit", "-q", "--amend", "-m", "merge feature (amended)")
        amended = git(repo, "rev-parse", "HEAD").strip()
        await until(lambda: spooled_kind(data, "git.rebase"))
        git(repo, "checkout", "-q", "feature")
        _commit(repo, "feature.py", "def feature():\n    return 'g'\n", "change feature")
        before_rebase = git(repo, "rev-parse", "HEAD").strip()
        git(repo, "rebase", "-q", "main")
        rebased = git(repo, "rev-parse", "HEAD").strip()
        await until(lambda: [e for e in spooled_kind(data, "git.rebase") if e["payload"]["operation"] == "rebase"])
        git(repo, "reset", "-q", "--hard", "HEAD~1")
        await until(lambda: [e for e in spooled_kind(data, "git.rebase") if e["payload"]["operation"] == "reset"])
    events = spooled(data)
    for event in events:
        parse_event(event)  # every one is valid on the wire
    # A commit made in the second the sidecar started (the repository's first) may be recorded too: git's reflog
    # keeps whole seconds, and the sidecar would rather record one commit too many than lose one.
    first = next(e["payload"] for e in events if e["kind"] == "git.commit" and e["payload"]["sha"] == sha)
    assert first["sha"] == sha and first["parents"] == [main_before] and first["message"] == "return 2"
    assert first["branch"] == "main" and first["author"] == pseudonymise("dev@example.com", "test-salt")
    (change,) = first["files"]
    assert change["path"] == "app.py" and change["change_type"] == "modify"
    assert change["additions"] == 3 and change["deletions"] == 1
    assert (
        "+    return 2" in change["diff"] and token not in str(events) and "[REDACTED:github_token]" in change["diff"]
    )
    assert commits[0]["actor"] == events[0]["actor"]
    checkouts = [e["payload"] for e in spooled_kind(data, "git.checkout")]
    assert checkouts[0] == {"from_ref": "main", "to_ref": "feature", "from_sha": sha, "to_sha": sha}
    assert {"from_ref": "feature", "to_ref": "main", "from_sha": feature, "to_sha": sha} in checkouts
    merge = merges[0]["payload"]
    assert merge["parents"] == [main_tip, feature] and merge["message"] == "merge feature"
    assert [f["path"] for f in merge["files"]] == ["feature.py"]  # diffed against the first parent
    commit_shas = [e["payload"]["sha"] for e in spooled_kind(data, "git.commit")]
    assert feature in commit_shas and main_tip in commit_shas
    amend = next(e["payload"] for e in spooled_kind(data, "git.merge") if e["payload"]["sha"] == amended)
    assert amend["amend_of"] == merge["sha"]
    rewrites = {e["payload"]["operation"]: e["payload"] for e in spooled_kind(data, "git.rebase")}
    assert rewrites["amend"]["old_head"] == merge["sha"] and rewrites["amend"]["new_head"] == amended
    assert rewrites["rebase"]["old_head"] == before_rebase and rewrites["rebase"]["new_head"] == rebased
    assert rewrites["rebase"]["ref"] == "feature"
    assert rewrites["reset"]["old_head"] == rebased and rewrites["reset"]["new_head"] == amended
    # The picks of the rebase are not commits of their own: the rewrite says what happened.
    assert rebased not in commit_shas
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(len(events)))


async def test_fast_forward_merge_is_recorded_as_head_moving_on_its_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    start = git(repo, "rev-parse", "HEAD").strip()
    async with sidecar(repo, sidecar_env(data)):
        git(repo, "checkout", "-q", "-b", "topic")
        tip = _commit(repo, "topic.py", "def topic():\n    return 't'\n", "topic work")
        git(repo, "checkout", "-q", "main")
        git(repo, "merge", "-q", "--ff-only", "topic")
        moves = await until(
            lambda: [
                e
                for e in spooled_kind(data, "git.checkout")
                if e["payload"]["from_ref"] == "main" == e["payload"]["to_ref"]
            ]
        )
    assert moves[0]["payload"] == {"from_ref": "main", "to_ref": "main", "from_sha": start, "to_sha": tip}
    assert not spooled_kind(data, "git.merge")  # no merge commit was made
    assert [e["payload"]["sha"] for e in spooled_kind(data, "git.commit")].count(tip) == 1  # topic's commit, once


@pytest.mark.parametrize(
    "operation",
    [("checkout", "-q", "other"), ("merge", "-q", "--ff-only", "other"), ("reset", "-q", "--hard", "other")],
)
async def test_editor_reloading_what_git_wrote_is_a_resync_not_an_edit(
    tmp_path: Path, operation: tuple[str, ...]
) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    ours = (repo / "app.py").read_text()
    git(repo, "checkout", "-q", "-b", "other")
    theirs = "def main():\n    return 2\n\n\ndef helper():\n    return 3\n"
    _commit(repo, "app.py", theirs, "theirs")
    git(repo, "checkout", "-q", "main")
    async with sidecar(repo, sidecar_env(data), options={"idle_seconds": 0.3}) as client:
        doc = open_document(client, repo / "app.py")
        git(repo, *operation)  # the file changes on disk; the editor reloads it in one whole-document change
        edit(client, doc, 2, types.TextDocumentContentChangeWholeDocument(text=theirs))
        texts = await until(lambda: [e["payload"]["text"] for e in spooled_kind(data, "document.opened", "app.py")][1:])
        edit(client, doc, 3, change(1, 12, 1, 12, " + 1"))  # then the engineer types
        changed = await until(lambda: spooled_kind(data, "document.changed", "app.py"))
    assert texts == [theirs] and status(data)["git_reloads"] == 1
    assert len(changed) == 1 and apply_diff(theirs, changed[0]["payload"]["diff"]) == theirs.replace(
        "2\n", "2 + 1\n", 1
    )
    assert replay(spooled(data), "app.py") == theirs.replace("2\n", "2 + 1\n", 1)
    assert ours != theirs


async def test_edit_committed_before_its_episode_closes_stays_an_edit(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    ours = (repo / "app.py").read_text()
    typed = ours.replace("return 1", "return 10")
    async with sidecar(repo, sidecar_env(data), options={"idle_seconds": 1.0}) as client:
        doc = open_document(client, repo / "app.py")
        edit(client, doc, 2, change(1, 12, 1, 12, "0"))
        _commit(repo, "app.py", typed, "ten")  # a tool writes and commits the same text before the idle gap ends
        changed = await until(lambda: spooled_kind(data, "document.changed", "app.py"))
    assert apply_diff(ours, changed[0]["payload"]["diff"]) == typed
    assert len(spooled_kind(data, "document.opened", "app.py")) == 1 and status(data)["git_reloads"] == 0


async def test_commit_made_just_before_quitting_is_recorded(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    data = tmp_path / "data"
    async with sidecar(repo, sidecar_env(data, git_poll_seconds=60)):
        await until(lambda: spooled_kind(data, "session.started"))
        sha = _commit(repo, "app.py", "def main():\n    return 3\n", "return 3")
    kinds = [e["kind"] for e in spooled(data)]
    assert kinds[-2:] == ["git.commit", "session.ended"]
    assert spooled_kind(data, "git.commit")[0]["payload"]["sha"] == sha


def _line(old: str, new: str, message: str) -> str:
    return f"{old} {new} Dev <dev@example.com> 1700000000 +0100\t{message}\n"


def test_reflog_reader_folds_entries_into_actions(tmp_path: Path) -> None:
    a, b, c, d = ("a" * 40, "b" * 40, "c" * 40, "d" * 40)
    log = tmp_path / "HEAD"
    log.write_text(_line("0" * 40, a, "commit (initial): one"))
    reader = ReflogReader(log)
    assert reader.poll() == []  # what was there before it started is history, not news
    lines = [
        _line(a, b, "commit: two"),
        _line(b, c, "commit (amend): two again"),
        _line(c, c, "checkout: moving from main to topic"),
        _line(c, d, "rebase (start): checkout main"),
        _line(d, a, "rebase (pick): two"),
        _line(a, a, "rebase (finish): returning to refs/heads/topic"),
        _line(a, b, "merge topic: Merge made by the 'ort' strategy."),
        _line(b, a, "reset: moving to HEAD~1"),
        _line(a, c, "rebase -i (start): checkout main"),
        _line(c, a, "rebase -i (abort): returning to refs/heads/topic"),
        _line(a, d, "cherry-pick: three"),
    ]
    with log.open("a") as handle:
        handle.writelines(lines)
        handle.write(_line(d, a, "commit: half")[:30])  # a line still being written
    actions = reader.poll()
    assert [(x.kind, x.operation, x.old, x.new) for x in actions] == [
        ("commit", None, a, b),
        ("commit", "amend", b, c),
        ("checkout", None, c, c),
        ("rewrite", "rebase", c, a),
        ("merge", None, a, b),
        ("rewrite", "reset", b, a),
        ("commit", None, a, d),
    ]
    assert (actions[2].from_ref, actions[2].to_ref) == ("main", "topic")
    assert reader.poll() == []
    assert parse_line("not a reflog line") is None


def test_reflog_reader_started_late_still_sees_what_happened_since_the_session_began(tmp_path: Path) -> None:
    a, b, c = ("a" * 40, "b" * 40, "c" * 40)
    log = tmp_path / "HEAD"
    log.write_text(
        _line("0" * 40, a, "commit (initial): one") + _line(a, b, "commit: two").replace("1700000000", "1700000009")
    )
    reader = ReflogReader(log, since=1700000005.5)  # the session began between the two commits
    assert [(x.kind, x.new) for x in reader.poll()] == [("commit", b)]
    with log.open("a") as handle:
        handle.write(_line(b, c, "commit: three"))
    assert [x.new for x in reader.poll()] == [c]


def test_reflog_written_before_the_session_began_is_all_old_even_within_its_second(tmp_path: Path) -> None:
    # A commit made a moment before the sidecar started carries the same whole second as the start: the file's
    # modification time (finer than a second) says it is older, so it is not recorded as the session's.
    a, b = ("a" * 40, "b" * 40)
    log = tmp_path / "HEAD"
    log.write_text(_line("0" * 40, a, "commit (initial): one").replace("1700000000", "1700000005"))
    os.utime(log, (1700000005.2, 1700000005.2))
    assert ReflogReader(log, since=1700000005.7).poll() == []
    assert [x.new for x in ReflogReader(log, since=1700000005.1).poll()] == [a]  # written after: new
    with log.open("a") as handle:
        handle.write(_line(a, b, "commit: two").replace("1700000000", "1700000006"))
    os.utime(log, (1700000006.5, 1700000006.5))
    assert [x.new for x in ReflogReader(log, since=1700000006.0).poll()] == [b]
