"""Refactor detection in an edit episode: the same identifier replaced in several places in one burst."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from trajectory.diffs import split_lines

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\s+|.")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MIN_OCCURRENCES = 2


@dataclass(frozen=True)
class Rename:
    old_name: str
    new_name: str
    occurrences: int


def detect_rename(before: str, after: str) -> Rename | None:
    """A rename when every changed line differs from its counterpart only by one identifier swapped for another."""
    old, new = split_lines(before), split_lines(after)
    pairs: set[tuple[str, str]] = set()
    occurrences = 0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag != "replace" or a2 - a1 != b2 - b1:
            return None
        for old_line, new_line in zip(old[a1:a2], new[b1:b2], strict=True):
            swaps = _swaps(old_line, new_line)
            if swaps is None:
                return None
            pairs.update(swaps)
            occurrences += _count(old_line, new_line)
    if len(pairs) != 1 or occurrences < MIN_OCCURRENCES:
        return None
    ((old_name, new_name),) = pairs
    return Rename(old_name, new_name, occurrences)


def _swaps(old_line: str, new_line: str) -> set[tuple[str, str]] | None:
    a, b = _TOKEN.findall(old_line), _TOKEN.findall(new_line)
    if len(a) != len(b):
        return None
    swaps = {(x, y) for x, y in zip(a, b, strict=True) if x != y}
    if not swaps or not all(_IDENT.match(x) and _IDENT.match(y) for x, y in swaps):
        return None
    return swaps


def _count(old_line: str, new_line: str) -> int:
    return sum(1 for x, y in zip(_TOKEN.findall(old_line), _TOKEN.findall(new_line), strict=True) if x != y)


def same_content_move(deleted: dict[str, str], created: dict[str, str]) -> list[tuple[str, str]]:
    """(old path, new path) pairs where a deleted file reappears elsewhere with the same content hash."""
    by_hash = {digest: path for path, digest in deleted.items()}
    return [(by_hash[digest], path) for path, digest in created.items() if digest in by_hash]
