"""What the sidecar records about documents, and the sessions it records them in (no LSP types here)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsp_agent import __version__
from lsp_agent.episode import Episode, EpisodeTracker
from lsp_agent.gitwatch import read_at
from lsp_agent.mirror import Mirror
from lsp_agent.recording import Recording, content_hash, flush_orphan_gaps
from lsp_agent.refactor import MoveLog, detect_rename
from lsp_agent.reflog import last_entry
from lsp_agent.repository import (
    Repository,
    find_root,
    git_identity,
    head_reflog,
    is_excluded,
    is_opted_in,
    opt_in,
    read_head,
    repo_id,
    repository_settings,
)
from lsp_agent.repowatch import RepositoryWatch
from lsp_agent.settings import Settings
from lsp_agent.spool import Spool
from lsp_agent.suggestion import SurvivalTracker, suggestion_payload
from lsp_agent.uploader import Uploader
from lsp_agent.watcher import Watcher
from trajectory.diffs import count_changes, unified_diff
from trajectory.events import EventBase
from trajectory.ids import uuid7
from trajectory.privacy import Redaction, pseudonymise, redact

logger = logging.getLogger(__name__)

Range = tuple[tuple[int, int], tuple[int, int]]
SPOOL_FILE = "spool.sqlite3"


@dataclass
class Tracked:
    """A document that is being recorded: where it lives and the last text redacted for it."""

    uri: str
    path: str
    recording: Recording
    cache: tuple[str, Redaction] | None = None


@dataclass
class ClientInfo:
    name: str | None = None
    version: str | None = None


@dataclass
class Capture:
    """The recording state of one sidecar process; the LSP handlers and watchers call into it."""

    settings: Settings
    clock: Callable[[], float] = time.monotonic
    client: ClientInfo = field(default_factory=ClientInfo)

    def __post_init__(self) -> None:
        self.mirror = Mirror()
        self.episodes = EpisodeTracker(self.settings.idle_seconds, self.clock)
        self.spool = Spool(self.settings.data_dir / SPOOL_FILE, self.settings.spool_max_bytes)
        s = self.settings
        self.uploader = Uploader(
            self.spool, s.collector_url, s.resolved_token(), s.batch_max_events, s.upload_interval, s.backoff_max
        )
        self.recordings: dict[Path, Recording] = {}
        self.documents: dict[str, Tracked] = {}
        self.survival = SurvivalTracker(s.survival_checkpoints, self.clock)
        self.started_at = time.time()  # git actions from then on are recorded, even those before a session opens
        self.watcher = Watcher()
        self.watches: dict[str, RepositoryWatch] = {}  # by session id
        self._paused_until_check = 0.0
        self._lsp_thread = threading.get_ident()  # documents and episodes are only touched from this thread
        self._paused = False
        self.notify: Callable[[str], None] = lambda message: logger.warning("%s", message)
        self.moves = MoveLog(self.clock)

    # -- sessions -------------------------------------------------------------------------------------
    def start(self, roots: Sequence[Path]) -> None:
        """Ship what an earlier run left in the spool, and open sessions for opted-in workspace roots."""
        flush_orphan_gaps(self.spool, set())
        self.uploader.start()
        for root in roots:
            found = find_root(root)
            if found is not None:
                self.recording_for_root(found)

    def enable(self, paths: Sequence[Path]) -> list[Path]:
        """Opt the repositories holding `paths` in (local marker) and start recording there; returns their roots."""
        roots = [root for path in paths if (root := find_root(path.resolve())) is not None]
        for root in roots:
            opt_in(root)
            self.recording_for_root(root)
        return roots

    def recording_for_root(self, root: Path) -> Recording | None:
        if root in self.recordings:
            return self.recordings[root]
        if not is_opted_in(root, self.settings):
            return None
        own, problems = repository_settings(root)
        for problem in problems:
            self.notify(problem)
        repository = Repository(root, repo_id(root), own["exclude"], own["junit_globs"])
        recording = Recording(self.spool, repository, self._actor(root))
        self.recordings[root] = recording
        head, branch = read_head(root)
        payload = {"editor": self.client.name, "editor_version": self.client.version, "agent_version": __version__}
        payload |= {"git_head": head, "git_branch": branch}
        self._record(recording, "session.started", payload)
        self._watch(recording)
        logger.info("recording session %s in %s", recording.session_id, recording.repository.id)
        return recording

    def _watch(self, recording: Recording) -> None:
        watch = RepositoryWatch(recording, self.settings, self.salt(), self._record, self.survival, self.started_at)
        self.watches[recording.session_id] = watch
        watch.start(self.watcher)

    def _actor(self, root: Path) -> str:
        identity = self.settings.actor or git_identity(root) or "unknown"
        if not self.settings.pseudonymise:
            return identity
        return pseudonymise(identity, self.salt())

    def salt(self) -> str:
        if self.settings.salt:
            return self.settings.salt
        salt = self.spool.get_state("salt")
        if salt is None:
            salt = uuid7().hex
            self.spool.set_state("salt", salt)
        return salt

    def paused(self, refresh: bool = False) -> bool:
        """Whether capture is paused; the spool's flag (set by any sidecar or the CLI) is re-read every second."""
        now = self.clock()
        if threading.get_ident() != self._lsp_thread:
            return self._paused  # the watcher thread reads the state; the LSP thread's tick keeps it current
        if refresh or now >= self._paused_until_check:
            self._paused_until_check = now + 1.0
            self._switch(self.spool.get_state("paused") == "1")
        return self._paused

    def set_paused(self, paused: bool) -> None:
        self.spool.set_state("paused", "1" if paused else "0")
        self._paused_until_check = self.clock() + 1.0
        self._switch(paused)

    def _switch(self, paused: bool) -> None:
        """Pausing records the episodes already under way; resuming records each open document afresh, because
        what was typed in between is not recorded and later diffs must apply to something."""
        if paused == self._paused:
            return
        if paused:
            for episode in self.episodes.close_all():
                self._emit_episode(episode)
        self._paused = paused
        if not paused:
            for uri, tracked in list(self.documents.items()):
                if (document := self.mirror.get(uri)) is not None:
                    self._snapshot(tracked, document.text, document.version, document.language_id)

    def _record(self, recording: Recording, kind: str, payload: dict[str, Any], **kw: Any) -> EventBase | None:
        if self.paused() and kind not in ("session.started", "session.ended"):
            return None
        return recording.record(kind, payload, **kw)

    def shutdown(self, reason: str = "shutdown") -> None:
        """Flush open episodes (didClose is never sent for buffers open at quit), end every session."""
        for episode in self.episodes.close_all():
            self._emit_episode(episode)
        self.watcher.stop()  # after one last poll: a commit made just before quitting is still recorded
        for recording in self.recordings.values():
            recording.flush_gap()
            payload = {"reason": reason, "events_recorded": recording.recorded + 1}
            recording.record("session.ended", payload)
        self.recordings.clear()
        self.uploader.wake()

    def close(self, drain_seconds: float = 0.0) -> None:
        self.uploader.stop(drain_seconds)
        self.spool.close()

    # -- documents ------------------------------------------------------------------------------------
    def track(self, uri: str) -> Tracked | None:
        if not uri.startswith("file://"):
            return None
        from pygls.uris import to_fs_path

        fs_path = to_fs_path(uri)
        root = find_root(Path(fs_path).parent) if fs_path else None
        recording = self.recording_for_root(root) if root else None
        if recording is None:
            return None
        path = recording.repository.relative(Path(fs_path))  # type: ignore[arg-type]
        if path is None or is_excluded(path, self.settings, recording.repository.exclude):
            return None
        return Tracked(uri, path, recording)

    def opened(self, uri: str, text: str, version: int | None, language_id: str | None) -> None:
        tracked = self.track(uri)
        if tracked is None:
            return
        self.documents[uri] = tracked
        self.mirror.open(uri, text, version, language_id)
        self._moved_by_content(tracked, self._snapshot(tracked, text, version, language_id))

    def _snapshot(self, tracked: Tracked, text: str, version: int | None, language_id: str | None) -> str:
        """Record a document's whole (redacted) text as `document.opened`; returns its content hash."""
        red = self._redact(tracked, text)
        digest = content_hash(red.text)
        payload = {"language_id": language_id, "version": version, "text": red.text}
        payload |= {"content_hash": digest, "redactions": red.total}
        self._record(tracked.recording, "document.opened", payload, path=tracked.path, counts=red.counts)
        return digest

    def changed(self, uri: str, version: int | None, changes: Sequence[tuple[Range | None, str]]) -> None:
        """Apply changes to the mirror; the text before them is kept by the episode they start or extend."""
        document = self.mirror.get(uri)
        if document is None:
            return
        episode, switched = self.episodes.touch(uri, document.lines, document.version)
        for range_, text in changes:
            if range_ is None:
                document.replace_all(text)
            else:
                document.apply(range_[0], range_[1], text)
                if len(text) >= self.settings.large_insert_chars:
                    episode.inserts.append(text)
            episode.changes += 1
        document.version = episode.version_to = version
        for closed in switched:
            self._emit_episode(closed)
        if self.paused():
            self.episodes.close(uri)  # what is typed while paused is never recorded

    def saved(self, uri: str, text: str | None) -> None:
        tracked, document = self.documents.get(uri), self.mirror.get(uri)
        if tracked is None or document is None:
            return
        if text is not None and text != document.text:
            logger.warning("mirror of %s differed from the saved text; resynchronised", tracked.path)
            self.spool.bump("mirror_resync")
            self.changed(uri, document.version, [(None, text)])  # the client knows better than the mirror
        if (episode := self.episodes.close(uri)) is not None:
            self._emit_episode(episode)
        red = self._redact(tracked, document.text)
        payload = {"content_hash": content_hash(red.text), "text": red.text, "redactions": red.total}
        self._record(tracked.recording, "document.saved", payload, path=tracked.path, counts=red.counts)

    def closed(self, uri: str) -> None:
        tracked = self.documents.get(uri)
        if (episode := self.episodes.close(uri)) is not None:
            self._emit_episode(episode)
        document = self.mirror.close(uri)
        self.documents.pop(uri, None)
        if tracked is not None and document is not None:
            payload = {"content_hash": content_hash(self._redact(tracked, document.text).text)}
            self._record(tracked.recording, "document.closed", payload, path=tracked.path)
            if not (tracked.recording.repository.root / tracked.path).exists():
                self.moves.delete(payload["content_hash"], tracked.path)

    # -- moves and suggestions -----------------------------------------------------------------------
    def moved(self, old_uri: str, new_uri: str) -> None:
        """A file renamed by the editor (workspace/didRenameFiles)."""
        if (episode := self.episodes.close(old_uri)) is not None:
            self._emit_episode(episode)  # edits made under the old name are recorded under it
        tracked, old = self.track(new_uri), self.track(old_uri)
        if tracked is None:
            return
        self._record_move(tracked, old.path if old else None, heuristic=False)
        if old_uri in self.documents and (document := self.mirror.close(old_uri)) is not None:
            self.documents.pop(old_uri)
            document.uri = new_uri
            self.mirror.documents[new_uri] = document
            self.documents[new_uri] = tracked

    def _moved_by_content(self, tracked: Tracked, digest: str) -> None:
        """A delete followed by a create with the same content is a move (heuristic)."""
        if (old := self.moves.moved_from(digest, tracked.path)) is not None:
            self._record_move(tracked, old, heuristic=True)

    def _record_move(self, tracked: Tracked, old_path: str | None, heuristic: bool) -> None:
        if self.moves.first(old_path, tracked.path):
            payload = {"refactor": "move", "old_path": old_path, "new_path": tracked.path, "heuristic": heuristic}
            self._record(tracked.recording, "refactor.detected", payload, path=tracked.path)

    def files_deleted(self, uris: Sequence[str]) -> None:
        """Deleted files (workspace/didDeleteFiles) are remembered by content: a create with it is a move."""
        for uri in uris:
            tracked, document = self.documents.get(uri) or self.track(uri), self.mirror.get(uri)
            if tracked is None:
                continue
            root = tracked.recording.repository.root
            text = document.text if document is not None else read_at(root, "HEAD", tracked.path)
            if text is not None:
                self.moves.delete(content_hash(self._redact(tracked, text).text), tracked.path)

    def files_created(self, uris: Sequence[str]) -> None:
        """Created files (workspace/didCreateFiles) with the content of a file deleted just before are moves."""
        for uri in uris:
            tracked = self.track(uri)
            if tracked is None:
                continue
            try:
                text = (tracked.recording.repository.root / tracked.path).read_text()
            except (OSError, UnicodeDecodeError):
                continue
            self._moved_by_content(tracked, content_hash(self._redact(tracked, text).text))

    def suggestion(self, params: dict[str, Any]) -> None:
        """A suggestion shown, accepted or rejected, as reported by an editor plugin or a completion command."""
        kind, payload, counts = suggestion_payload(params)
        uri = str(params.get("uri") or "")
        if (tracked := self.documents.get(uri) or self.track(uri)) is None:
            return
        self._record(tracked.recording, kind, payload, path=tracked.path, counts=counts)
        if kind == "suggestion.accepted":
            line = payload.get("position", {}).get("line")
            self.survival.accepted(
                payload["suggestion_id"], uri, payload["text"], line, tracked.recording, tracked.path
            )

    def tick(self) -> None:
        """Notice a pause or resume, close idle episodes and measure suggestions whose checkpoint is due."""
        self.paused()
        for episode in self.episodes.close_idle():
            self._emit_episode(episode)
        for tracked, payload in self.survival.due(self.text_of):
            self._record(tracked.owner, "suggestion.survival", payload, path=tracked.path)

    def text_of(self, uri: str) -> str | None:
        document = self.mirror.get(uri)
        return None if document is None else document.text

    def _redact(self, tracked: Tracked, text: str) -> Redaction:
        if tracked.cache is not None and tracked.cache[0] == text:
            return tracked.cache[1]
        red = redact(text)
        tracked.cache = (text, red)
        return red

    def _emit_episode(self, episode: Episode) -> None:
        tracked, document = self.documents.get(episode.uri), self.mirror.get(episode.uri)
        if tracked is None or document is None or self.paused():
            return
        if episode.changes <= RELOAD_CHANGES and _reloaded_from_git(tracked, episode.before_text, document.text):
            # The editor took in what a git operation (checkout, merge, pull, reset, rebase ...) wrote to the file:
            # the engineer did not type it. Recorded as the document's new text (a resync for the replay).
            self.spool.bump("git_reloads")
            self._snapshot(tracked, document.text, document.version, document.language_id)
            return
        before = self._redact(tracked, episode.before_text)
        after = self._redact(tracked, document.text)
        diff = unified_diff(before.text, after.text, tracked.path)
        if not diff:
            return
        added, removed = count_changes(diff)
        new = {k: n - before.counts.get(k, 0) for k, n in after.counts.items() if n > before.counts.get(k, 0)}
        payload = {
            "version_from": episode.version_from,
            "version_to": episode.version_to,
            "before_hash": content_hash(before.text),
            "after_hash": content_hash(after.text),
            "diff": diff,
            "lines_added": added,
            "lines_removed": removed,
            "changes": episode.changes,
            "started_at": episode.started_at,
            "redactions": sum(new.values()),
        }
        event = self._record(tracked.recording, "document.changed", payload, path=tracked.path, counts=new)
        if event is not None and (watch := self.watches.get(tracked.recording.session_id)) is not None:
            watch.history.edited(event.id)  # the next test run is linked to it
        self._after_episode(tracked, episode, before.text, after.text)

    def _after_episode(self, tracked: Tracked, episode: Episode, before: str, after: str) -> None:
        rename = detect_rename(before, after)
        if rename is not None:
            found: dict[str, Any] = {"refactor": "rename", "old_name": rename.old_name, "new_name": rename.new_name}
            found |= {"occurrences": rename.occurrences, "heuristic": True}
            self._record(tracked.recording, "refactor.detected", found, path=tracked.path)
        for text in episode.inserts:
            red = redact(text).text
            if red not in after:
                continue  # typed over within the same burst
            line = after[: after.index(red)].count("\n")
            sid = f"heuristic-{uuid7()}"
            payload: dict[str, Any] = {"suggestion_id": sid, "text": red, "heuristic": True, "provider": "unknown"}
            payload["position"] = {"line": line, "character": 0}
            self._record(tracked.recording, "suggestion.accepted", payload, path=tracked.path)
            self.survival.accepted(sid, tracked.uri, red, line, tracked.recording, tracked.path)


