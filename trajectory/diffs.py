"""Unified diffs: make them from two texts, parse them into added/deleted lines, apply them back exactly."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

NO_NEWLINE = "\\ No newline at end of file"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class DiffError(ValueError):
    """A diff that cannot be parsed, or that does not apply to the text it is applied to."""


@dataclass
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: list[str] = field(default_factory=list)  # "+x", "-x", " x" with their own line endings


@dataclass
class ParsedDiff:
    """Added and deleted lines with their line numbers (1-based, in the new and the old file)."""

    added: list[tuple[int, str]]
    deleted: list[tuple[int, str]]


def unified_diff(before: str, after: str, path: str = "file", context: int = 3) -> str:
    """A unified diff from `before` to `after` that `apply_diff` turns back into `after` byte for byte."""
    if before == after:
        return ""
    old, new = split_lines(before), split_lines(after)
    out = [f"--- a/{path}\n", f"+++ b/{path}\n"]
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(f"@@ -{_range(i1, i2 - i1)} +{_range(j1, j2 - j1)} @@\n")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                out.extend(_mark(" ", old[a1:a2]))
                continue
            out.extend(_mark("-", old[a1:a2]))
            out.extend(_mark("+", new[b1:b2]))
    return "".join(out)


def _range(start: int, count: int) -> str:
    # A zero-length range names the line before it, as diff(1) does.
    first = start + 1 if count else start
    return f"{first}" if count == 1 else f"{first},{count}"


def _mark(prefix: str, lines: list[str]) -> list[str]:
    return [prefix + line if line.endswith("\n") else prefix + line + "\n" + NO_NEWLINE + "\n" for line in lines]


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split on "\n" only (str.splitlines also splits on \f, \x1c, \u2028 ...)."""
    lines = text.splitlines(keepends=True)
    # str.splitlines breaks at every "\n" ("\r\n" is one break) and at the other breaks too, each of which but a
    # last character adds a line: as many lines as "\n" makes means the same lines (a count is cheaper than a scan)
    if len(lines) == text.count("\n") + (not text.endswith("\n") and bool(text)):
        return lines
    lines = text.split("\n")
    last = lines.pop()
    out = [line + "\n" for line in lines]
    if last:
        out.append(last)
    return out


def parse_hunks(diff: str) -> list[Hunk]:
    """The hunks of a single-file unified diff (header lines are skipped)."""
    hunks: list[Hunk] = []
    for raw in split_lines(diff):
        match = _HUNK.match(raw)
        if match:
            old_count = int(match.group(2)) if match.group(2) is not None else 1
            new_count = int(match.group(4)) if match.group(4) is not None else 1
            hunks.append(Hunk(int(match.group(1)), old_count, int(match.group(3)), new_count))
        elif hunks and raw.startswith(NO_NEWLINE):
            hunks[-1].lines[-1] = hunks[-1].lines[-1].removesuffix("\n")
            if raw.rstrip("\n") != NO_NEWLINE:
                raise DiffError("malformed no-newline marker")
        elif hunks and raw[:1] in ("+", "-", " "):
            hunks[-1].lines.append(raw)
        elif hunks and raw == "\n":
            hunks[-1].lines.append(" " + raw)  # some tools strip the space of an empty context line
    return hunks


def parse_diff(diff: str) -> ParsedDiff:
    """Added lines numbered in the new file, deleted lines numbered in the old file (PyDriller's diff_parsed)."""
    added: list[tuple[int, str]] = []
    deleted: list[tuple[int, str]] = []
    for hunk in parse_hunks(diff):
        old_no, new_no = hunk.old_start, hunk.new_start
        for line in hunk.lines:
            text = line[1:].removesuffix("\n").removesuffix("\r")
            if line[0] == "+":
                added.append((new_no, text))
                new_no += 1
            elif line[0] == "-":
                deleted.append((old_no, text))
                old_no += 1
            else:
                old_no += 1
                new_no += 1
    return ParsedDiff(added, deleted)


def apply_diff(before: str, diff: str) -> str:
    """Apply a single-file unified diff to `before`; raises DiffError when the context does not match."""
    if not diff:
        return before
    return "".join(apply_diff_lines(split_lines(before), diff))


def apply_diff_lines(old: list[str], diff: str) -> list[str]:
    """`apply_diff` on a text split into lines (`split_lines`), giving the new text's lines (`old` is left as it
    is): a replay keeps each version's lines for the next edit instead of splitting the whole text again."""
    out: list[str] = []
    cursor = 0
    for hunk in parse_hunks(diff):
        start = hunk.old_start - 1 if hunk.old_count else hunk.old_start
        if start < cursor or start > len(old):
            raise DiffError(f"hunk at line {hunk.old_start} is out of order or past the end")
        out.extend(old[cursor:start])
        cursor = start
        for line in hunk.lines:
            body = line[1:]
            if line[0] in (" ", "-"):
                if cursor >= len(old) or old[cursor] != body:
                    raise DiffError(f"context mismatch at line {cursor + 1}")
                cursor += 1
                if line[0] == " ":
                    out.append(body)
            else:
                out.append(body)
    out.extend(old[cursor:])
    return out


def count_changes(diff: str) -> tuple[int, int]:
    """(lines added, lines removed) of a unified diff."""
    parsed = parse_diff(diff)
    return len(parsed.added), len(parsed.deleted)
