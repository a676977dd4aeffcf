"""commit_events on real repositories: change types, renames, binaries, merges, mailmap, bots, exact diffs."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from sources.gitrepo import GitRepo

from trajectory.diffs import apply_diff, parse_diff
from trajectory.events import event_to_dict, parse_event
from trajectory.privacy import pseudonymise
from trajectory.sources.git import commit_events, normalise_remote, repository_id
from trajectory.sources.gitlog import log_command, parse_log

SALT = "team-salt"


def _by_message(events: list) -> dict[str, object]:
    return {event.payload.message.splitlines()[0]: event for event in events}


def test_every_commit_becomes_one_event_oldest_first(rich_repo: GitRepo) -> None:
    events = commit_events(rich_repo.path, "main", session_id="s1", salt=SALT, start_seq=5)
    messages = [event.payload.message for event in events]
    assert messages[0] == "Initial commit\n\nWith a body."
    assert len(events) == 7
    assert [event.seq for event in events] == list(range(5, 12))
    assert [event.kind for event in events].count("git.merge") == 1
    assert all(event.repo == "local/repo" and event.source == "git" for event in events)
    for event in events:  # the wire form round-trips
        assert parse_event(event_to_dict(event)) == event


def test_change_types_renames_binaries_and_odd_paths(rich_repo: GitRepo) -> None:
    events = _by_message(commit_events(rich_repo.path, "main", session_id="s", salt=SALT))
    first = {change.path: change for change in events["Initial commit"].payload.files}
    assert first["logo.png"].binary and first["logo.png"].diff is None and first["logo.png"].change_type == "add"
    assert first["src/app.py"].additions == 2 and first["src/app.py"].change_type == "add"
    second = {change.path: change for change in events["Change main, rename readme"].payload.files}
    assert second["README.rst"].change_type == "rename" and second["README.rst"].old_path == "README.md"
    assert (second["src/app.py"].additions, second["src/app.py"].deletions) == (5, 1)
    third = {change.path: change for change in events["Odd path, drop logo"].payload.files}
    assert third["logo.png"].change_type == "delete" and third["logo.png"].binary
    assert third['odd dir/tab\tand "quote" é.txt'].change_type == "add"


def test_diffs_are_exact_and_carry_line_numbers(rich_repo: GitRepo) -> None:
    events = _by_message(commit_events(rich_repo.path, "main", session_id="s", salt=SALT))
    event = events["Change main, rename readme"]
    change = next(change for change in event.payload.files if change.path == "src/app.py")
    before = rich_repo.git("show", f"{event.payload.parents[0]}:src/app.py")
    after = rich_repo.git("show", f"{event.payload.sha}:src/app.py")
    assert apply_diff(before, change.diff) == after
    parsed = parse_diff(change.diff)
    assert parsed.deleted == [(2, "    return 1")]
    assert (2, "    return 2") in parsed.added and (5, "def other():") in parsed.added


def test_merge_is_diffed_against_its_first_parent(rich_repo: GitRepo) -> None:
    events = _by_message(commit_events(rich_repo.path, "main", session_id="s", salt=SALT))
    merge = events["Merge feature"]
    assert merge.kind == "git.merge" and len(merge.payload.parents) == 2
    assert merge.payload.parents[0] == rich_repo.head("HEAD~1^1")
    assert [(c.path, c.change_type, c.additions) for c in merge.payload.files] == [("src/feature.py", "add", 1)]


def test_mailmap_pseudonymised_identities_and_bots(rich_repo: GitRepo) -> None:
    events = _by_message(commit_events(rich_repo.path, "main", session_id="s", salt=SALT))
    feature = events["Add feature"]
    assert feature.actor == pseudonymise("grace@example.com", SALT) == feature.payload.author
    assert "example" not in str(event_to_dict(feature))
    assert events["Odd path, drop logo"].payload.is_bot
    assert not events["Main moves on"].payload.is_bot
    assert events["Main moves on"].payload.committer == pseudonymise("ada@example.com", SALT)


def test_ids_are_deterministic_and_walk_false_names_exact_commits(rich_repo: GitRepo) -> None:
    head = rich_repo.head()
    once = commit_events(rich_repo.path, "main", session_id="s", salt=SALT)
    again = commit_events(rich_repo.path, ["main"], session_id="s", salt=SALT)
    assert [event.id for event in once] == [event.id for event in again]
    exact = commit_events(rich_repo.path, [head, rich_repo.head("HEAD~2")], session_id="s", salt=SALT, walk=False)
    assert [event.payload.sha for event in exact] == [head, rich_repo.head("HEAD~2")]
    ranged = commit_events(rich_repo.path, "HEAD~1..HEAD", session_id="s", salt=SALT, repo_id="github.com/o/n")
    assert [event.payload.sha for event in ranged] == [head]
    assert ranged[0].repo == "github.com/o/n"


def test_branch_and_all_branches(rich_repo: GitRepo) -> None:
    rich_repo.git("checkout", "-q", "-b", "topic", "HEAD~3")
    rich_repo.write("topic.txt", "t\n")
    rich_repo.commit("Topic work")
    main_only = commit_events(rich_repo.path, "main", session_id="s", salt=SALT)
    everything = commit_events(rich_repo.path, "--all", session_id="s", salt=SALT)
    assert len(everything) == len(main_only) + 1
    topic = next(event for event in everything if event.payload.message == "Topic work")
    assert topic.payload.branch == "topic"
    assert {event.payload.branch for event in main_only} == {"main"}


def test_empty_repository_gives_no_events(git_repo: GitRepo) -> None:
    assert commit_events(git_repo.path, "HEAD", session_id="s", salt=SALT) == []


def test_commit_message_without_trailing_newline(git_repo: GitRepo) -> None:
    git_repo.write("a.txt", "a\n")
    git_repo.git("add", "-A")
    tree = git_repo.git("write-tree").strip()
    sha = git_repo.git("commit-tree", tree, "-m", "no newline").strip()
    raw = git_repo.git("cat-file", "commit", sha)
    stripped = raw.rstrip("\n")
    obj = (
        subprocess.run(
            ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
            cwd=git_repo.path,
            input=stripped.encode(),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    [event] = commit_events(git_repo.path, [obj], session_id="s", salt=SALT, walk=False)
    assert event.payload.message == "no newline"
    assert [change.path for change in event.payload.files] == ["a.txt"]


def test_remote_urls_are_normalised(git_repo: GitRepo) -> None:
    assert normalise_remote("git@github.com:Owner/Name.git") == "github.com/owner/name"
    assert normalise_remote("https://user:pw@GitHub.com/Owner/Name.git/") == "github.com/owner/name"
    assert (
        normalise_remote("ssh://git@gitlab.example.com:2222/group/sub/proj.git") == "gitlab.example.com/group/sub/proj"
    )
    git_repo.git("remote", "add", "origin", str(git_repo.path.parent / "elsewhere" / "widget"))
    assert repository_id(git_repo.path) == "local/repo"  # a clone of a clone on disk
    git_repo.git("remote", "set-url", "origin", "git@github.com:Acme/Widget.git")
    assert repository_id(git_repo.path) == "github.com/acme/widget"
    assert repository_id(Path(git_repo.path)) == "github.com/acme/widget"


def test_times_are_the_same_instants_in_utc_and_parents_keep_their_order(rich_repo: GitRepo) -> None:
    events = commit_events(rich_repo.path, "main", session_id="s", salt=SALT)
    for event in events:
        sha = event.payload.sha
        authored, committed, parents = rich_repo.git("show", "-s", "--format=%aI|%cI|%P", sha).strip().split("|")
        assert authored.endswith("+01:00")  # GitRepo commits at +0100; events carry UTC
        assert event.payload.authored_at == datetime.fromisoformat(authored)
        assert event.payload.authored_at.utcoffset() == timedelta(0)
        assert event.payload.committed_at == datetime.fromisoformat(committed) == event.ts
        assert event.payload.parents == parents.split()
    assert [event.payload.committed_at for event in events] == sorted(event.payload.committed_at for event in events)


def test_stream_cut_anywhere_parses_the_same(rich_repo: GitRepo) -> None:
    command = log_command(["--all"])
    stream = subprocess.run(command, cwd=rich_repo.path, capture_output=True, check=True).stdout
    whole = list(parse_log([stream]))
    assert len(whole) == 7
    for size in (1, 2, 3, 5, 64):
        assert list(parse_log(stream[start : start + size] for start in range(0, len(stream), size))) == whole
    assert list(parse_log(stream.splitlines(keepends=True))) == whole
