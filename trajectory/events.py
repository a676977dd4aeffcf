"""The versioned wire schema of recorded actions: an envelope per event kind, discriminated by `kind`.

Cheap to import (pydantic and the standard library only): the sidecar, the collector and the dataset builder all
speak it. Within schema version 1 changes are additive only; payload models live in `trajectory.payloads`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union
from uuid import UUID

from pydantic import Field, TypeAdapter

from trajectory.ids import uuid7
from trajectory.payloads import (
    MAX_PATH,
    CaptureGapPayload,
    CheckoutPayload,
    CommitPayload,
    Count,
    DocumentChangedPayload,
    DocumentClosedPayload,
    DocumentOpenedPayload,
    DocumentSavedPayload,
    FeedbackNotePayload,
    IssueCommentPayload,
    IssueOpenedPayload,
    Name,
    PrClosedPayload,
    PrMergedPayload,
    PrOpenedPayload,
    PrUpdatedPayload,
    RebasePayload,
    RefactorDetectedPayload,
    ReviewCommentPayload,
    ReviewSubmittedPayload,
    SessionEndedPayload,
    SessionStartedPayload,
    StrictModel,
    SuggestionAcceptedPayload,
    SuggestionRejectedPayload,
    SuggestionShownPayload,
    SuggestionSurvivalPayload,
    TestRunPayload,
    UtcDatetime,
)

SCHEMA_VERSION = 1
SOURCES = ("sidecar", "git", "github", "import")


class EventBase(StrictModel):
    """The envelope every event carries; `id` is client-generated and is the idempotency key."""

    id: UUID
    schema_version: Literal[1] = 1
    kind: str
    ts: UtcDatetime
    session_id: Name
    seq: Count
    actor: Name
    repo: Name
    path: Annotated[str, Field(max_length=MAX_PATH)] | None = None
    source: Literal["sidecar", "git", "github", "import"]
    payload: StrictModel


class SessionStartedEvent(EventBase):
    """A capture session began (editor, sidecar, git state)."""

    kind: Literal["session.started"]
    payload: SessionStartedPayload


class SessionEndedEvent(EventBase):
    """A capture session ended."""

    kind: Literal["session.ended"]
    payload: SessionEndedPayload


class DocumentOpenedEvent(EventBase):
    """A document was opened; its redacted full text."""

    kind: Literal["document.opened"]
    payload: DocumentOpenedPayload


class DocumentChangedEvent(EventBase):
    """An edit episode: coalesced keystrokes as one diff."""

    kind: Literal["document.changed"]
    payload: DocumentChangedPayload


class DocumentSavedEvent(EventBase):
    """A document was saved; its redacted full text."""

    kind: Literal["document.saved"]
    payload: DocumentSavedPayload


class DocumentClosedEvent(EventBase):
    """A document was closed."""

    kind: Literal["document.closed"]
    payload: DocumentClosedPayload


class GitCommitEvent(EventBase):
    """A commit with per-file diffs and stats."""

    kind: Literal["git.commit"]
    payload: CommitPayload


class GitMergeEvent(EventBase):
    """A merge commit (several parents); its diff is against the first parent."""

    kind: Literal["git.merge"]
    payload: CommitPayload


class GitCheckoutEvent(EventBase):
    """HEAD moved to another branch or commit."""

    kind: Literal["git.checkout"]
    payload: CheckoutPayload


class GitRebaseEvent(EventBase):
    """History was rewritten (rebase, amend, reset, force push)."""

    kind: Literal["git.rebase"]
    payload: RebasePayload


class SuggestionShownEvent(EventBase):
    """An LLM suggestion was shown to the engineer."""

    kind: Literal["suggestion.shown"]
    payload: SuggestionShownPayload


class SuggestionAcceptedEvent(EventBase):
    """The engineer accepted a suggestion."""

    kind: Literal["suggestion.accepted"]
    payload: SuggestionAcceptedPayload


class SuggestionRejectedEvent(EventBase):
    """The engineer rejected or dismissed a suggestion."""

    kind: Literal["suggestion.rejected"]
    payload: SuggestionRejectedPayload


class SuggestionSurvivalEvent(EventBase):
    """How much of an accepted suggestion is still in the code."""

    kind: Literal["suggestion.survival"]
    payload: SuggestionSurvivalPayload


class RefactorDetectedEvent(EventBase):
    """A rename, move or extract seen in the edits."""

    kind: Literal["refactor.detected"]
    payload: RefactorDetectedPayload


class TestRunEvent(EventBase):
    """A test run with per-test outcomes."""

    kind: Literal["test.run"]
    payload: TestRunPayload


class ReviewCommentEvent(EventBase):
    """A pull request review comment on a diff hunk."""

    kind: Literal["review.comment"]
    payload: ReviewCommentPayload


class ReviewSubmittedEvent(EventBase):
    """A pull request review was submitted."""

    kind: Literal["review.submitted"]
    payload: ReviewSubmittedPayload


class PrOpenedEvent(EventBase):
    """A pull request was opened."""

    kind: Literal["pr.opened"]
    payload: PrOpenedPayload


class PrUpdatedEvent(EventBase):
    """New commits were pushed to a pull request."""

    kind: Literal["pr.updated"]
    payload: PrUpdatedPayload


class PrMergedEvent(EventBase):
    """A pull request was merged."""

    kind: Literal["pr.merged"]
    payload: PrMergedPayload


class PrClosedEvent(EventBase):
    """A pull request was closed without merging."""

    kind: Literal["pr.closed"]
    payload: PrClosedPayload


class IssueOpenedEvent(EventBase):
    """An issue was opened."""

    kind: Literal["issue.opened"]
    payload: IssueOpenedPayload


class IssueCommentEvent(EventBase):
    """A comment on an issue."""

    kind: Literal["issue.comment"]
    payload: IssueCommentPayload


class FeedbackNoteEvent(EventBase):
    """An engineer's explicit remark on a suggestion, edit or commit."""

    kind: Literal["feedback.note"]
    payload: FeedbackNotePayload


