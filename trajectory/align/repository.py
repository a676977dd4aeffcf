"""Everything aligned for one repository: its recorded sessions, then its commits, pull requests and issues."""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

from trajectory.align.comment import comments_from_change
from trajectory.align.evidence import Evidence
from trajectory.align.filetype import is_generated, is_test_path, language_of
from trajectory.align.generation import generations_from_change
from trajectory.align.history import PullRequest, RepoHistory
from trajectory.align.issue import issue_records
from trajectory.align.options import BuildOptions
from trajectory.align.quality import BotFilter
from trajectory.align.review import review_records
from trajectory.align.session import SessionAligner
from trajectory.align.spill import Spill
from trajectory.align.trajectory import commit_trajectory, pull_request_trajectory
from trajectory.payloads import CommitPayload
from trajectory.records import RecordBase

log = logging.getLogger(__name__)

Aligned = tuple[RecordBase, str | None]  # a record and the recorded session it came from (None: history)


class RepositoryAligner:
    def __init__(self, spill: Spill, repo: str, options: BuildOptions, dropped: Counter[str]) -> None:
        self.spill, self.repo, self.options, self.dropped = spill, repo, options, dropped
        self.bots = BotFilter(options.bot_patterns, options.include_bots)
        self.history = RepoHistory(spill, repo)
        self.sessions = 0

    def run(self) -> Iterator[Aligned]:
        """Each record with the recorded session it came from, in a deterministic order."""
        covered: dict[str, set[str]] = {}  # commits a recorded session told more about -> its paths
        for session in self.spill.sessions(self.repo):
            self.sessions += 1
            events = self.spill.session_events(self.repo, session)
            aligner = SessionAligner(self.history, self.options, self.dropped)
            yield from self._licensed(aligner.run(events), session)
            for sha, paths in aligner.trajectory.covered.items():
                covered.setdefault(sha, set()).update(paths)
        pr_tests: OrderedDict[int, dict[str, str]] = OrderedDict()
        for sha in self.history.commit_order():
            yield from self._licensed(self._commit(sha, pr_tests, covered.get(sha, set())), None)
        for number in sorted(self.history.pulls):
            yield from self._licensed(self._pull(self.history.pulls[number]), None)
        yield from self._licensed(issue_records(self.history, self.bots, self.dropped), None)

    def _licensed(self, records: Iterable[RecordBase], session: str | None) -> Iterator[Aligned]:
        for record in records:
            if record.license is None and self.history.license is not None:
                record.license = self.history.license
            yield record, session

    def _commit(self, sha: str, pr_tests: OrderedDict[int, dict[str, str]], covered: set[str]) -> Iterator[RecordBase]:
        """A commit's trajectory (unless a recorded session covered it), comments and generation tasks."""
        event = self.history.commit_event(sha)
        if event is None or event.kind == "git.merge":
            return
        payload: CommitPayload = event.payload  # type: ignore[assignment]
        if self.bots.is_bot(payload.author, payload.is_bot):
            self.dropped["bot_commit"] += 1
            return
        if sha not in self.history.pr_of_commit and not covered:
            trajectory = commit_trajectory(self.history, sha)
            if trajectory is not None:
                yield trajectory
        texts = self._file_texts(sha, payload)
        tests = {p: after for p, (_, after) in texts.items() if is_test_path(p)}
        pull = self.history.pr_of_commit.get(sha)
        if pull is not None:
            tests = {**self._pull_tests(pull, pr_tests), **tests}
        description = payload.message.split("\n", 1)[0]
        for path, (before, after) in sorted(texts.items()):
            if path in covered:
                continue  # the session's records of this file say the same, with the edits that made it
            evidence = Evidence(self.repo).add_event(event).add_commit(sha)
            if pull is not None:
                evidence.pull_requests.add(pull)
            yield from comments_from_change(before, after, path, description, evidence, language_of(path))
            yield from generations_from_change(before, after, path, tests, evidence, self.options.caps.context_lines)

    def _file_texts(self, sha: str, payload: CommitPayload) -> dict[str, tuple[str, str]]:
        """Each text file the commit changed: (before, after); generated and unreadable ones are counted."""
        parents = self.history.commits[sha].parents
        texts: dict[str, tuple[str, str]] = {}
        for change in payload.files:
            if change.binary or change.change_type == "delete" or change.diff is None:
                continue
            if is_generated(change.path):
                self.dropped["generated_file"] += 1
                continue
            base = change.old_path or change.path
            added = change.change_type == "add" or not parents
            before = "" if added else self.history.text_at(parents[0], base)
            after = self.history.text_at(sha, change.path)
            if before is None or after is None:
                self.dropped["file_text_unknown"] += 1  # its history is incomplete: no diff chain from an add
            elif is_generated(change.path, after):
                self.dropped["generated_file"] += 1
            else:
                texts[change.path] = (before, after)
        return texts

    def _pull_tests(self, number: int, cache: OrderedDict[int, dict[str, str]]) -> dict[str, str]:
        """The test files a pull request changed, as of its last commit (a few pull requests are remembered)."""
        if number in cache:
            cache.move_to_end(number)
        else:
            if len(cache) >= 8:
                cache.popitem(last=False)
            pull = self.history.pulls[number]
            paths = {
                p for sha in pull.commits if sha in self.history.commits for p in self.history.commits[sha].touched
            }
            head = pull.commits[-1] if pull.commits else None
            texts = {p: self.history.text_at(head, p) for p in sorted(paths) if head and is_test_path(p)}
            cache[number] = {p: t for p, t in texts.items() if t is not None}
        return cache[number]

    def _pull(self, pull: PullRequest) -> Iterator[RecordBase]:
        events = list(self.spill.history(self.repo, "pr", str(pull.number)))
        feedback: dict[str, dict[str, Any]] = {}
        for event in events:
            payload: Any = event.payload
            if event.kind not in ("review.comment", "review.submitted"):
                continue
            if self.bots.is_bot(payload.user_login, payload.is_bot):  # type: ignore[attr-defined]
                self.dropped["bot_review"] += 1
                continue
            if event.kind == "review.submitted":
                if payload.body:  # type: ignore[attr-defined]
                    feedback[str(event.id)] = {
                        "body": payload.body,
                        "state": payload.state,
                        "commit_id": payload.commit_id,
                        "user_login": payload.user_login,
                    }
                continue
            record, preference, revision = review_records(self.history, pull, event)
            for item in (record, preference):
                if item is not None:
                    yield item
            feedback[str(event.id)] = {
                "body": payload.body,  # type: ignore[attr-defined]
                "path": payload.path,  # type: ignore[attr-defined]
                "line": payload.line or payload.original_line,  # type: ignore[attr-defined]
                "commit_id": payload.commit_id or payload.original_commit_id,  # type: ignore[attr-defined]
                "revision_commit": revision.commit if revision else None,
                "user_login": payload.user_login,  # type: ignore[attr-defined]
            }
        trajectory = pull_request_trajectory(self.history, pull, events, feedback)
        if trajectory is not None:
            yield trajectory
