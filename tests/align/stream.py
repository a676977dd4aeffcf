"""Hand-made event streams for the alignment tests: real `trajectory.events` events, built in order."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from trajectory.align.options import BuildOptions
from trajectory.align.repository import RepositoryAligner
from trajectory.align.spill import Spill
from trajectory.diffs import count_changes, unified_diff
from trajectory.events import EventBase, event_to_dict, make_event
from trajectory.records import RecordBase

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Stream:
    """The events of one repository: a sidecar session's editor view (`docs`) and the committed tree (`tree`).

    Events are one minute apart; ids are UUIDs made from a counter, so a stream is the same every time.
    """

    def __init__(self, repo: str = "github.com/acme/app", start: datetime = START, id_base: int = 0) -> None:
        self.repo = repo
        self.clock = start
        self.events: list[EventBase] = []
        self.docs: dict[str, str] = {}
        self.tree: dict[str, str] = {}
        self.head: str | None = None
        self._seq: Counter[str] = Counter()
        self._count = id_base

    def emit(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        session: str = "s1",
        source: str = "sidecar",
        path: str | None = None,
        actor: str = "u_dev",
    ) -> EventBase:
        self.clock += timedelta(minutes=1)
        self._count += 1
        seq = self._seq[session]
        self._seq[session] += 1
        event = make_event(
            kind, payload, id=UUID(int=self._count), ts=self.clock, session_id=session, seq=seq, actor=actor,
            repo=self.repo, path=path, source=source,
        )  # fmt: skip
        self.events.append(event)
        return event

    def later(self, minutes: int) -> None:
        self.clock += timedelta(minutes=minutes)

    # -- a recorded editor session -----------------------------------------------------------------
    def start(self, session: str = "s1") -> EventBase:
        return self.emit("session.started", {"agent_version": "0.1.0", "git_head": self.head}, session=session)

    def open(self, path: str, text: str | None = None, session: str = "s1") -> EventBase:
        text = self.tree.get(path, "") if text is None else text
        self.docs[path] = text
        payload = {"text": text, "content_hash": text_hash(text), "language_id": "python", "version": 1}
        return self.emit("document.opened", payload, session=session, path=path)

    def edit(self, path: str, after: str, session: str = "s1") -> EventBase:
        before = self.docs[path]
        diff = unified_diff(before, after, path)
        added, removed = count_changes(diff)
        self.docs[path] = after
        payload = {"before_hash": text_hash(before), "after_hash": text_hash(after), "diff": diff,
                   "lines_added": added, "lines_removed": removed}  # fmt: skip
        return self.emit("document.changed", payload, session=session, path=path)

    def save(self, path: str, session: str = "s1") -> EventBase:
        text = self.docs[path]
        return self.emit("document.saved", {"content_hash": text_hash(text), "text": text}, session=session, path=path)

    def suggestion(self, outcome: str, sid: str, text: str, path: str, session: str = "s1", **extra: Any) -> EventBase:
        payload = {"suggestion_id": sid, "text": text, "model": "m1", **extra}
        return self.emit(f"suggestion.{outcome}", payload, session=session, path=path)

    def survival(self, sid: str, ratio: float, chars: int, path: str, session: str = "s1") -> EventBase:
        payload = {"suggestion_id": sid, "checkpoint": "2m", "survived_ratio": ratio, "survived_chars": chars}
        return self.emit("suggestion.survival", payload, session=session, path=path)

    def test_run(self, outcomes: dict[str, str], session: str = "s1") -> EventBase:
        tests = [{"test_id": name, "outcome": outcome} for name, outcome in outcomes.items()]
        counts = Counter(outcomes.values())
        payload = {"framework": "pytest", "tests": tests, "passed": counts["passed"], "failed": counts["failed"],
                   "errored": counts["error"], "git_head": self.head}  # fmt: skip
        return self.emit("test.run", payload, session=session)

    # -- git -------------------------------------------------------------------------------------------
    def commit(
        self,
        message: str,
        files: dict[str, str | None] | None = None,
        *,
        session: str = "git:acme",
        source: str = "git",
        author: str = "u_dev",
        is_bot: bool = False,
    ) -> str:
        """Commit `files` (path -> text, None deletes; default: every editor document that differs from HEAD)."""
        if files is None:
            files = {path: text for path, text in self.docs.items() if self.tree.get(path) != text}
        changes = []
        for path, text in sorted(files.items()):
            before = self.tree.get(path)
            if text is None:
                changes.append({"path": path, "change_type": "delete", "diff": unified_diff(before or "", "", path)})
                self.tree.pop(path, None)
                continue
            diff = unified_diff(before or "", text, path)
            added, removed = count_changes(diff)
            kind = "add" if before is None else "modify"
            changes.append({"path": path, "change_type": kind, "diff": diff, "additions": added, "deletions": removed})
            self.tree[path] = text
        sha = hashlib.sha1(f"{self.repo}{self._count}{message}".encode()).hexdigest()
        payload = {"sha": sha, "parents": [self.head] if self.head else [], "message": message, "author": author,
                   "committed_at": (self.clock + timedelta(minutes=1)).isoformat(), "files": changes,
                   "is_bot": is_bot}  # fmt: skip
        self.emit("git.commit", payload, session=session, source=source, actor=author)
        self.head = sha
        return sha

    # -- GitHub ----------------------------------------------------------------------------------------
    def github(self, kind: str, payload: dict[str, Any], actor: str = "u_dev", path: str | None = None) -> EventBase:
        return self.emit(kind, payload, session=f"github:{self.repo}", source="github", actor=actor, path=path)

    def pr_opened(self, number: int, title: str, body: str, commits: list[str], **extra: Any) -> EventBase:
        payload = {"number": number, "title": title, "body": body, "user_login": "u_dev", "commits": commits,
                   "created_at": self.clock.isoformat(), **extra}  # fmt: skip
        return self.github("pr.opened", payload)

    def pr_merged(self, number: int, merge_sha: str | None = None) -> EventBase:
        payload = {"number": number, "merge_commit_sha": merge_sha, "merged_at": self.clock.isoformat()}
        return self.github("pr.merged", payload)

    def review_comment(self, pr: int, comment_id: int, body: str, path: str, line: int, commit: str, hunk: str,
                       user: str = "u_rev", **extra: Any) -> EventBase:  # fmt: skip
        payload = {"pr_number": pr, "comment_id": comment_id, "user_login": user, "body": body, "path": path,
                   "line": line, "commit_id": commit, "diff_hunk": hunk, **extra}  # fmt: skip
        return self.github("review.comment", payload, actor=user, path=path)

    def issue(self, number: int, title: str, body: str, user: str = "u_asker", **extra: Any) -> EventBase:
        payload = {"number": number, "title": title, "body": body, "user_login": user,
                   "created_at": self.clock.isoformat(), "updated_at": self.clock.isoformat(), **extra}  # fmt: skip
        return self.github("issue.opened", payload, actor=user)

    def issue_comment(self, number: int, comment_id: int, body: str, user: str, **extra: Any) -> EventBase:
        stamp = (self.clock + timedelta(minutes=1)).isoformat()
        payload = {"issue_number": number, "comment_id": comment_id, "user_login": user, "body": body,
                   "created_at": stamp, "updated_at": stamp, **extra}  # fmt: skip
        return self.github("issue.comment", payload, actor=user)


def write_events(path: Path, events: Iterable[EventBase]) -> Path:
    with path.open("wb") as handle:
        for event in events:
            handle.write(orjson.dumps(event_to_dict(event)) + b"\n")
    return path


def align(tmp_path: Path, events: Iterable[EventBase], **options: Any) -> tuple[list[RecordBase], Counter[str]]:
    """Every record the aligner makes of `events` (before the quality gate and the splits), and the drops."""
    directory = tmp_path / f"spill-{len(list(tmp_path.glob('spill-*')))}"
    directory.mkdir()
    spill = Spill(directory)
    dropped: Counter[str] = Counter()
    try:
        for event in events:
            spill.add(orjson.dumps(event_to_dict(event)))
        spill.finish()
        records = [
            record
            for repo in spill.repos()
            for record, _ in RepositoryAligner(spill, repo, BuildOptions(**options), dropped).run()
        ]
    finally:
        spill.close()
    return records, dropped


def of_kind(records: Iterable[RecordBase], kind: str) -> list[Any]:
    return [record for record in records if record.kind == kind]


MIT = "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\n"
GEO = "import math\n\n\ndef area(w, h):\n    return w * h\n\n\ndef perimeter(w, h):\n    return w + h\n"
DIAGONAL = (
    "\n\ndef diagonal(w, h):\n"
    '    """The length of the diagonal of a w x h rectangle."""\n'
    "    # Pythagoras, squared first\n"
    "    squared = w ** 2 + h ** 2\n"
    "    return math.sqrt(squared)\n"
)
TEST_GEO = "from geo import diagonal\n\n\ndef test_diagonal():\n    assert diagonal(3, 4) == 5\n"


def scenario(repo: str = "github.com/acme/app", *, licensed: bool = True, id_base: int = 0,
             start: datetime = START) -> Stream:  # fmt: skip
    """One repository's worth of everything: a recorded session, mined commits, an issue, a reviewed pull
    request; every record kind comes out of it."""
    s = Stream(repo, start=start, id_base=id_base)
    s.commit("Initial", {"geo.py": GEO, **({"LICENSE": MIT} if licensed else {})})
    s.start()
    s.open("geo.py")
    s.suggestion("rejected", "sg1", "    return w * w + h * h\n", "geo.py")
    s.edit("geo.py", GEO + DIAGONAL)
    s.test_run({"tests/test_geo.py::test_diagonal": "failed"})
    s.suggestion("accepted", "sg2", "    return round(math.sqrt(squared), 9)\n", "geo.py")
    fixed = GEO + DIAGONAL.replace("return math.sqrt(squared)", "return round(math.sqrt(squared), 9)")
    s.edit("geo.py", fixed)
    s.edit("geo.py", fixed.replace("round(math.sqrt(squared), 9)", "math.hypot(w, h)"))
    s.survival("sg2", 0.2, 8, "geo.py")
    s.open("tests/test_geo.py", "")
    s.edit("tests/test_geo.py", TEST_GEO)
    s.test_run({"tests/test_geo.py::test_diagonal": "passed"})
    s.save("geo.py")
    s.commit("Add diagonal\n\nWith a test.", session="s1", source="sidecar")
    s.emit("session.ended", {"reason": "shutdown"})
    s.issue(7, "perimeter is wrong", "perimeter(1, 2) gives 3")
    s.issue_comment(7, 100, "Confirmed, it forgets to double.", user="u_dev")
    base = s.head
    v1 = s.tree["geo.py"].replace("return w + h", "return 2 * w + h")
    first = s.commit("Double the perimeter", {"geo.py": v1})
    s.pr_opened(3, "Fix perimeter", "Fixes #7", [first], linked_issues=[7], base_sha=base, head_sha=first)
    hunk = "@@ -8,2 +8,2 @@\n def perimeter(w, h):\n-    return w + h\n+    return 2 * w + h\n"
    s.review_comment(3, 500, "Only w is doubled; use 2 * (w + h).", "geo.py", 9, first, hunk)
    second = s.commit("Double both sides", {"geo.py": v1.replace("return 2 * w + h", "return 2 * (w + h)")})
    s.github("pr.updated", {"number": 3, "before_sha": first, "head_sha": second})
    s.pr_merged(3, second)
    return s
