"""Privacy: pseudonymous engineer ids (salted hashes) and secret redaction with counts per kind."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections import Counter
from dataclasses import dataclass, field


def pseudonymise(identity: str, salt: str) -> str:
    """A stable pseudonym for an engineer identity (e-mail, login, name) under a team's salt.

    The same identity and salt always give the same pseudonym, so work can be linked across sources without
    storing who did it. Identities are compared case-insensitively and without surrounding spaces.
    """
    digest = hmac.new(salt.encode(), identity.strip().lower().encode(), hashlib.sha256).hexdigest()
    return f"u_{digest[:20]}"


# Secret redaction: applied to every text and diff before it touches the disk. Patterns name the kind of
# secret so that counts can be reported; values are never logged.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY"
            r"(?: BLOCK)?-----|\Z)",
            re.DOTALL,
        ),
    ),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b")),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b")),
    ("gitlab_token", re.compile(r"\bgl(?:pat|dt|rt|ptt)-[A-Za-z0-9_\-]{20,}")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}")),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    ("stripe_key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}")),
    ("openai_key", re.compile(r"\bsk-(?:proj-|ant-[a-z0-9]+-)?[A-Za-z0-9_\-]{20,}")),
    ("npm_token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("pypi_token", re.compile(r"\bpypi-AgE[A-Za-z0-9_\-]{50,}")),
    ("sendgrid_key", re.compile(r"\bSG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}")),
    ("azure_key", re.compile(r"(?<=AccountKey=)[A-Za-z0-9+/=]{40,}")),
)
_URL_CREDENTIAL = re.compile(r"(?<=://)(?P<user>[^\s/:@,\"'`]+):(?P<password>[^\s/@,\"'`]+)(?=@[A-Za-z0-9.\-\[])")

# A value assigned to a password/secret/token-like name, in code, JSON, YAML, INI, .env or shell syntax.
_SECRET_NAME = (
    r"[A-Za-z0-9_.\-]*(?:passw(?:or)?d|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|auth[_\-]?key"
    r"|credentials?|private[_\-]?key|client[_\-]?secret|signing[_\-]?key|encryption[_\-]?key)[A-Za-z0-9_.\-]*"
)
_ASSIGNED = re.compile(
    rf"""(?P<name>["']?{_SECRET_NAME}["']?)(?P<op>\s*(?::=|=>|[:=])\s*)"""
    r"""(?:(?P<quote>["'`])(?P<quoted>[^"'`\s]{8,256})(?P=quote)|(?P<bare>[^\s"'`,;#)(\]\[{}<>][^\s"'`,;)(\]\[{}<>]{7,255})(?=[\s,;]|$))""",
    re.IGNORECASE | re.MULTILINE,
)
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*$")
_PLACEHOLDER = re.compile(r"^(?:\$\{?[A-Za-z_]|\{\{?|%\(|<|\*+$|\[REDACTED)|changeme|example|placeholder|x{6,}", re.I)
# Passwords that documentation puts in example URLs (`scott:tiger@`, `user:pass@`, `a%20secret`).
_DOC_PASSWORD = re.compile(r"secret|passw|^(?:pw|pwd|tiger|pass)$", re.I)
MIN_ENTROPY = 3.0


def shannon_entropy(value: str) -> float:
    """Bits per character of `value` (0 for an empty string)."""
    if not value:
        return 0.0
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_secret(value: str, bare: bool = False) -> bool:
    """Whether a value assigned to a secret-like name looks like a real secret rather than code or prose."""
    if len(value) < 8 or _PLACEHOLDER.search(value):
        return False
    if bare and _IDENTIFIER.match(value) and not _random_word(value):
        return False  # `token = next_token`, `password: settings.db_password`
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )
    return classes >= 2 and shannon_entropy(value) >= MIN_ENTROPY


def _random_word(value: str) -> bool:
    """A bare word that reads as random (long, mixed case and digits, no `.`/`_`) rather than a code name."""
    return (
        len(value) >= 12
        and "." not in value
        and "_" not in value
        and any(c.isdigit() for c in value)
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
    )


