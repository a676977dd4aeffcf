"""Review records: a diff hunk, the comment on it, and the hunk of the later commit that changed those lines."""

from __future__ import annotations

from dataclasses import dataclass

from trajectory.align.evidence import Evidence
from trajectory.align.filetype import language_of
from trajectory.align.history import PullRequest, RepoHistory
from trajectory.align.preference import review_preference
from trajectory.diffs import Hunk, parse_hunks
from trajectory.events import EventBase
from trajectory.payloads import ReviewCommentPayload
from trajectory.records import PreferenceRecord, ReviewRecord, stable_id


@dataclass(frozen=True)
class Revision:
    commit: str
    hunk: Hunk

    @property
    def text(self) -> str:
        h = self.hunk
        return f"@@ -{h.old_start},{h.old_count} +{h.new_start},{h.new_count} @@\n" + "".join(
            line if line.endswith("\n") else line + "\n" for line in h.lines
        )

    def side(self, marks: str) -> str:
        return "".join(
            line[1:] if line.endswith("\n") else line[1:] + "\n" for line in self.hunk.lines if line[0] in marks
        )


def _touched_old_lines(hunk: Hunk) -> set[int]:
    """Old-file line numbers a hunk deletes, or inserts before."""
    out: set[int] = set()
    old_no = hunk.old_start if hunk.old_count else hunk.old_start + 1
    for line in hunk.lines:
        if line[0] == "-":
            out.add(old_no)
            old_no += 1
        elif line[0] == "+":
            out.add(old_no)
        else:
            old_no += 1
    return out


def find_revision(
    history: RepoHistory, pull: PullRequest, comment: ReviewCommentPayload, after_ts: object
) -> Revision | None:
    """Follow the commented lines through the pull request's later commits to the first one that changes them."""
    path, last = comment.path, comment.line or comment.original_line
    if path is None or last is None:
        return None
    first = comment.start_line or last
    base = comment.commit_id if comment.commit_id in pull.commits else comment.original_commit_id
    if base in pull.commits:
        later = pull.commits[pull.commits.index(base) + 1 :]
    else:
        later = [sha for sha in pull.commits if sha in history.commits and history.commits[sha].ts > after_ts]  # type: ignore[operator]
    for sha in later:
        change = history.file_change(sha, path)
        if change is None or not change.diff:
            continue
        shift = 0
        for hunk in parse_hunks(change.diff):
            if _touched_old_lines(hunk) & set(range(first, last + 1)):
                return Revision(sha, hunk)
            if hunk.old_start + hunk.old_count <= first:
                shift += hunk.new_count - hunk.old_count
        first, last = first + shift, last + shift
        path = change.path
    return None


def review_records(
    history: RepoHistory, pull: PullRequest, event: EventBase
) -> tuple[ReviewRecord | None, PreferenceRecord | None, Revision | None]:
    """The review triple of one top-level review comment, and the review preference when it was revised."""
    comment: ReviewCommentPayload = event.payload  # type: ignore[assignment]
    if comment.in_reply_to is not None or not comment.diff_hunk or not comment.body.strip():
        return None, None, None
    revision = find_revision(history, pull, comment, event.ts)
    evidence = Evidence(history.repo).add_event(event)
    evidence.pull_requests.add(pull.number)
    evidence.add_commit(comment.commit_id or comment.original_commit_id)
    if comment.path:
        evidence.add_path(comment.path)
        if comment.line or comment.original_line:
            last = comment.line or comment.original_line or 0
            evidence.add_lines(comment.path, comment.start_line or last, last)
    if revision is not None:
        evidence.add_commit(revision.commit)
    record = ReviewRecord(
        id=stable_id("review", history.repo, pull.number, comment.comment_id),
        provenance=evidence.provenance(),
        language=language_of(comment.path),
        license=history.license,
        diff_hunk=comment.diff_hunk,
        comment=comment.body,
        revised_hunk=revision.text if revision else None,
        path=comment.path,
        line=comment.line or comment.original_line,
        commit=comment.commit_id or comment.original_commit_id,
        revision_commit=revision.commit if revision else None,
    )
    preference = None
    if revision is not None:
        preference = review_preference(
            evidence, comment.body, comment.diff_hunk, comment.path, revision.side(" -"), revision.side(" +")
        )
        if preference is not None:
            preference.license = history.license
    return record, preference, revision
