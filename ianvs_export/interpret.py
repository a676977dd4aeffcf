"""Interpretability and refusal rules, applied to one answer at a time (documented in the README).

- Generated code "carries accurate comments" when it has at least one `#` comment or docstring, and every
  identifier-like word the comments mention (a word with an underscore, an inner capital or a call `name(`)
  exists as an identifier in the code: comments naming things the code does not have are stale, not accurate.
- An issue answer "gives an explanation" when it has at least 12 words and a causal marker
  (because, since, due to, caused by, the reason, this happens, which means, so that, otherwise, as a result,
  that is why, leads to).
- An answer is a refusal when its first 200 characters carry a refusal phrase (I can't / I cannot / I'm sorry /
  as an AI / I am unable / I won't ...).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

from ianvs_export.metric import identifiers

_CAUSAL = re.compile(
    r"\b(because|since|due to|caused by|the reason|this happens|which means|so that|otherwise|as a result|"
    r"that is why|that's why|leads to)\b",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"\b(i can(?:no|')t|i cannot|i'?m sorry|i am sorry|as an ai|i am unable|i'?m unable|i won'?t|i will not)\b",
    re.IGNORECASE,
)
_MENTION = re.compile(r"\b([A-Za-z]+_[A-Za-z0-9_]+|[a-z]+[A-Z][A-Za-z0-9]*)\b|\b([A-Za-z_]\w*)\(")


def is_refusal(answer: str) -> bool:
    return bool(_REFUSAL.search(answer[:200]))


def explains(answer: str) -> bool:
    return len(answer.split()) >= 12 and bool(_CAUSAL.search(answer))


def comment_text(code: str) -> str:
    """All `#` comments and docstrings of a piece of Python code (empty if it does not parse)."""
    parts: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.COMMENT:
                parts.append(token.string.lstrip("#"))
        tree = ast.parse(code)
    except (SyntaxError, tokenize.TokenError, ValueError):
        return ""
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            docstring = ast.get_docstring(node)
            if docstring:
                parts.append(docstring)
    return "\n".join(parts)


def has_accurate_comments(code: str) -> bool:
    text = comment_text(code)
    if not text.strip():
        return False
    known = identifiers(_without_comments(code))
    mentioned = {a or b for a, b in _MENTION.findall(text)}
    return all(name in known for name in mentioned)


def _without_comments(code: str) -> str:
    kept: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.NAME:
                kept.append(token.string)
    except (tokenize.TokenError, SyntaxError):
        return code
    return " ".join(kept)
