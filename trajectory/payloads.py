"""Payload models of the wire schema, one per event kind (see `trajectory.events` for the envelope)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

# Field size caps: a recording never needs more, and the collector answers 422 past them.
MAX_TEXT = 2_000_000  # full document text (open, save)
MAX_DIFF = 1_000_000  # one unified diff
MAX_BODY = 262_144  # a message, comment or suggestion
MAX_NAME = 512  # ids, names, refs
MAX_PATH = 4096
MAX_LIST = 10_000  # files in a commit, tests in a run


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp out of range once converted to UTC") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware timestamp, normalised to UTC; naive timestamps are rejected."""

Name = Annotated[str, Field(max_length=MAX_NAME)]
Body = Annotated[str, Field(max_length=MAX_BODY)]
Diff = Annotated[str, Field(max_length=MAX_DIFF)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
PathStr = Annotated[str, Field(max_length=MAX_PATH)]
Sha = Annotated[str, Field(pattern=r"^[0-9a-f]{4,64}$")]
Count = Annotated[int, Field(ge=0)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Position(StrictModel):
    line: Count
    character: Count


class SessionStartedPayload(StrictModel):
    editor: Name | None = None
    editor_version: Name | None = None
    agent_version: Name
    git_head: Sha | None = None
    git_branch: Name | None = None
    workspace: PathStr | None = None


class SessionEndedPayload(StrictModel):
    reason: Literal["shutdown", "exit", "idle", "error", "import"] = "shutdown"
    events_recorded: Count | None = None


class DocumentOpenedPayload(StrictModel):
    language_id: Name | None = None
    version: int | None = None
    text: Text
    content_hash: Name
    redactions: Count = 0


class DocumentChangedPayload(StrictModel):
    """One edit episode: a burst of changes to one document, coalesced until an idle gap, save, close or switch."""

    version_from: int | None = None
    version_to: int | None = None
    before_hash: Name
    after_hash: Name
    diff: Diff
    lines_added: Count
    lines_removed: Count
    changes: Count = 1
    started_at: UtcDatetime | None = None
    redactions: Count = 0


class DocumentSavedPayload(StrictModel):
    content_hash: Name
    text: Text | None = None
    redactions: Count = 0


class DocumentClosedPayload(StrictModel):
    content_hash: Name | None = None


class FileChange(StrictModel):
    path: PathStr
    old_path: PathStr | None = None
    change_type: Literal["add", "modify", "delete", "rename", "copy"]
    additions: Count = 0
    deletions: Count = 0
    binary: bool = False
    diff: Diff | None = None


class CommitPayload(StrictModel):
    """A commit, from the sidecar's watch of `.git`, the git miner or a push webhook; merges use the same shape."""

    sha: Sha
    parents: list[Sha] = Field(default_factory=list, max_length=64)
    message: Body
    author: Name
    committer: Name | None = None
    authored_at: UtcDatetime | None = None
    committed_at: UtcDatetime | None = None
    branch: Name | None = None
    files: list[FileChange] = Field(default_factory=list, max_length=MAX_LIST)
    is_bot: bool = False
    amend_of: Sha | None = None


class CheckoutPayload(StrictModel):
    from_ref: Name | None = None
    to_ref: Name
    from_sha: Sha | None = None
    to_sha: Sha | None = None


class RebasePayload(StrictModel):
    """A history rewrite seen in the reflog or by the incremental miner (rebase, amend, reset, force push)."""

    operation: Literal["rebase", "amend", "reset", "force-push", "unknown"]
    old_head: Sha | None = None
    new_head: Sha | None = None
    ref: Name | None = None
    detail: Body | None = None


class _SuggestionBase(StrictModel):
    suggestion_id: Name
    model: Name | None = None
    provider: Name | None = None
    text: Body
    position: Position | None = None
    heuristic: bool = False


class SuggestionShownPayload(_SuggestionBase):
    context_before: Body | None = None
    context_after: Body | None = None


class SuggestionAcceptedPayload(_SuggestionBase):
    pass


class SuggestionRejectedPayload(_SuggestionBase):
    reason: Name | None = None


class SuggestionSurvivalPayload(StrictModel):
    suggestion_id: Name
    checkpoint: Literal["30s", "2m", "10m", "commit"]
    survived_ratio: Annotated[float, Field(ge=0.0, le=1.0)]
    survived_chars: Count
    commit_sha: Sha | None = None


class RefactorDetectedPayload(StrictModel):
    refactor: Literal["rename", "move", "extract"]
    old_name: Name | None = None
    new_name: Name | None = None
    old_path: PathStr | None = None
    new_path: PathStr | None = None
    occurrences: Count = 1
    heuristic: bool = True


class CaseResult(StrictModel):
    test_id: PathStr
    outcome: Literal["passed", "failed", "error", "skipped"]
    duration_s: Annotated[float, Field(ge=0.0)] | None = None
    message: Body | None = None


class TestRunPayload(StrictModel):
    __test__ = False  # not a pytest test class

    framework: Name
    report_path: PathStr | None = None
    tests: list[CaseResult] = Field(default_factory=list, max_length=MAX_LIST)
    passed: Count = 0
    failed: Count = 0
    errored: Count = 0
    skipped: Count = 0
    duration_s: Annotated[float, Field(ge=0.0)] | None = None
    git_head: Sha | None = None
    # Linking runs (additive): the session's previous run, the tests whose outcome flipped since, and the edit
    # episodes (`document.changed` event ids) recorded between the two runs, which are what fixed or broke them.
    previous_run_id: UUID | None = None
    fixed: list[PathStr] = Field(default_factory=list, max_length=MAX_LIST)
    broken: list[PathStr] = Field(default_factory=list, max_length=MAX_LIST)
    edits_since_previous: list[UUID] = Field(default_factory=list, max_length=MAX_LIST)


class ReviewCommentPayload(StrictModel):
    pr_number: Count
    comment_id: int
    review_id: int | None = None
    in_reply_to: int | None = None
    user_login: Name
    body: Body
    path: PathStr | None = None
    line: int | None = None
    original_line: int | None = None
    start_line: int | None = None
    side: Name | None = None
    diff_hunk: Diff | None = None
    commit_id: Sha | None = None
    original_commit_id: Sha | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    is_bot: bool = False


class ReviewSubmittedPayload(StrictModel):
    pr_number: Count
    review_id: int
    user_login: Name
    state: Name
    body: Body | None = None
    commit_id: Sha | None = None
    submitted_at: UtcDatetime | None = None
    is_bot: bool = False


class PrOpenedPayload(StrictModel):
    number: Count
    title: Body
    body: Body | None = None
    user_login: Name
    base_ref: Name | None = None
    head_ref: Name | None = None
    base_sha: Sha | None = None
    head_sha: Sha | None = None
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    commits: list[Sha] = Field(default_factory=list, max_length=MAX_LIST)
    linked_issues: list[Count] = Field(default_factory=list, max_length=1000)
    url: Name | None = None
    is_bot: bool = False


class PrUpdatedPayload(StrictModel):
    """New commits pushed to a pull request (GitHub's `synchronize`)."""

    number: Count
    before_sha: Sha | None = None
    head_sha: Sha
    updated_at: UtcDatetime | None = None


class PrMergedPayload(StrictModel):
    number: Count
    merge_commit_sha: Sha | None = None
    head_sha: Sha | None = None
    merged_at: UtcDatetime | None = None
    merged_by: Name | None = None


class PrClosedPayload(StrictModel):
    number: Count
    closed_at: UtcDatetime | None = None
    head_sha: Sha | None = None


class IssueOpenedPayload(StrictModel):
    number: Count
    title: Body
    body: Body | None = None
    user_login: Name
    state: Name = "open"
    labels: list[Name] = Field(default_factory=list, max_length=1000)
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None
    url: Name | None = None
    is_bot: bool = False


class IssueCommentPayload(StrictModel):
    issue_number: Count
    comment_id: int
    user_login: Name
    body: Body
    created_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    author_association: Name | None = None
    is_bot: bool = False


class FeedbackNotePayload(StrictModel):
    target: Literal["suggestion", "edit", "commit", "session"]
    target_id: Name | None = None
    note: Body
    rating: Annotated[int, Field(ge=-2, le=2)] | None = None


class CaptureGapPayload(StrictModel):
    """The spool hit its bound: these sequence numbers were not kept, so the gap is explicit, not silent."""

    first_seq: Count
    last_seq: Count
    dropped: Count
    reason: Name
