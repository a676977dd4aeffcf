"""What happens to an opted-in repository outside the editor (git actions, test runs), polled off the LSP thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from lsp_agent.gitwatch import Committed, GitWatch, read_at
from lsp_agent.junit import ReportScanner
from lsp_agent.recording import Recording
from lsp_agent.repository import read_head
from lsp_agent.settings import Settings
from lsp_agent.suggestion import SurvivalTracker
from lsp_agent.testrun import TestHistory
from lsp_agent.watcher import Watcher
from trajectory.ids import uuid7
from trajectory.privacy import add_counts, redact

logger = logging.getLogger(__name__)

Record = Callable[..., Any]  # (recording, kind, payload, path=, counts=, ts=, event_id=) -> event or None


class RepositoryWatch:
    """One recording's `.git` watch and test reports; accepted suggestions are measured again at each commit."""

    def __init__(
        self,
        recording: Recording,
        settings: Settings,
        salt: str,
        record: Record,
        survival: SurvivalTracker,
        since: float,
    ) -> None:
        self.recording = recording
        self.settings = settings
        self.record = record
        self.survival = survival
        self.history = TestHistory()
        self.git = GitWatch(recording, settings, salt, record, self.committed, since=since)
        root, globs = recording.repository.root, settings.junit_globs + recording.repository.junit_globs
        self.reports = ReportScanner(root, globs)  # reports already there are history

    def start(self, watcher: Watcher) -> None:
        name = self.recording.repository.id
        watcher.add(f"git {name}", self.settings.git_poll_seconds, self.git.poll)
        watcher.add(f"tests {name}", self.settings.junit_poll_seconds, self.scan_tests)

    def committed(self, commit: Committed) -> None:
        """The `commit` checkpoint of every suggestion accepted in this session, measured in the commit."""
        root = commit.recording.repository.root
        found = self.survival.at_commit(commit.recording, commit.sha, lambda path: read_at(root, commit.sha, path))
        for tracked, payload in found:
            self.record(tracked.owner, "suggestion.survival", payload, path=tracked.path)

    def scan_tests(self) -> None:
        """Each new report becomes `test.run`, linked to the previous run and the edit episodes in between."""
        for report in self.reports.scan():
            counts: dict[str, int] = {}
            for case in report.payload["tests"]:
                if case.get("message"):  # failure messages can quote values
                    red = redact(case["message"])
                    case["message"] = red.text
                    add_counts(counts, red.counts)
            run_id = uuid7()
            payload = self.history.link(report.payload, run_id)
            payload["git_head"] = read_head(self.recording.repository.root)[0]
            self.record(self.recording, "test.run", payload, path=report.path, counts=counts, event_id=run_id)