RELOAD_CHANGES = 3  # an editor reloads a file changed on disk in one didChange, or a few: typing makes many
RELOAD_WINDOW = 300.0  # seconds after HEAD last moved in which an episode may be a reload of what git wrote
# What HEAD's newest reflog entry must say for an episode to be a reload: git wrote others' text into the files
# (a commit writes none: an edit saved and committed at once stays an edit, whatever order the sidecar sees them)
REWRITING_VERBS = frozenset({"checkout", "merge", "pull", "reset", "rebase", "cherry-pick", "revert"})


def _reloaded_from_git(tracked: Tracked, before: str, after: str) -> bool:
    """Whether an episode only took a git operation's rewrite of the file into the editor: HEAD last moved by an
    operation that writes files (not a commit), the text now is the file on disk and at HEAD, and the text before
    was the file at HEAD's previous position (`HEAD@{1}`: checkout, merge, pull, reset) or where the last rebase,
    reset or merge started (`ORIG_HEAD`). Cheapest checks first: a save long after HEAD last moved is not looked
    at further, an episode of unsaved typing differs from the disk, and only then do git processes run."""
    root = tracked.recording.repository.root
    reflog = head_reflog(root)
    try:
        if before == after or time.time() - reflog.stat().st_mtime > RELOAD_WINDOW:
            return False
        if (root / tracked.path).read_bytes().decode("utf-8") != after:
            return False
    except (OSError, UnicodeDecodeError):
        return False
    newest = last_entry(reflog)
    if newest is None or newest.verb not in REWRITING_VERBS or read_at(root, "HEAD", tracked.path) != after:
        return False
    return any(read_at(root, rev, tracked.path) == before for rev in ("HEAD@{1}", "ORIG_HEAD"))
