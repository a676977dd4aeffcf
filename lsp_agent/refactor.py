"""Refactors: an identifier replaced in several places in one edit burst (rename), files deleted and created (move)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from trajectory.diffs import split_lines

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\s+|.")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MIN_OCCURRENCES = 2
MOVE_WINDOW_S = 30.0  # a delete and a create this close together, with the same content, are a move


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


class MoveLog:
    """Files deleted lately, by content hash, and the moves already recorded (so each move is recorded once)."""

    def __init__(self, clock: Callable[[], float], window: float = MOVE_WINDOW_S) -> None:
        self.clock, self.window = clock, window
        self.deleted: dict[str, tuple[str, float]] = {}  # content hash -> (path, when)
        self.recorded: dict[tuple[str | None, str], float] = {}  # (old, new) -> when

    def delete(self, digest: str, path: str) -> None:
        self.deleted[digest] = (path, self.clock())

    def moved_from(self, digest: str, path: str) -> str | None:
        """The path a file created at `path` with this content was deleted from just before, if any."""
        seen = self.deleted.pop(digest, None)
        if seen is None or self.clock() - seen[1] > self.window or seen[0] == path:
            return None
        return seen[0]

    def first(self, old: str | None, new: str) -> bool:
        """True once per move within the window (editors announce a rename and also close and reopen)."""
        now, key = self.clock(), (old, new)
        if now - self.recorded.get(key, -self.window) < self.window:
            return False
        self.recorded[key] = now
        return True
