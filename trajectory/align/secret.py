"""The second secret scan, on finished records: the capture's detector again, for what slipped by or was never
redacted (imports, older sidecars, hand-made event files); markers left by the first scan are not secrets."""

from __future__ import annotations

import re
from functools import lru_cache

from trajectory.privacy import Redaction, redact

# Literal text that every match of the capture's patterns contains (`trajectory.privacy`): the detector runs only
# on text holding one of them, since substring tests cost far less than its regular expressions. A test checks
# that every sample of the secrets corpus passes this filter.
_HINTS = (
    "PRIVATE KEY", "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ghp_", "gho_", "ghu_", "ghs_",
    "ghr_", "github_pat_", "glpat-", "gldt-", "glrt-", "glptt-", "xox", "hooks.slack.com", "AIza", "_live_",
    "_test_", "sk-", "npm_", "pypi-AgE", "SG.", "eyJ", "AccountKey=", "://",
)  # fmt: skip
_NAME_HINTS = ("passw", "pwd", "secret", "token", "key", "credential")
# The capture's marker for a URL credential, between the scheme and the `@host`, reads as a `user:password`
# itself: it is masked while scanning, so that the second scan does not count the first one's work as a secret.
_URL_MARKER = "[REDACTED:url_credential]"
_MASK = "\x00smartco-redacted\x00"


_LOWER_HINTS = tuple(sorted({hint.lower() for hint in (*_HINTS, *_NAME_HINTS)}))


def candidate_lines(text: str) -> list[str]:
    """The lines of `text` that hold a hint, in order (every pattern matches within one line, or from one)."""
    lowered = text.lower()
    spans: set[tuple[int, int]] = set()
    for hint in _LOWER_HINTS:
        at = lowered.find(hint)
        while at >= 0:
            first = lowered.rfind("\n", 0, at) + 1
            last = lowered.find("\n", at)
            last = len(text) if last < 0 else last
            spans.add((first, last))
            at = lowered.find(hint, last)
    return [text[first:last] for first, last in sorted(spans)]


@lru_cache(maxsize=65536)
def _line_holds_secret(line: str) -> bool:
    """Lines recur (a file's lines are in many records): each distinct one is checked once."""
    return bool(redact(line).counts)


@lru_cache(maxsize=256)
def scan(text: str) -> Redaction | None:
    """`text` redacted, with counts per kind of secret, when it holds a secret; None when it holds none.

    Cached: the same file texts recur in many records of one session. The detector first runs on the lines that
    hold a hint only, and on the whole text only when they hold a secret.
    """
    if not holds_secret(text):
        return None
    found = redact(text.replace(_URL_MARKER, _MASK))
    return Redaction(found.text.replace(_MASK, _URL_MARKER), found.counts) if found.counts else None


def holds_secret(text: str) -> bool:
    """Whether `text` holds a secret (the capture's markers are not secrets).

    Line by line, each distinct line judged once: records repeat lines (a diff's context, a file's lines in its
    versions) far more than they repeat whole texts, and lines known to be clean are set aside in one set
    difference. The same as asking `_line_holds_secret` of the lines `candidate_lines` picks.
    """
    masked = text.replace(_URL_MARKER, _MASK)
    for line in set(masked.split("\n")) - _clean:
        if _has_hint(line.lower()) and _line_holds_secret(line):
            return True
        if len(_clean) >= _CLEAN_LINES:
            _clean.clear()
        _clean.add(line)
    return False


def _has_hint(lowered: str) -> bool:
    # one pass of a regular expression is cheaper on a short line, substring tests on a long one
    if len(lowered) <= _SHORT_LINE:
        return _HINT.search(lowered) is not None
    return any(hint in lowered for hint in _LOWER_HINTS)


_HINT = re.compile("|".join(map(re.escape, _LOWER_HINTS)))
_SHORT_LINE = 48
_CLEAN_LINES = 1 << 15
_clean: set[str] = set()  # lines known to hold no secret (a bounded cache of a pure function)


def find_secret(text: str) -> str | None:
    """The kind of the first secret found in `text`, or None."""
    found = scan(text)
    return None if found is None else sorted(found.counts)[0]