@dataclass
class Redaction:
    """A redacted text and how many secrets of each kind were replaced in it."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def redact(text: str) -> Redaction:
    """Replace every secret in `text` with `[REDACTED:<kind>]`; values are never logged or kept."""
    counts: Counter[str] = Counter()
    for kind, pattern in _PATTERNS:
        text, n = pattern.subn(f"[REDACTED:{kind}]", text)
        if n:
            counts[kind] += n

    def assigned(match: re.Match[str]) -> str:
        value = match.group("quoted") or match.group("bare")
        if not looks_secret(value, bare=match.group("bare") is not None):
            return match.group(0)
        counts["assigned_secret"] += 1
        quote = match.group("quote") or ""
        return f"{match.group('name')}{match.group('op')}{quote}[REDACTED:assigned_secret]{quote}"

    def url_credential(match: re.Match[str]) -> str:
        if _PLACEHOLDER.search(match.group("password")) or _DOC_PASSWORD.search(match.group("password")):
            return match.group(0)  # `user:pass@host` in documentation
        counts["url_credential"] += 1
        return "[REDACTED:url_credential]"

    text = _URL_CREDENTIAL.sub(url_credential, text)
    text = _ASSIGNED.sub(assigned, text)
    return Redaction(text, dict(counts))


_KEY_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_KEY_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_KEY_BODY = re.compile(r"^(?:[A-Za-z0-9+/=]{16,}|[A-Za-z-]+: .*)$")  # base64, or a PEM header like Proc-Type
_DIFF_HEADER = ("--- ", "+++ ", "@@", "diff ", "index ", "\\")


def redact_diff(diff: str) -> Redaction:
    """Redact a unified diff line by line, keeping its shape (each line its prefix and ending, hunks their counts).

    A hunk may show only part of a private key (its context lines), which `redact` cannot recognise in isolation:
    on each side of the diff, the lines from a BEGIN marker on, and the key-body lines that lead up to an END
    marker, are redacted whole.
    """
    lines = diff.split("\n")
    keys = _key_lines(lines, "+") | _key_lines(lines, "-")
    counts: Counter[str] = Counter()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("@@"):
            out.append(_hunk_header(line, counts))
        elif line.startswith(_DIFF_HEADER) or not line:
            out.append(line)
        elif i in keys:
            out.append(line[0] + "[REDACTED:private_key]")
            if i - 1 not in keys:
                counts["private_key"] += 1
        else:
            red = redact(line[1:])
            counts.update(red.counts)
            out.append(line[0] + red.text)
    return Redaction("\n".join(out), dict(counts))


def _hunk_header(line: str, counts: Counter[str]) -> str:
    """git puts the nearest "function" line after a hunk's header: inside a key, that is a line of the key."""
    head, sep, context = line.partition(" @@ ")
    if not sep:
        return line
    if _KEY_BEGIN.search(context) or _KEY_END.search(context) or re.fullmatch(r"[A-Za-z0-9+/=]{40,}", context.strip()):
        counts["private_key"] += 1
        return f"{head} @@ [REDACTED:private_key]"
    red = redact(context)
    counts.update(red.counts)
    return f"{head} @@ {red.text}"


def _key_lines(lines: list[str], side: str) -> set[int]:
    """Indices of the lines of `lines` that belong to a private key, on the side of the diff `side` shows."""
    found: set[int] = set()
    inside = False
    run: list[int] = []  # key-body lines seen since the last line that was not one
    for i, line in enumerate(lines):
        if line.startswith("@@"):
            inside, run = False, []
        if line.startswith(_DIFF_HEADER) or line[:1] not in (" ", side):
            continue
        body = line[1:]
        if _KEY_BEGIN.search(body):
            inside = True
        if inside or _KEY_END.search(body):
            found.update([*run, i])
            run = []
        elif _KEY_BODY.match(body.strip()):
            run.append(i)
        else:
            run = []
        if _KEY_END.search(body):
            inside = False
    return found


def add_counts(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Add redaction counts into `total` (in place) and return it."""
    for kind, n in more.items():
        total[kind] = total.get(kind, 0) + n
    return total
