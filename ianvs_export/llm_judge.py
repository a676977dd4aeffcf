"""An optional LLM judge through an OpenAI-compatible endpoint: temperature 0, parse failures count as incorrect."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ianvs_export.backend import Backend, Request, timed

_VERDICT = re.compile(r"\b(partially correct|incorrect|correct|partial)\b", re.IGNORECASE)
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
    word = found.group(1).lower()
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
