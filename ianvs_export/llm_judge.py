"""An optional LLM judge through an OpenAI-compatible endpoint: temperature 0, parse failures count as incorrect."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ianvs_export.backend import Backend, Request, timed
from ianvs_export.judge import SheetItem

_VERDICT = re.compile(r"\b((?:not|isn't|is not)\s+)?(partially correct|incorrect|correct|partial)\b", re.IGNORECASE)
_CHOICE = re.compile(r"\b(A|B|tie)\b")

POINTWISE_SYSTEM = "You grade answers to software engineering questions strictly and reply with one word."
POINTWISE = (
    "Question:\n{question}\n\nAnswer the maintainers accepted:\n{reference}\n\nCandidate answer:\n{answer}\n\n"
    "Is the candidate answer correct, partial (partly right or incomplete) or incorrect? "
    "Reply with exactly one word: correct, partial or incorrect."
)
PAIRWISE = (
    "Question:\n{question}\n\nAnswer the maintainers accepted:\n{reference}\n\nAnswer A:\n{first}\n\n"
    "Answer B:\n{second}\n\nWhich answer is better? Reply with exactly one word: A, B or tie."
)


@dataclass(frozen=True)
class Verdict:
    label: str  # correct | partial | incorrect
    parsed: bool


def parse_verdict(text: str) -> Verdict:
    """The first verdict word in the judge's reply; an unparseable reply is `incorrect` (and counted)."""
    found = _VERDICT.search(text)
    if not found:
        return Verdict("incorrect", False)
    negated, word = found.group(1), found.group(2).lower()
    if negated:
        return Verdict("incorrect", True)  # "not correct", "not partially correct"
    return Verdict("partial" if word.startswith("partial") else word, True)


def judge_item(backend: Backend, item: Mapping[str, str]) -> Verdict:
    """Label one sheet item against its reference (a failed call is a parse failure: incorrect)."""
    prompt = POINTWISE.format(question=item["question"], reference=item["reference"], answer=item["answer"])
    answer = timed(backend, Request(system=POINTWISE_SYSTEM, x=prompt, query=prompt))
    if answer.status != "ok":
        return Verdict("incorrect", False)
    return parse_verdict(answer.text)


def pairwise(
    backend: Backend, question: str, reference: str, first: str, second: str
) -> Literal["first", "second", "tie"]:
    """Ask in both orders; a winner only when both orders agree, otherwise (or on parse failure) a tie."""
    picks = []
    for a, b in ((first, second), (second, first)):
        prompt = PAIRWISE.format(question=question, reference=reference, first=a, second=b)
        answer = timed(backend, Request(system=POINTWISE_SYSTEM, x=prompt, query=prompt))
        found = _CHOICE.search(answer.text) if answer.status == "ok" else None
        picks.append(found.group(1) if found else "tie")
    if picks == ["A", "B"]:
        return "first"
    if picks == ["B", "A"]:
        return "second"
    return "tie"


def compare(backend: Backend, items: Sequence[SheetItem], first: str, second: str) -> dict[str, Any]:
    """Pairwise verdicts of two candidates on every sample both answered: wins, ties and the per-sample outcome."""
    answers: dict[str, dict[str, SheetItem]] = {}
    for item in items:
        answers.setdefault(item.sample_id, {})[item.candidate] = item
    outcomes: dict[str, str] = {}
    for sample_id, by_candidate in answers.items():
        if first in by_candidate and second in by_candidate:
            a, b = by_candidate[first], by_candidate[second]
            outcomes[sample_id] = pairwise(backend, a.question, a.reference, a.answer, b.answer)
    counts = Counter(outcomes.values())
    return {
        "first": first,
        "second": second,
        "samples": len(outcomes),
        "first_wins": counts["first"],
        "second_wins": counts["second"],
        "ties": counts["tie"],
        "outcomes": outcomes,
    }
