"""Trajectory records: a task, its starting files, ordered steps with feedback on exact versions, the outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trajectory.align.evidence import Evidence
from trajectory.align.filetype import is_generated, language_of
from trajectory.align.history import PullRequest, RepoHistory
from trajectory.align.region import changed_lines
from trajectory.diffs import parse_diff
from trajectory.events import EventBase
from trajectory.payloads import CommitPayload, FileChange
from trajectory.records import Feedback, Step, TrajectoryRecord, stable_id


def _last_code_step(steps: list[Step]) -> int:
    """The version a feedback judges: the last step that changed code (-1 = the starting version)."""
    for index in range(len(steps) - 1, -1, -1):
        if steps[index].action in ("edit", "commit", "merge") and (steps[index].diff or steps[index].action != "edit"):
            return index
    return -1


def _add_changed_lines(evidence: Evidence, start: dict[str, str], final: dict[str, str]) -> Evidence:
    """The lines each file's final version has that its starting version did not."""
    for path in sorted(final):
        for first, last in changed_lines(start.get(path, ""), final[path]):
            evidence.add_lines(path, first + 1, last)
    return evidence


def _language(paths: list[str]) -> str | None:
    languages = sorted({lang for path in paths if (lang := language_of(path))})
    return languages[0] if len(languages) == 1 else None


@dataclass
class SessionTrajectory:
    """Cuts one recorded session into trajectories, one per commit (and one for uncommitted work at the end).

    Edit steps link to the commit that contains their result: the session's own commit of their file, else the
    first later commit of the mined history that touches the file and holds every line the episode added.
    """

    history: RepoHistory
    steps: list[Step] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    start: dict[str, str] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)
    evidence: Evidence | None = None
    last_tests: bool | None = None
    head: str | None = None  # the commit checked out, as far as the session saw
    start_head: str | None = None
    covered: dict[str, set[str]] = field(default_factory=dict)  # commit -> paths a trajectory covered

    def _evidence(self) -> Evidence:
        if self.evidence is None:
            self.evidence = Evidence(self.history.repo)
        return self.evidence

    def on_head(self, sha: str | None) -> None:
        if sha:
            self.head = sha

    def on_edit(self, event: EventBase, path: str, before: str, after: str) -> list[TrajectoryRecord]:
        out: list[TrajectoryRecord] = []
        if path in self.current and self.current[path] != before:
            out.extend(self.flush("session", "", {}))  # the document was resynced: a new trajectory starts here
        if not self.start:
            self.start_head = self.head
        self.start.setdefault(path, before)
        self.current[path] = after
        diff: str = event.payload.diff  # type: ignore[attr-defined]
        self.steps.append(Step(action="edit", ts=event.ts, path=path, diff=diff, event_ids=[str(event.id)]))
        self._evidence().add_event(event)
        return out

    def on_feedback(self, event: EventBase, kind: str, summary: str, detail: dict[str, Any]) -> None:
        """Feedback judges the version of the last code change before it (-1: the starting version)."""
        version = _last_code_step(self.steps)
        if kind in ("test_result", "suggestion_outcome"):
            action = "test_run" if kind == "test_result" else "suggestion"
            self.steps.append(Step(action=action, ts=event.ts, path=event.path, event_ids=[str(event.id)]))
        if kind == "test_result":
            self.last_tests = bool(detail.get("passing"))
        self.feedback.append(
            Feedback(type=kind, version=version, summary=summary, detail=detail, event_id=str(event.id))
        )  # type: ignore[arg-type]
        self._evidence().add_event(event)

    def on_commit(self, event: EventBase) -> list[TrajectoryRecord]:
        payload: CommitPayload = event.payload  # type: ignore[assignment]
        committed = {f.path for f in payload.files}
        for step in self.steps:
            if step.action == "edit" and step.path in committed:
                step.commit = payload.sha
        pull = self.history.pr_of_commit.get(payload.sha)
        self.steps.append(
            Step(action="commit", ts=event.ts, commit=payload.sha, pull_request=pull, event_ids=[str(event.id)])
        )
        self._evidence().add_event(event).add_commit(payload.sha)
        out = self.flush("commit_message", payload.message, self._outcome(payload.sha))
        self.head = payload.sha
        return out

    def _outcome(self, sha: str) -> dict[str, Any]:
        pull = self.history.pr_of_commit.get(sha)
        outcome: dict[str, Any] = {"committed": True, "commit": sha, "pull_request": pull}
        if pull is not None:
            self._evidence().pull_requests.add(pull)
            outcome["merged"] = self.history.pulls[pull].merged
        return outcome

    def _link_edits(self) -> list[str]:
        """Link each edit step still without a commit to the mined commit that contains its result."""
        linked: list[str] = []
        for step in self.steps:
            if step.action != "edit" or step.commit is not None or step.path is None or step.ts is None:
                continue
            added = [text for _, text in parse_diff(step.diff).added if text.strip()]
            step.commit = self.history.containing_commit(step.path, step.ts, added)
            if step.commit is not None:
                self._evidence().add_commit(step.commit)
                if step.commit not in linked:
                    linked.append(step.commit)
        return linked

    def flush(self, source: str, task: str, outcome: dict[str, Any]) -> list[TrajectoryRecord]:
        """Emit the trajectory gathered so far (when it has an edit) and start afresh."""
        steps, evidence = self.steps, self._evidence()
        record = None
        if any(step.action == "edit" for step in steps):
            paths = sorted(self.start)
            linked = self._link_edits()
            if source == "session" and linked:  # the session did not see its commit; the mined history did
                task, source = self.history.commit_message(linked[-1]) or "", "commit_message"
                outcome = self._outcome(linked[-1])
            for covered in [*linked, outcome.get("commit")]:
                if covered:
                    self.covered.setdefault(covered, set()).update(paths)
            if not task:
                task = "Uncommitted work on " + ", ".join(paths)
            outcome = {"committed": False, **outcome, "tests_passing": self.last_tests}
            _add_changed_lines(evidence, self.start, self.current)
            record = TrajectoryRecord(
                id=stable_id("trajectory", *evidence.event_ids[:1], *evidence.event_ids[-1:]),
                provenance=evidence.provenance(),
                language=_language(paths),
                license=self.history.license,
                task=task,
                task_source=source,  # type: ignore[arg-type]
                start_commit=self.start_head,
                start_files={p: self.start[p] for p in paths},
                steps=steps,
                feedback=self.feedback,
                final_files={p: self.current[p] for p in paths},
                outcome=outcome,
            )
        self.steps, self.feedback, self.start, self.evidence, self.last_tests = [], [], {}, None, None
        self.current = {}
        return [record] if record is not None else []


