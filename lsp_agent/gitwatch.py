"""Watches one repository's `.git` so that commits, merges, checkouts and rewrites made anywhere are recorded."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsp_agent.recording import Recording
from lsp_agent.reflog import GitAction, ReflogReader
from lsp_agent.repository import head_reflog, is_excluded, read_head
from lsp_agent.settings import Settings
from trajectory.privacy import Redaction, add_counts, redact, redact_diff
from trajectory.sources import GitError
from trajectory.sources.git import commit_event
from trajectory.sources.gitlog import iter_commits

logger = logging.getLogger(__name__)

Emit = Callable[..., Any]  # (recording, kind, payload, path=, counts=, ts=, event_id=)


@dataclass
class Committed:
    """A commit that was recorded: the survival of accepted suggestions is measured against it."""

    recording: Recording
    sha: str


class GitWatch:
    """One repository's HEAD reflog, polled; each new entry becomes `git.*` events in `recording`."""

    def __init__(
        self,
        recording: Recording,
        settings: Settings,
        salt: str,
        emit: Emit,
        on_commit: Callable[[Committed], None] | None = None,
        since: float | None = None,
    ) -> None:
        self.recording = recording
        self.root = recording.repository.root
        self.settings = settings
        self.salt = salt
        self.emit = emit
        self.on_commit = on_commit
        self.reader = ReflogReader(head_reflog(self.root), since)

    def poll(self) -> int:
        """Record what happened since the last poll; returns how many actions were seen."""
        actions = self.reader.poll()
        for action in actions:
            try:
                self.handle(action)
            except GitError as err:
                logger.warning("git action %s at %s not recorded: %s", action.kind, action.new[:12], err)
        return len(actions)

    def handle(self, action: GitAction) -> None:
        if action.kind in ("commit", "merge"):
            self._commit(action)
        elif action.kind == "checkout":
            payload = {"from_ref": action.from_ref, "to_ref": action.to_ref or action.new}
            payload |= {"from_sha": action.old, "to_sha": action.new}
            self.emit(self.recording, "git.checkout", payload)
        elif action.kind == "rewrite":
            self._rewrite(action)

    def _fast_forward(self, action: GitAction) -> None:
        """A merge or pull that only moved the branch onto commits made elsewhere: no commit of this session, but
        HEAD (and the files under the editor) moved, which is what a checkout records: same ref, new commit."""
        branch = read_head(self.root)[1]
        payload = {"from_ref": branch, "to_ref": branch or action.new, "from_sha": action.old, "to_sha": action.new}
        self.emit(self.recording, "git.checkout", payload)

    def _rewrite(self, action: GitAction) -> None:
        payload = {"operation": action.operation or "unknown", "old_head": action.old, "new_head": action.new}
        payload |= {"ref": read_head(self.root)[1], "detail": action.detail}
        self.emit(self.recording, "git.rebase", payload)

    def _commit(self, action: GitAction) -> None:
        commits = list(iter_commits(self.root, [action.new], ["--no-walk=unsorted"], oldest_first=False))
        mined = commits[0] if commits else None
        if mined is None:
            return
        if action.kind == "merge" and not mined.is_merge:
            self._fast_forward(action)
            return
        event = commit_event(
            mined,
            session_id=self.recording.session_id,
            seq=0,  # the recording assigns the real one
            salt=self.salt,
            source="sidecar",
            repo_id=self.recording.repository.id,
            branch=read_head(self.root)[1],
        )
        payload, counts = self._private(event.payload.model_dump())
        if not self.settings.pseudonymise:
            payload["author"] = mined.author_email or mined.author_name
            payload["committer"] = mined.committer_email or mined.committer_name
        if action.operation == "amend":
            payload["amend_of"] = action.old
        self.emit(self.recording, event.kind, payload, counts=counts, ts=event.ts, event_id=event.id)
        if action.operation == "amend":
            self._rewrite(action)
        if self.on_commit is not None:
            self.on_commit(Committed(self.recording, action.new))

    def _private(self, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
        """Message and diffs redacted; excluded files keep their path and stats but lose their diff."""
        counts: dict[str, int] = {}
        message = redact(payload["message"])
        payload["message"] = message.text
        add_counts(counts, message.counts)
        for change in payload["files"]:
            if is_excluded(change["path"], self.settings, self.recording.repository.exclude):
                change["diff"] = None
            elif change.get("diff"):
                red: Redaction = redact_diff(change["diff"])
                change["diff"] = red.text
                add_counts(counts, red.counts)
        return payload, counts


def read_at(root: Path, sha: str, path: str) -> str | None:
    """The text of `path` in commit `sha` (None when it does not exist there)."""
    try:
        done = subprocess.run(["git", "show", f"{sha}:{path}"], cwd=root, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None
