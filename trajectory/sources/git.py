"""Commits of a local git repository as `git.commit` / `git.merge` events (used by the importer and the sidecar)."""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from trajectory.events import EventBase, make_event
from trajectory.payloads import MAX_BODY, MAX_DIFF, MAX_LIST
from trajectory.sources import GitError
from trajectory.sources.gitlog import MinedCommit, MinedFile, iter_commits
from trajectory.sources.identity import actor_id, is_bot, stable_event_id

log = logging.getLogger(__name__)

_SCP_URL = re.compile(r"^(?:[\w.-]+@)?([\w.-]+):(?!//)(.+)$")  # git@github.com:owner/name.git


def normalise_remote(url: str) -> str:
    """`https://github.com/Owner/Name.git`, `git@github.com:Owner/Name` ... -> `github.com/owner/name`."""
    url = url.strip()
    match = _SCP_URL.match(url)
    if match and "://" not in url:
        host, path = match.groups()
    else:
        rest = url.split("://", 1)[-1]
        rest = rest.rsplit("@", 1)[-1] if "@" in rest.split("/", 1)[0] else rest
        host, _, path = rest.partition("/")
        host = host.split(":", 1)[0]
    path = path.strip("/").removesuffix(".git")
    return f"{host.lower()}/{path.lower()}" if host else path.lower()


def repository_id(repo: Path) -> str:
    """The `repo` of events from this repository: its normalised `origin` (or first) remote, else a local id."""
    try:
        remotes = _git(repo, "remote").split()
        if remotes:
            name = "origin" if "origin" in remotes else remotes[0]
            url = _git(repo, "remote", "get-url", name).strip()
            if url and not _is_local_path(url):  # a clone of a clone on disk names no shared repository
                return normalise_remote(url)
    except GitError:
        pass
    return f"local/{repo.resolve().name}"


def _is_local_path(url: str) -> bool:
    return url.startswith(("/", "./", "../", "~", "file://")) or re.match(r"^[A-Za-z]:[\\/]", url) is not None


def commit_events(
    repo: Path,
    revs: list[str] | str,
    *,
    session_id: str,
    salt: str,
    source: str = "git",
    repo_id: str | None = None,
    start_seq: int = 0,
    walk: bool = True,
    bots: Iterable[str] = (),
) -> list[EventBase]:
    """Events for the commits `revs` names, oldest first, with seq numbers from `start_seq`.

    `revs` are revisions as `git log` takes them: `"HEAD~3..HEAD"`, `["main", "^v1.0"]`, `"--all"`; a single
    sha walks its whole ancestry unless `walk=False`, which gives exactly the commits named, in that order
    (`["abc123"]`).
    Event ids are deterministic from (repo, session, sha), so emitting the same commit twice is idempotent.
    """
    repo_name = repo_id or repository_id(repo)
    options = [] if walk else ["--no-walk=unsorted"]
    rev_list = [revs] if isinstance(revs, str) else list(revs)
    commits = iter_commits(repo, rev_list, options, oldest_first=walk)
    return list(
        events_from_commits(
            commits, session_id=session_id, salt=salt, source=source, repo_id=repo_name, start_seq=start_seq, bots=bots
        )
    )


def events_from_commits(
    commits: Iterable[MinedCommit],
    *,
    session_id: str,
    salt: str,
    source: str,
    repo_id: str,
    start_seq: int = 0,
    bots: Iterable[str] = (),
    branch: str | None = None,
) -> Iterator[EventBase]:
    """One event per mined commit: `git.merge` for commits with several parents, `git.commit` otherwise."""
    bot_list = tuple(bots)
    for seq, commit in enumerate(commits, start=start_seq):
        yield commit_event(
            commit,
            session_id=session_id,
            seq=seq,
            salt=salt,
            source=source,
            repo_id=repo_id,
            bots=bot_list,
            branch=branch,
        )


def commit_event(
    commit: MinedCommit,
    *,
    session_id: str,
    seq: int,
    salt: str,
    source: str,
    repo_id: str,
    bots: Sequence[str] = (),
    branch: str | None = None,
) -> EventBase:
    """The event of one mined commit; author and committer are pseudonymised, bots flagged before that."""
    kind = "git.merge" if commit.is_merge else "git.commit"
    author = commit.author_email or commit.author_name
    committer = commit.committer_email or commit.committer_name
    if len(commit.files) > MAX_LIST:
        log.warning("commit %s: %d files, keeping the first %d", commit.sha, len(commit.files), MAX_LIST)
    payload = {
        "sha": commit.sha,
        "parents": commit.parents[:64],
        "message": commit.message[:MAX_BODY],
        "author": actor_id(author, salt),
        "committer": actor_id(committer, salt),
        "authored_at": commit.authored_at,
        "committed_at": commit.committed_at,
        "branch": branch or commit.ref,
        "files": [_file_change(commit.sha, change) for change in commit.files[:MAX_LIST]],
        "is_bot": is_bot(commit.author_name, commit.author_email, extra=bots),
    }
    return make_event(
        kind,
        payload,
        id=stable_event_id(source, repo_id, session_id, kind, commit.sha),
        ts=commit.committed_at,
        session_id=session_id,
        seq=seq,
        actor=actor_id(author, salt),
        repo=repo_id,
        source=source,
    )


def _file_change(sha: str, change: MinedFile) -> dict[str, object]:
    diff = change.diff
    if diff is not None and len(diff) > MAX_DIFF:
        log.info("commit %s: diff of one file over %d characters left out", sha, MAX_DIFF)
        diff = None
    return {
        "path": change.path,
        "old_path": change.old_path,
        "change_type": change.change_type,
        "additions": change.additions,
        "deletions": change.deletions,
        "binary": change.binary,
        "diff": diff,
    }


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    except OSError as err:
        raise GitError(f"cannot run git in {repo}: {err}") from err
    if done.returncode != 0:
        raise GitError(f"git {args[0]} failed in {repo}: {done.stderr.strip()}")
    return done.stdout
