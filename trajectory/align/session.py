"""One recorded editor session, replayed once: trajectories, completions, preferences, comments, generations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from trajectory.align.comment import comments_from_change
from trajectory.align.evidence import Evidence
from trajectory.align.filetype import is_generated, is_test_path, language_of
from trajectory.align.generation import completion_from_episode, generations_from_change
from trajectory.align.history import RepoHistory
from trajectory.align.options import BuildOptions
from trajectory.align.preference import FailToPassTracker, SuggestionTracker
from trajectory.align.trajectory import SessionTrajectory
from trajectory.align.versions import Replay
from trajectory.events import EventBase
from trajectory.records import RecordBase, TrajectoryRecord


class SessionAligner:
    """Feeds each event of one session, in `seq` order, to every concern that needs it."""

    def __init__(self, history: RepoHistory, options: BuildOptions, dropped: Counter[str]) -> None:
        lines = options.caps.context_lines
        self.history, self.context_lines, self.dropped = history, lines, dropped
        self.replay = Replay()
        self.trajectory = SessionTrajectory(history)
        self.suggestions = SuggestionTracker(history.repo, lines)
        self.tests = FailToPassTracker(history.repo, lines)

    def run(self, events: list[EventBase]) -> Iterator[RecordBase]:
        for event in events:
            yield from self._event(event)
        yield from self._with_changes(self.trajectory.flush("session", "", {}))

    def _event(self, event: EventBase) -> Iterator[RecordBase]:
        kind = event.kind
        if kind.startswith("document."):
            change = self.replay.apply(event)
            if change is not None and event.path is not None:
                yield from self._edit(event, event.path, *change)
        elif kind in ("suggestion.accepted", "suggestion.rejected"):
            self.suggestions.on_suggestion(event)
            payload = event.payload
            detail = {"outcome": kind.split(".")[1], "suggestion_id": payload.suggestion_id, "model": payload.model}  # type: ignore[attr-defined]
            self.trajectory.on_feedback(event, "suggestion_outcome", f"suggestion {detail['outcome']}", detail)
        elif kind == "suggestion.survival":
            accepted = self.suggestions.accepted.get(event.payload.suggestion_id)  # type: ignore[attr-defined]
            path = accepted.event.path if accepted else None
            pair = self.suggestions.on_survival(event, self.replay.text(path) if path else None)
            if pair is not None:
                yield pair.model_copy(update={"license": self.history.license})
        elif kind == "test.run":
            yield from self._test(event)
        elif kind in ("git.commit", "git.merge"):
            yield from self._with_changes(self.trajectory.on_commit(event))
        elif kind == "session.started":
            self.trajectory.on_head(event.payload.git_head)  # type: ignore[attr-defined]
        elif kind == "git.checkout":
            self.trajectory.on_head(event.payload.to_sha)  # type: ignore[attr-defined]
        elif kind in ("refactor.detected", "feedback.note"):
            payload = event.payload
            summary = getattr(payload, "note", None) or f"{getattr(payload, 'refactor', '')} refactor detected"
            self.trajectory.on_feedback(event, "note", summary, payload.model_dump(mode="json"))

    def _edit(self, event: EventBase, path: str, before: str, after: str) -> Iterator[RecordBase]:
        yield from self._with_changes(self.trajectory.on_edit(event, path, before, after))
        accepted = self.suggestions.last_accepted_text(path)
        yield from self.suggestions.on_edit(event, path, before, after)
        if is_generated(path, after):
            self.dropped["generated_file"] += 1
        else:
            evidence = Evidence(self.history.repo).add_event(event)
            completion = completion_from_episode(
                before, after, path, language_of(path), evidence, self.context_lines, accepted
            )
            if completion is not None:
                yield completion

    def _test(self, event: EventBase) -> Iterator[RecordBase]:
        files = {path: doc.text for path, doc in self.replay.documents.items() if not doc.broken}
        yield from self.tests.on_test(event, files)
        payload = event.payload
        failing = [t.test_id for t in payload.tests if t.outcome in ("failed", "error")]  # type: ignore[attr-defined]
        passing = payload.failed + payload.errored == 0 and payload.passed > 0  # type: ignore[attr-defined]
        detail = {
            "passed": payload.passed,  # type: ignore[attr-defined]
            "failed": payload.failed,  # type: ignore[attr-defined]
            "errored": payload.errored,  # type: ignore[attr-defined]
            "failing": failing[:50],
            "passing": passing,
        }
        summary = f"{payload.framework}: {payload.passed} passed, {payload.failed} failed, {payload.errored} errored"  # type: ignore[attr-defined]
        self.trajectory.on_feedback(event, "test_result", summary, detail)

    def _with_changes(self, trajectories: list[TrajectoryRecord]) -> Iterator[RecordBase]:
        """Each trajectory, then the comments and generation tasks its net change contains."""
        for record in trajectories:
            yield record
            tests = {p: t for p, t in record.final_files.items() if is_test_path(p)}
            for path in sorted(record.start_files):
                before, after = record.start_files[path], record.final_files[path]
                if is_generated(path, after):
                    self.dropped["generated_file"] += 1
                    continue
                evidence = self._path_evidence(record, path)
                description = record.task.split("\n", 1)[0] if record.task_source != "session" else ""
                yield from comments_from_change(before, after, path, description, evidence, language_of(path))
                yield from generations_from_change(before, after, path, tests, evidence, self.context_lines)

    def _path_evidence(self, record: TrajectoryRecord, path: str) -> Evidence:
        evidence = Evidence(self.history.repo, sessions=set(record.provenance.sessions))
        evidence.actors.update(record.provenance.actors)
        for step in record.steps:
            if step.path == path or step.action == "commit":
                evidence.event_ids.extend(i for i in step.event_ids if i not in evidence.event_ids)
                evidence.add_commit(step.commit)
                if step.ts is not None:
                    evidence.times.append(step.ts)
        return evidence
