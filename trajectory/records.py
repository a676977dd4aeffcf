"""Dataset record types: what the aligned dataset and the benchmark are made of (not the wire schema)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from trajectory.diffs import apply_diff

RECORD_VERSION = 1
_ANSWER_KEY = re.compile(r"^answer_(\d+)$")


def stable_id(kind: str, *evidence: object) -> str:
    """A record id that depends only on its kind and its evidence, so rebuilding gives the same id."""
    digest = hashlib.blake2b(orjson.dumps([kind, *map(str, evidence)]), digest_size=12).hexdigest()
    return f"{kind}-{digest}"


class RecordModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Provenance(RecordModel):
    """Where a record came from: enough to find every event and commit it was built from."""

    repo: str
    commits: list[str] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)
    line_ranges: list[tuple[str, int, int]] = Field(default_factory=list)  # (path, first, last), 1-based, inclusive
    event_ids: list[str] = Field(default_factory=list)
    sessions: list[str] = Field(default_factory=list)
    actors: list[str] = Field(default_factory=list)
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    pull_requests: list[int] = Field(default_factory=list)  # pull requests this evidence belongs to or references
    issues: list[int] = Field(default_factory=list)  # issues this evidence belongs to or is linked to


class RecordBase(RecordModel):
    id: str  # stable: a hash of the kind and the evidence, so rebuilding gives the same id
    kind: str
    provenance: Provenance
    language: str | None = None
    license: str | None = None


class Annotation(RecordModel):
    line_number: int
    annotation: str


class CommentRecord(RecordBase):
    """The seed's annotated form: a snippet and the comments engineers wrote for its lines."""

    kind: Literal["comment"] = "comment"
    description: str
    code_snippet: str
    annotations: list[Annotation]


class SimpleCommentRecord(RecordBase):
    """The seed's simple form: a snippet and the one comment (e.g. a docstring) that explains it."""

    kind: Literal["comment_simple"] = "comment_simple"
    code_snippet: str
    comment: str


class Answer(RecordModel):
    user_login: str
    created_at: str | None = None
    updated_at: str | None = None
    body: str


class IssueRecord(RecordBase):
    """The seed's issue format: one question and its answers in order (`seed_form` flattens to answer_N)."""

    kind: Literal["issue"] = "issue"
    question: str
    user_login: str
    created_at: str | None = None
    updated_at: str | None = None
    body: str
    answers: list[Answer]

    @model_validator(mode="before")
    @classmethod
    def _gather_answers(cls, data: Any) -> Any:
        """Accept the seed's flat `answer_1`, `answer_2`, ... keys as the ordered `answers` list."""
        if not isinstance(data, dict) or not any(_ANSWER_KEY.match(key) for key in data):
            return data
        rest = {key: value for key, value in data.items() if not _ANSWER_KEY.match(key)}
        numbered = sorted((int(m.group(1)), value) for key, value in data.items() if (m := _ANSWER_KEY.match(key)))
        rest["answers"] = [*rest.get("answers", []), *(value for _, value in numbered)]
        return rest

    def seed_form(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "question": self.question,
            "user_login": self.user_login,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "body": self.body,
        }
        for number, answer in enumerate(self.answers, 1):
            out[f"answer_{number}"] = answer.model_dump()
        return out


class Feedback(RecordModel):
    """A judgment of one code version: review comment, test result, error or suggestion outcome."""

    type: Literal["review_comment", "test_result", "error", "suggestion_outcome", "note"]
    version: int  # index into TrajectoryRecord.steps (the version the feedback judged); -1 = the start
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)
    event_id: str | None = None


class Step(RecordModel):
    """One action; a step with a `path` and a `diff` turns the previous version of that file into the next."""

    action: Literal["edit", "commit", "test_run", "suggestion", "review", "merge", "checkout"]
    ts: datetime | None = None
    path: str | None = None
    diff: str = ""
    commit: str | None = None  # edits: the commit that contains their result; commits: their sha
    pull_request: int | None = None  # commits: the pull request they belong to
    event_ids: list[str] = Field(default_factory=list)


class TrajectoryRecord(RecordBase):
    kind: Literal["trajectory"] = "trajectory"
    task: str
    task_source: Literal["issue", "pull_request", "commit_message", "session"]
    start_commit: str | None = None  # the commit the starting version was checked out at, when known
    start_files: dict[str, str] = Field(default_factory=dict)  # path -> text of the starting version
    steps: list[Step]
    feedback: list[Feedback] = Field(default_factory=list)
    final_files: dict[str, str] = Field(default_factory=dict)
    outcome: dict[str, Any] = Field(default_factory=dict)  # merged, tests_passing, ...

    def replay(self) -> dict[str, str]:
        """The files after applying every step's diff, in order, to the starting version (raises DiffError)."""
        files = dict(self.start_files)
        for step in self.steps:
            if step.path is not None and step.diff:
                files[step.path] = apply_diff(files.get(step.path, ""), step.diff)
        return files


