"""The benchmark tasks: which records feed each, how a record becomes a sample, which metrics rank it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ianvs_export.prompt import PROMPTS, PromptTemplate
from trajectory.records import (
    CommentRecord,
    CompletionRecord,
    GenerationRecord,
    IssueRecord,
    RecordBase,
    ReviewRecord,
    SimpleCommentRecord,
    read_records,
)

# sedna holds every field in a fixed-width numpy unicode array: one long row inflates the whole array
FIELD_CAP = 6000
TESTS_CAP = 12000
TRUNCATION_MARK = "\n…[truncated]"

RELIABILITY = ("error_rate", "timeout_rate", "refusal_rate", "agreement")
EDGE = ("latency_p50_ms", "latency_p95_ms", "ttft_ms", "tokens_per_s", "peak_memory_mb")
LOWER_IS_BETTER = frozenset(
    {"error_rate", "timeout_rate", "refusal_rate", "latency_p50_ms", "latency_p95_ms", "ttft_ms", "peak_memory_mb"}
)


@dataclass
class Sample:
    """One benchmark item: what the model is asked (query), what engineers wrote (response), and extras."""

    id: str
    query: str
    response: str
    language: str = "python"
    extras: dict[str, Any] = field(default_factory=dict)  # entry_point, tests, prefix, suffix, context


@dataclass(frozen=True)
class TaskSpec:
    name: str
    kinds: tuple[str, ...]
    metrics: tuple[str, ...]
    main_metric: str
    to_sample: Callable[[RecordBase], Sample | None]

    @property
    def prompt(self) -> PromptTemplate:
        return PROMPTS[self.name]


def cap(text: str, limit: int = FIELD_CAP) -> str:
    """Text cut to `limit` characters (with a visible mark) so no row inflates sedna's arrays."""
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATION_MARK)] + TRUNCATION_MARK


def _comment_sample(record: RecordBase) -> Sample | None:
    if isinstance(record, SimpleCommentRecord):
        return Sample(record.id, cap(record.code_snippet), cap(record.comment), record.language or "python")
    if isinstance(record, CommentRecord):
        notes = "\n".join(f"line {a.line_number}: {a.annotation}" for a in record.annotations)
        response = record.description if not notes else f"{record.description}\n{notes}".strip()
        return Sample(record.id, cap(record.code_snippet), cap(response), record.language or "python")
    return None


def _issue_sample(record: RecordBase) -> Sample | None:
    if not isinstance(record, IssueRecord) or not record.answers:
        return None
    others = [answer for answer in record.answers if answer.user_login != record.user_login]
    answer = (others or record.answers)[0]
    query = f"{record.question}\n\n{record.body}".strip()
    return Sample(record.id, cap(query), cap(answer.body), record.language or "text")


def _review_sample(record: RecordBase) -> Sample | None:
    if not isinstance(record, ReviewRecord):
        return None
    extras = {"revised_hunk": cap(record.revised_hunk or "")}
    return Sample(record.id, cap(record.diff_hunk), cap(record.comment), record.language or "python", extras)


def _generation_sample(record: RecordBase) -> Sample | None:
    if not isinstance(record, GenerationRecord):
        return None
    tests = record.tests or ""
    if len(tests) > TESTS_CAP or len(record.reference) > FIELD_CAP:
        return None  # a truncated test or reference would score every model wrongly
    query = f"{record.context}\n\n{record.prompt}".strip() if record.context else record.prompt
    extras = {"entry_point": record.entry_point, "tests": tests, "context": cap(record.context)}
    return Sample(record.id, cap(query), record.reference, record.language or "python", extras)


def _completion_sample(record: RecordBase) -> Sample | None:
    if not isinstance(record, CompletionRecord) or len(record.reference) > FIELD_CAP:
        return None
    half = FIELD_CAP // 2
    prefix, suffix = record.prefix[-half:], record.suffix[:half]
    extras = {"prefix": prefix, "suffix": suffix, "origin": record.origin}
    return Sample(record.id, f"{prefix}<FILL>{suffix}", record.reference, record.language or "python", extras)


_TEXT = ("bleu4", "rouge_l", "chrf")
TASKS: dict[str, TaskSpec] = {
    "comment": TaskSpec(
        "comment", ("comment", "comment_simple"), (*_TEXT, *RELIABILITY, *EDGE), "bleu4", _comment_sample
    ),
    "issue": TaskSpec(
        "issue",
        ("issue",),
        ("rouge_l", "bleu4", "chrf", "explanation_rate", *RELIABILITY, *EDGE),
        "rouge_l",
        _issue_sample,
    ),
    "review": TaskSpec("review", ("review",), (*_TEXT, *RELIABILITY, *EDGE), "bleu4", _review_sample),
    "generation": TaskSpec(
        "generation",
        ("generation",),
        ("pass_at_1", "syntax_valid_rate", "edit_similarity", "identifier_f1", "commented_rate", *RELIABILITY, *EDGE),
        "pass_at_1",
        _generation_sample,
    ),
    "completion": TaskSpec(
        "completion",
        ("completion",),
        ("exact_match", "edit_similarity", "identifier_f1", "chrf", *RELIABILITY, *EDGE),
        "exact_match",
        _completion_sample,
    ),
}
HUMAN_METRICS = ("human_accuracy", "human_accuracy_low", "human_accuracy_high", "judge_agreement")
LLM_JUDGE_METRICS = ("llm_judge_accuracy", "llm_judge_kappa")


def iter_samples(dataset_dir: Path, task: TaskSpec, split: str) -> Iterator[Sample]:
    """The samples of one task and split, from `DATASET/<kind>/<split>.jsonl` of every kind the task uses."""
    for kind in task.kinds:
        path = dataset_dir / kind / f"{split}.jsonl"
        if not path.is_file():
            continue
        for record in read_records(path):
            sample = task.to_sample(record)
            if sample is not None:
                yield sample
