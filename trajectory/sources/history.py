"""Incremental import of a repository's history: what is new since the last run, rewrites detected, resumable."""

from __future__ import annotations

import hashlib
import logging
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from trajectory.events import EventBase, make_event
from trajectory.sources import GitError
from trajectory.sources.git import events_from_commits, repository_id
from trajectory.sources.gitlog import has_commits, iter_commits
from trajectory.sources.identity import actor_id, stable_event_id
from trajectory.sources.sink import Delivery, EventSink, batched
from trajectory.sources.state import Checkpoint, ImportState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GitImportSettings:
    """Everything one `smartco import git` run needs, built once at start-up."""

    repo: Path
    salt: str
    state_path: Path
    destination: str  # a collector URL or a JSONL path: state is kept per repository and destination
    branches: tuple[str, ...] = ()  # empty: the checked-out branch
    all_branches: bool = False
    since: str | None = None
    until: str | None = None
    max_commits: int | None = None
    bots: tuple[str, ...] = ()
    repo_id: str | None = None
    batch_size: int = 200


@dataclass
class Rewrite:
    """A ref that no longer descends from what was imported last time."""

    ref: str
    old: str
    new: str
    operation: str


@dataclass
class GitImportResult:
    """Counts of one import run, for the summary line."""

    repo_id: str
    commits: int = 0
    merges: int = 0
    files: int = 0
    events: int = 0
    skipped: int = 0  # already delivered by an interrupted run that this one resumed
    rewrites: list[Rewrite] = field(default_factory=list)
    delivery: Delivery = field(default_factory=Delivery)


def import_git(
    settings: GitImportSettings,
    sink: EventSink,
    *,
    on_total: Callable[[int], None] | None = None,
    on_commit: Callable[[], None] | None = None,
) -> GitImportResult:
    """Mine what is new on the chosen refs into `sink`; the state is saved after every delivered batch."""
    repo = settings.repo
    repo_id = settings.repo_id or repository_id(repo)
    result = GitImportResult(repo_id=repo_id)
    if not has_commits(repo):
        return result
    state = ImportState.load(settings.state_path)
    stream = state.stream(f"git|{repo_id}|{settings.destination}")
    tips = _tips(repo, settings)
    result.rewrites = [rewrite for ref, tip in tips.items() if (rewrite := _rewrite(repo, ref, stream.refs, tip))]
    revs = _revisions(repo, tips, stream.refs)
    plan = _plan_key([*revs, *(f"{ref}={tip}" for ref, tip in sorted(tips.items()))], settings)
    if stream.checkpoint is None or stream.checkpoint.plan != plan:
        stream.checkpoint = Checkpoint(plan=plan, base_seq=stream.next_seq)
    checkpoint = stream.checkpoint
    result.skipped = checkpoint.sent
    if on_total:
        on_total(_count(repo, revs, settings))
    session_id = f"git:{repo_id}"
    events = _events(repo, revs, settings, result, session_id, checkpoint.base_seq, on_commit)
    position = 0
    for batch in batched(events, settings.batch_size):
        position += len(batch)
        fresh = batch[max(0, checkpoint.sent - (position - len(batch))) :]
        if fresh:
            result.delivery.add(sink.send(fresh))
            checkpoint.sent = position
            state.save()
    result.events = position
    stream.refs.update(tips)
    stream.next_seq = checkpoint.base_seq + position
    stream.checkpoint = None
    state.save()
    return result


def _events(
    repo: Path,
    revs: list[str],
    settings: GitImportSettings,
    result: GitImportResult,
    session_id: str,
    base_seq: int,
    on_commit: Callable[[], None] | None,
) -> Iterator[EventBase]:
    seq = base_seq
    for rewrite in result.rewrites:
        yield _rewrite_event(repo, rewrite, settings, result.repo_id, session_id, seq)
        seq += 1
    commits = iter_commits(repo, revs, _options(settings))
    for event in events_from_commits(commits, session_id=session_id, salt=settings.salt, source="git",
                                     repo_id=result.repo_id, start_seq=seq, bots=settings.bots):  # fmt: skip
        result.commits += 1
        result.merges += event.kind == "git.merge"
        result.files += len(event.payload.files)  # type: ignore[attr-defined]
        if on_commit:
            on_commit()
        yield event


