"""The second secret scan, on finished records: the sidecar redacts at capture, this catches what slipped by."""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("aws_access_key", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github_token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b")),
    ("slack_token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b")),
    ("private_key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("openai_key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}\b")),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b")),
    (
        "assigned_secret",
        re.compile(
            r"(?i)\b(password|passwd|secret|api_?key|access_?token|auth_?token)\b\s*[:=]\s*"
            r"[\"']([^\"'\s]{12,})[\"']"
        ),
    ),
)
_PLACEHOLDER = re.compile(r"(?i)^(x+|\*+|<.*>|\$\{.*\}|your[_-].*|changeme|example.*|dummy.*|test.*|REDACTED.*)$")


def find_secret(text: str) -> str | None:
    """The name of the first kind of secret found in `text`, or None."""
    for name, pattern in PATTERNS:
        for match in pattern.finditer(text):
            value = match.group(match.lastindex or 0) if name == "assigned_secret" else match.group(0)
            if not _PLACEHOLDER.match(value):
                return name
    return None


def redact(text: str) -> str:
    """`text` with every secret replaced by a marker."""
    for name, pattern in PATTERNS:
        if name == "assigned_secret":
            text = pattern.sub(
                lambda m: (
                    m.group(0).replace(m.group(2), REDACTED) if not _PLACEHOLDER.match(m.group(2)) else m.group(0)
                ),
                text,
            )
        else:
            text = pattern.sub(REDACTED, text)
    return text