class ReviewRecord(RecordBase):
    """A CodeReviewer-style triple."""

    kind: Literal["review"] = "review"
    diff_hunk: str
    comment: str
    revised_hunk: str | None = None
    path: str | None = None
    line: int | None = None
    commit: str | None = None  # the commit the comment was made on
    revision_commit: str | None = None  # the later commit that changed the commented lines


class PreferenceRecord(RecordBase):
    kind: Literal["preference"] = "preference"
    context: str
    chosen: str
    rejected: str
    derivation: Literal["rejected_suggestion", "accepted_vs_survived", "fail_to_pass", "review_revision"]
    confidence: float = Field(ge=0.0, le=1.0)


class GenerationRecord(RecordBase):
    """Write a function from its docstring and context; the engineer's final body is the reference."""

    kind: Literal["generation"] = "generation"
    prompt: str  # signature + docstring, with the surrounding code as context
    context: str = ""
    reference: str
    entry_point: str
    tests: str | None = None  # test code that exercises it, when one exists


class CompletionRecord(RecordBase):
    """Next edit / next line: the code around an edit point and what the engineer typed or accepted there."""

    kind: Literal["completion"] = "completion"
    prefix: str
    suffix: str
    reference: str
    origin: Literal["typed", "accepted_suggestion"] = "typed"


AnyRecord = Annotated[
    Union[  # noqa: UP007
        CommentRecord,
        SimpleCommentRecord,
        IssueRecord,
        TrajectoryRecord,
        ReviewRecord,
        PreferenceRecord,
        GenerationRecord,
        CompletionRecord,
    ],
    Field(discriminator="kind"),
]
RECORD_ADAPTER: TypeAdapter[RecordBase] = TypeAdapter(AnyRecord)
RECORD_KINDS = (
    "comment",
    "comment_simple",
    "issue",
    "trajectory",
    "review",
    "preference",
    "generation",
    "completion",
)


SEED_ISSUE_KEYS = ("question", "user_login", "created_at", "updated_at", "body")
SEED_ANSWER_KEYS = ("user_login", "created_at", "updated_at", "body")


def record_to_dict(record: RecordBase) -> dict[str, Any]:
    """The JSON-ready form of a record; issues in the seed's flat form (`answer_1`, `answer_2`, ...)."""
    data = record.model_dump(mode="json")
    if isinstance(record, IssueRecord):
        for number, answer in enumerate(data.pop("answers"), 1):
            data[f"answer_{number}"] = answer
    return data


def record_to_json(record: RecordBase) -> bytes:
    """One JSONL line (without newline), keys in a fixed order so that rebuilding is byte-identical.

    Keys follow the record's field order (mappings inside are built in a fixed order too: the aligners never
    fill one from a set). Issues open with the seed's keys in the seed's order (question, user_login,
    created_at, updated_at, body, answer_1, answer_2, ..., each answer's keys in the seed's order too).
    """
    return dict_to_json(record_to_dict(record))


def dict_to_json(data: dict[str, Any]) -> bytes:
    """`record_to_json` of a record already in its `record_to_dict` form."""
    if data.get("kind") == "issue":
        answers = [key for key in data if key.startswith("answer_")]
        head = {key: data.pop(key) for key in SEED_ISSUE_KEYS}
        head |= {key: {field: data[key][field] for field in SEED_ANSWER_KEYS} for key in answers}
        data = {**head, **{key: value for key, value in data.items() if key not in head}}
    return orjson.dumps(data)


def parse_record(data: bytes | str | dict[str, Any]) -> RecordBase:
    """One record from a JSONL line or its dict, validated into its class."""
    if isinstance(data, dict):
        return RECORD_ADAPTER.validate_python(data)
    return RECORD_ADAPTER.validate_json(data)


def read_records(path: Path) -> Iterator[RecordBase]:
    """The records of one JSONL file, validated into their classes."""
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield parse_record(line)


def write_records(path: Path, records: Iterable[RecordBase]) -> int:
    """Write records as JSONL; returns how many were written."""
    count = 0
    with path.open("wb") as handle:
        for record in records:
            handle.write(record_to_json(record) + b"\n")
            count += 1
    return count
