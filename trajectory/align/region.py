"""Where two versions of a text differ, as line regions, and where a region of one version went in the next."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache

from trajectory.diffs import split_lines


@dataclass(frozen=True)
class Region:
    """`before[start:old_end]` became `after[start:new_end]` (line indexes, 0-based); the rest is shared."""

    before: list[str]
    after: list[str]
    start: int
    old_end: int
    new_end: int

    @property
    def old_lines(self) -> list[str]:
        return self.before[self.start : self.old_end]

    @property
    def new_lines(self) -> list[str]:
        return self.after[self.start : self.new_end]

    @property
    def prefix(self) -> list[str]:
        return self.after[: self.start]

    @property
    def suffix(self) -> list[str]:
        return self.after[self.new_end :]


def changed_region(before: str, after: str) -> Region | None:
    """The one region spanning every changed line (common leading and trailing lines excluded), or None."""
    if before == after:
        return None
    old, new = split_lines(before), split_lines(after)
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    tail = 0
    while tail < limit - start and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return Region(old, new, start, len(old) - tail, len(new) - tail)


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes, with the common head and tail matched first (edits are local, files are long, and
    difflib without its junk heuristic is slow on long files)."""
    head = 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    matcher = difflib.SequenceMatcher(None, old[head : len(old) - tail], new[head : len(new) - tail], autojunk=False)
    ops: list[tuple[str, int, int, int, int]] = [
        (tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]
    if head:
        ops.insert(0, ("equal", 0, head, 0, head))
    if tail:
        ops.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return ops


@lru_cache(maxsize=64)
def changed_lines(before: str, after: str) -> list[tuple[int, int]]:
    """Ranges [first, last) of lines in `after` that were inserted or replaced, 0-based."""
    ops = _opcodes(split_lines(before), split_lines(after))
    return [(j1, j2) for tag, _, _, j1, j2 in ops if tag in ("insert", "replace") and j2 > j1]


def map_lines(before: str, after: str, first: int, last: int) -> tuple[int, int] | None:
    """Where lines [first, last) of `before` are in `after` (the span covering what survived of them)."""
    lo: int | None = None
    hi: int | None = None
    for tag, i1, i2, j1, j2 in _opcodes(split_lines(before), split_lines(after)):
        if i2 <= first or i1 >= last:
            continue
        if tag == "equal":
            a, b = j1 + max(first - i1, 0), j1 + min(last, i2) - i1
        elif tag == "replace":
            a, b = j1, j2
        else:
            continue
        lo = a if lo is None else min(lo, a)
        hi = b if hi is None else max(hi, b)
    return None if lo is None or hi is None else (lo, hi)


def window(lines: list[str], start: int, end: int, before: int, after: int) -> str:
    """Lines [start-before, end+after) joined."""
    return "".join(lines[max(start - before, 0) : end + after])
