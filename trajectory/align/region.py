"""Where two versions of a text differ, as line regions, and where a region of one version went in the next."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache

from trajectory.diffs import split_lines


@dataclass(frozen=True)
class Region:
    """Lines [start, old_end) of `before` became lines [start, new_end) of `after` (0-based); the rest is shared.

    `head` is where the region starts in both texts (characters); the shared tail starts at `old_tail` in
    `before` and at `new_tail` in `after`. Found with slice comparisons rather than line by line: an edit
    episode changes a few lines of a long file, and this runs on every one.
    """

    before: str
    after: str
    start: int
    old_end: int
    new_end: int
    head: int
    old_tail: int
    new_tail: int

    @property
    def old_lines(self) -> list[str]:
        return split_lines(self.before[self.head : self.old_tail])

    @property
    def new_lines(self) -> list[str]:
        return split_lines(self.after[self.head : self.new_tail])

    def prefix(self, count: int) -> str:
        """The last `count` lines of `after` before the region."""
        first = self.head
        for _ in range(count):
            if first == 0:
                break
            first = self.after.rfind("\n", 0, first - 1) + 1
        return self.after[first : self.head]

    def suffix(self, count: int) -> str:
        """The first `count` lines of `after` after the region."""
        last = self.new_tail
        for _ in range(count):
            newline = self.after.find("\n", last)
            if newline < 0:
                return self.after[self.new_tail :]
            last = newline + 1
        return self.after[self.new_tail : last]


_BLOCK = 256  # characters compared at once before bisecting: edits are local, texts share long heads and tails


def _common_prefix(a: str, b: str, limit: int) -> int:
    """How many leading characters `a` and `b` share (at most `limit`): whole blocks while they agree, then
    bisection within the first block that differs (short slices only: a long text is never copied whole)."""
    low = 0
    while low + _BLOCK <= limit and a[low : low + _BLOCK] == b[low : low + _BLOCK]:
        low += _BLOCK
    base, high = low, min(low + _BLOCK, limit)
    while low < high:
        middle = (low + high + 1) // 2
        if a[base:middle] == b[base:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    """How many trailing characters `a` and `b` share (at most `limit`), as `_common_prefix` from the end."""
    end_a, end_b = len(a), len(b)
    low = 0
    while low + _BLOCK <= limit and a[end_a - low - _BLOCK : end_a - low] == b[end_b - low - _BLOCK : end_b - low]:
        low += _BLOCK
    base, high = low, min(low + _BLOCK, limit)
    while low < high:
        middle = (low + high + 1) // 2
        if a[end_a - middle : end_a - base] == b[end_b - middle : end_b - base]:
            low = middle
        else:
            high = middle - 1
    return low


def _line_count(text: str, first: int, last: int) -> int:
    return text.count("\n", first, last) + (1 if last > first and text[last - 1] != "\n" else 0)


@lru_cache(maxsize=16)
def changed_region(before: str, after: str) -> Region | None:
    """The one region spanning every changed line (common leading and trailing lines excluded), or None."""
    if before == after:
        return None
    shared = _common_prefix(before, after, min(len(before), len(after)))
    head = before.rfind("\n", 0, shared) + 1  # whole lines only
    size = _common_suffix(before, after, min(len(before), len(after)) - head)

    def starts_line(text: str, distance: int) -> bool:
        at = len(text) - distance
        return at == head or text[at - 1] == "\n"

    if size and not (starts_line(before, size) and starts_line(after, size)):
        newline = before.find("\n", len(before) - size)  # the first line start inside the shared tail
        size = len(before) - newline - 1 if newline >= 0 else 0
    old_tail, new_tail = len(before) - size, len(after) - size
    start = before.count("\n", 0, head)
    return Region(
        before, after, start, start + _line_count(before, head, old_tail), start + _line_count(after, head, new_tail),
        head, old_tail, new_tail,
    )  # fmt: skip


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