class CaptureGapEvent(EventBase):
    """Events that could not be kept (spool bound), made explicit."""

    kind: Literal["capture.gap"]
    payload: CaptureGapPayload


EVENT_CLASSES: dict[str, type[EventBase]] = {
    cls.model_fields["kind"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (
        SessionStartedEvent,
        SessionEndedEvent,
        DocumentOpenedEvent,
        DocumentChangedEvent,
        DocumentSavedEvent,
        DocumentClosedEvent,
        GitCommitEvent,
        GitMergeEvent,
        GitCheckoutEvent,
        GitRebaseEvent,
        SuggestionShownEvent,
        SuggestionAcceptedEvent,
        SuggestionRejectedEvent,
        SuggestionSurvivalEvent,
        RefactorDetectedEvent,
        TestRunEvent,
        ReviewCommentEvent,
        ReviewSubmittedEvent,
        PrOpenedEvent,
        PrUpdatedEvent,
        PrMergedEvent,
        PrClosedEvent,
        IssueOpenedEvent,
        IssueCommentEvent,
        FeedbackNoteEvent,
        CaptureGapEvent,
    )
}
KINDS: tuple[str, ...] = tuple(EVENT_CLASSES)

Event = Annotated[Union[tuple(EVENT_CLASSES.values())], Field(discriminator="kind")]  # type: ignore[valid-type]  # noqa: UP007
"""Any one event, validated into the class of its kind."""

EVENT_ADAPTER: TypeAdapter[EventBase] = TypeAdapter(Event)  # type: ignore[arg-type]


def parse_event(data: dict[str, Any] | bytes | str) -> EventBase:
    """One event from a dict or JSON text; raises pydantic.ValidationError saying what is wrong."""
    if isinstance(data, bytes | str):
        return EVENT_ADAPTER.validate_json(data)
    return EVENT_ADAPTER.validate_python(data)


def make_event(kind: str, payload: dict[str, Any] | StrictModel, **envelope: Any) -> EventBase:
    """Build and validate an event of `kind`; a missing `id` becomes a fresh UUIDv7 and a missing `ts` now."""
    cls = EVENT_CLASSES.get(kind)
    if cls is None:
        raise ValueError(f"unknown event kind {kind!r}")
    envelope.setdefault("id", uuid7())
    envelope.setdefault("ts", datetime.now(UTC))
    if isinstance(payload, StrictModel):
        payload = payload.model_dump()
    return cls.model_validate({"kind": kind, "payload": payload, **envelope})


def event_to_dict(event: EventBase) -> dict[str, Any]:
    """The JSON-ready form of an event: what goes on the wire and into JSONL files."""
    return event.model_dump(mode="json", exclude_none=True)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one event (all kinds), as kept in docs/event-schema.json."""
    schema = EVENT_ADAPTER.json_schema()
    schema["title"] = f"smartco event, schema version {SCHEMA_VERSION}"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