def _text_changes(history: RepoHistory, sha: str) -> list[FileChange]:
    event = history.commit_event(sha)
    if event is None:
        return []
    files: list[FileChange] = event.payload.files  # type: ignore[attr-defined]
    return [
        f
        for f in files
        if not f.binary and f.diff is not None and f.change_type != "delete" and not is_generated(f.path)
    ]


def commit_steps(
    history: RepoHistory, shas: list[str], start: dict[str, str], final: dict[str, str], evidence: Evidence
) -> list[Step]:
    """One step per changed text file of each commit; files whose history cannot be rebuilt are left out."""
    steps: list[Step] = []
    skipped: set[str] = set()
    for sha in shas:
        info = history.commits.get(sha)
        event = history.commit_event(sha)
        if info is None or event is None:
            continue
        evidence.add_event(event).add_commit(sha)
        for change in _text_changes(history, sha):
            path = change.path
            if path not in start and path not in skipped:
                base = "" if change.change_type == "add" else _parent_text(history, info.parents, change)
                if base is None:
                    skipped.add(path)
                    continue
                start[path] = base
            if path in skipped:
                continue
            after = history.text_at(sha, path)
            if after is None:
                skipped.add(path)
                start.pop(path, None)
                final.pop(path, None)
                steps[:] = [s for s in steps if s.path != path]
                continue
            final[path] = after
            evidence.add_path(path)
            steps.append(Step(action="commit", ts=event.ts, path=path, diff=change.diff or "", commit=sha,
                              pull_request=history.pr_of_commit.get(sha), event_ids=[str(event.id)]))  # fmt: skip
    return steps


def _parent_text(history: RepoHistory, parents: list[str], change: FileChange) -> str | None:
    return history.text_at(parents[0], change.old_path or change.path) if parents else None


def _first_parent(history: RepoHistory, sha: str) -> str | None:
    info = history.commits.get(sha)
    return info.parents[0] if info is not None and info.parents else None


