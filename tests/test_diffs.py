"""Unified diffs round-trip exactly: apply(before, diff(before, after)) == after, whatever the line endings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectory.diffs import DiffError, apply_diff, parse_diff, split_lines, unified_diff

_line = st.text(alphabet=st.sampled_from(["a", "b", " ", "\t", "é", "\r", "\x0c", "\u2028", "x"]), max_size=6)
_text = st.lists(_line, max_size=12).map("\n".join) | st.lists(_line, max_size=12).map(lambda ls: "\n".join(ls) + "\n")


@settings(max_examples=400, deadline=None)
@given(before=_text, after=_text, context=st.integers(0, 4))
def test_apply_reverses_diff_byte_for_byte(before: str, after: str, context: int) -> None:
    diff = unified_diff(before, after, "f.py", context=context)
    assert apply_diff(before, diff) == after


_breaks = st.text(
    alphabet=st.sampled_from(["a", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
)


@settings(max_examples=500, deadline=None)
@given(text=_breaks)
def test_lines_split_on_newlines_only(text: str) -> None:
    pieces = text.split("\n")
    expected = [piece + "\n" for piece in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    assert split_lines(text) == expected


def test_parse_gives_line_numbers_like_pydriller() -> None:
    before = "a\nb\nc\nd\n"
    after = "a\nB\nc\nd\ne\n"
    parsed = parse_diff(unified_diff(before, after))
    assert parsed.added == [(2, "B"), (5, "e")]
    assert parsed.deleted == [(2, "b")]


def test_missing_final_newline_is_kept() -> None:
    diff = unified_diff("x\n", "x\ny")
    assert "\\ No newline at end of file" in diff
    assert apply_diff("x\n", diff) == "x\ny"


def test_mismatched_context_is_an_error() -> None:
    diff = unified_diff("a\nb\nc\n", "a\nB\nc\n")
    with pytest.raises(DiffError):
        apply_diff("a\nz\nc\n", diff)
