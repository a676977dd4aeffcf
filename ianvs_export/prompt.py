"""Versioned prompt templates per task; the hash of each is written into every output that used it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class PromptTemplate:
    task: str
    version: str
    system: str
    instruction: str  # written as the `prompt` field of each sample: Ianvs's x = prompt + query

    @property
    def digest(self) -> str:
        """sha256 over version, system and instruction (first 16 hex digits)."""
        text = "\x1f".join((self.task, self.version, self.system, self.instruction))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


_SYSTEM = "You are a careful senior software engineer. Answer with exactly what is asked, nothing else."

PROMPTS: dict[str, PromptTemplate] = {
    "comment": PromptTemplate(
        "comment",
        "comment-v1",
        _SYSTEM,
        "Write the comment an engineer would write for this code: one or two sentences, plain text.\n\n",
    ),
    "issue": PromptTemplate(
        "issue",
        "issue-v1",
        _SYSTEM,
        "Answer this issue as a maintainer would: say what causes it and how to fix it.\n\n",
    ),
    "review": PromptTemplate(
        "review",
        "review-v1",
        _SYSTEM,
        "Write the code review comment a reviewer would leave on this diff hunk, in one or two sentences.\n\n",
    ),
    "generation": PromptTemplate(
        "generation",
        "generation-v1",
        _SYSTEM,
        "Complete the Python function below. Reply with the whole function in one ```python block.\n\n",
    ),
    "completion": PromptTemplate(
        "completion",
        "completion-v1",
        _SYSTEM,
        "Fill in the code at <FILL>. Reply with only the missing code, no explanation, no code fence.\n\n",
    ),
}