def commit_trajectory(history: RepoHistory, sha: str) -> TrajectoryRecord | None:
    """A commit outside any pull request: its message is the task, its per-file diffs the steps."""
    event = history.commit_event(sha)
    if event is None:
        return None
    evidence = Evidence(history.repo)
    start: dict[str, str] = {}
    final: dict[str, str] = {}
    steps = commit_steps(history, [sha], start, final, evidence)
    if not steps:
        return None
    return TrajectoryRecord(
        id=stable_id("trajectory", history.repo, sha),
        provenance=_add_changed_lines(evidence, start, final).provenance(),
        language=_language(list(final)),
        license=history.license,
        task=event.payload.message,  # type: ignore[attr-defined]
        task_source="commit_message",
        start_commit=_first_parent(history, sha),
        start_files=start,
        steps=steps,
        final_files=final,
        outcome={"committed": True, "commit": sha, "merged": event.kind == "git.merge"},
    )


def _issue_task(history: RepoHistory, numbers: list[int]) -> str | None:
    for number in numbers:
        for event in history.spill.history(history.repo, "issue", str(number)):
            if event.kind == "issue.opened":
                return f"{event.payload.title}\n\n{event.payload.body or ''}".strip()  # type: ignore[attr-defined]
    return None


def _review_step(item: EventBase, detail: dict[str, Any], steps: list[Step]) -> tuple[Step, Feedback]:
    """A review comment as a step, and as feedback on the last step of the commit it was made on."""
    judged = [i for i, step in enumerate(steps) if step.commit and step.commit == detail.get("commit_id")]
    version = judged[-1] if judged else _last_code_step(steps)
    step = Step(action="review", ts=item.ts, path=item.path, commit=detail.get("commit_id"), event_ids=[str(item.id)])
    feedback = Feedback(
        type="review_comment", version=version, summary=detail["body"][:500], detail=detail, event_id=str(item.id)
    )
    return step, feedback


def _pull_steps(
    commit_steps: list[Step], events: list[EventBase], review_feedback: dict[str, dict[str, Any]], evidence: Evidence
) -> tuple[list[Step], list[Feedback]]:
    """Commit steps and review comments merged in time order (a tie keeps commits first)."""
    timeline: list[tuple[Any, int, Step | EventBase]] = [(step.ts, i, step) for i, step in enumerate(commit_steps)]
    timeline += [(e.ts, len(timeline) + i, e) for i, e in enumerate(events) if str(e.id) in review_feedback]
    steps: list[Step] = []
    feedback: list[Feedback] = []
    for _, _, item in sorted(timeline, key=lambda t: (t[0], t[1])):
        if isinstance(item, Step):
            steps.append(item)
            continue
        step, judgment = _review_step(item, review_feedback[str(item.id)], steps)
        steps.append(step)
        feedback.append(judgment)
        evidence.add_event(item)
    return steps, feedback


def pull_request_trajectory(
    history: RepoHistory, pull: PullRequest, events: list[EventBase], review_feedback: dict[str, dict[str, Any]]
) -> TrajectoryRecord | None:
    """A pull request: its (or its linked issue's) description as the task, its commits, reviews and outcome.

    `review_feedback` maps the event id of each kept review comment to the detail of its feedback.
    """
    opened = next((e for e in events if e.kind == "pr.opened"), None)
    if opened is None:
        return None
    evidence = Evidence(history.repo).add_event(opened)
    evidence.pull_requests.add(pull.number)
    evidence.issues.update(pull.linked_issues)
    task = f"{opened.payload.title}\n\n{opened.payload.body or ''}".strip()  # type: ignore[attr-defined]
    issue_task = _issue_task(history, pull.linked_issues)
    start: dict[str, str] = {}
    final: dict[str, str] = {}
    changes = commit_steps(history, pull.commits, start, final, evidence)
    steps, feedback = _pull_steps(changes, events, review_feedback, evidence)
    if pull.merged:
        steps.append(Step(action="merge", commit=pull.merge_sha, pull_request=pull.number))
        evidence.add_commit(pull.merge_sha)
    if not steps:
        return None
    first_parent = next((_first_parent(history, sha) for sha in pull.commits if sha in history.commits), None)
    return TrajectoryRecord(
        id=stable_id("trajectory", history.repo, "pr", pull.number),
        provenance=_add_changed_lines(evidence, start, final).provenance(),
        language=_language(list(final)),
        license=history.license,
        task=issue_task or task,
        task_source="issue" if issue_task else "pull_request",
        start_commit=first_parent or pull.base_sha,
        start_files=start,
        steps=steps,
        feedback=feedback,
        final_files=final,
        outcome={
            "merged": pull.merged,
            "closed": pull.closed,
            "pull_request": pull.number,
            "commits": len(pull.commits),
        },
    )