def _tips(repo: Path, settings: GitImportSettings) -> dict[str, str]:
    """ref name -> commit, for the refs this run mines."""
    if settings.all_branches:
        out = _git(repo, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
        return dict(line.split(" ", 1) for line in out.splitlines() if line)
    names = settings.branches or (_git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip(),)
    tips = {}
    for name in (name.removeprefix("refs/heads/") for name in names):  # one key per branch however it is named
        try:
            tips[name] = _git(repo, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}").strip()
        except GitError:
            raise GitError(f"no branch or commit named {name!r} in {repo}") from None
    return tips


def _revisions(repo: Path, tips: dict[str, str], known: dict[str, str]) -> list[str]:
    """The refs to mine, minus everything reachable from what was imported before (when that still exists).

    Refs are passed by name, not by sha, so that git's `--source` names the branch each commit was reached from.
    """
    excluded = sorted({sha for sha in known.values() if _exists(repo, sha)})
    return sorted(tips) + [f"^{sha}" for sha in excluded]


def _rewrite(repo: Path, ref: str, known: dict[str, str], tip: str) -> Rewrite | None:
    old = known.get(ref)
    if old is None or old == tip:
        return None
    if _exists(repo, old) and _is_ancestor(repo, old, tip):
        return None
    if not _exists(repo, old):
        operation = "unknown"
    elif _is_ancestor(repo, tip, old):
        operation = "reset"
    elif _parents(repo, old) == _parents(repo, tip):
        operation = "amend"
    else:
        operation = "rebase"
    log.info("history of %s was rewritten (%s): %s -> %s", ref, operation, old[:12], tip[:12])
    return Rewrite(ref=ref, old=old, new=tip, operation=operation)


def _rewrite_event(
    repo: Path, rewrite: Rewrite, settings: GitImportSettings, repo_id: str, session_id: str, seq: int
) -> EventBase:
    when, committer = _git(repo, "log", "-1", "--use-mailmap", "--format=%cI%x00%cE", rewrite.new).strip().split("\0")
    detail = f"{rewrite.ref} moved from {rewrite.old} to {rewrite.new}, which does not descend from it"
    payload = {"operation": rewrite.operation, "old_head": rewrite.old, "new_head": rewrite.new,
               "ref": rewrite.ref, "detail": detail}  # fmt: skip
    return make_event(
        "git.rebase",
        payload,
        id=stable_event_id("git", repo_id, session_id, "git.rebase", rewrite.ref, rewrite.old, rewrite.new),
        ts=when,
        session_id=session_id,
        seq=seq,
        actor=actor_id(committer, settings.salt),
        repo=repo_id,
        source="git",
    )


def _options(settings: GitImportSettings) -> list[str]:
    options = []
    if settings.since:
        options.append(f"--since={settings.since}")
    if settings.until:
        options.append(f"--until={settings.until}")
    if settings.max_commits:
        options.append(f"--max-count={settings.max_commits}")
    return options


def _count(repo: Path, revs: list[str], settings: GitImportSettings) -> int:
    return int(_git(repo, "rev-list", "--count", *_options(settings), *revs, "--").strip() or 0)


def _plan_key(revs: list[str], settings: GitImportSettings) -> str:
    text = "\n".join([*revs, *_options(settings), *settings.bots])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _exists(repo: Path, sha: str) -> bool:
    done = subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=repo, capture_output=True, check=False)
    return done.returncode == 0


def _is_ancestor(repo: Path, old: str, new: str) -> bool:
    command = ["git", "merge-base", "--is-ancestor", old, new]
    return subprocess.run(command, cwd=repo, capture_output=True, check=False).returncode == 0


def _parents(repo: Path, sha: str) -> str:
    return _git(repo, "rev-parse", f"{sha}^@").strip()


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    except OSError as err:
        raise GitError(f"cannot run git in {repo}: {err}") from err
    if done.returncode != 0:
        raise GitError(f"git {args[0]} failed in {repo}: {done.stderr.strip() or done.returncode}")
    return done.stdout
