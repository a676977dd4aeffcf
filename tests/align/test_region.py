"""Line regions found by slice comparison agree with the plain line-by-line definition, on any text."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from trajectory.align.region import _common_prefix, _common_suffix, changed_region
from trajectory.diffs import split_lines

_line = st.text(alphabet=st.sampled_from(["a", "b", " ", "\n", "\r", "é", "\u2028"]), max_size=4)
_text = st.lists(_line, max_size=10).map("".join)


def _by_lines(before: str, after: str) -> tuple[int, int, int] | None:
    """The definition: common leading and trailing whole lines excluded, the tail not overlapping the head."""
    if before == after:
        return None
    old, new = split_lines(before), split_lines(after)
    start, limit = 0, min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    tail = 0
    while tail < limit - start and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return start, len(old) - tail, len(new) - tail


@settings(max_examples=300, deadline=None)
@given(before=_text, after=_text, context=st.integers(0, 3))
def test_changed_region_is_the_line_by_line_region(before: str, after: str, context: int) -> None:
    region = changed_region(before, after)
    expected = _by_lines(before, after)
    if region is None:
        assert expected is None
        return
    assert (region.start, region.old_end, region.new_end) == expected
    old, new = split_lines(before), split_lines(after)
    assert region.old_lines == old[region.start : region.old_end]
    assert region.new_lines == new[region.start : region.new_end]
    assert region.prefix(context) == "".join(new[max(region.start - context, 0) : region.start])
    assert region.suffix(context) == "".join(new[region.new_end : region.new_end + context])


@settings(max_examples=300, deadline=None)
@given(
    base=st.text(alphabet=st.sampled_from("ab\n"), max_size=1500),
    at=st.integers(0, 1500),
    cut=st.integers(0, 600),
    insert=st.text(alphabet=st.sampled_from("ab\n"), max_size=600),
)
def test_changed_region_of_a_local_edit_in_a_long_text(base: str, at: int, cut: int, insert: str) -> None:
    """Long texts sharing long heads and tails, as an edit episode leaves them: the slice comparisons go block by
    block there, and must still find exactly the line-by-line region."""
    after = base[:at] + insert + base[at + cut :]
    region = changed_region(base, after)
    expected = _by_lines(base, after)
    assert (region and (region.start, region.old_end, region.new_end)) == expected
    if region is not None:
        assert "".join(region.old_lines) == "".join(split_lines(base)[region.start : region.old_end])


@settings(max_examples=300, deadline=None)
@given(
    base=st.text(alphabet=st.sampled_from("ab"), min_size=200, max_size=1500),
    at=st.integers(0, 1500),
    insert=st.text(alphabet=st.sampled_from("ab"), max_size=3),
    slack=st.integers(0, 300),
)
@example(base="a" * 600, at=599, insert="a", slack=89)  # the limit (511) ends one short of a block boundary
@example(base="ab" * 300, at=0, insert="", slack=0)
def test_common_head_and_tail_lengths_are_exact(base: str, at: int, insert: str, slack: int) -> None:
    """Character counts, block boundaries and the limit included: the plain definition, character by character."""
    after = base[:at] + insert + base[at + 1 :]
    limit = max(min(len(base), len(after)) - slack, 0)
    head = next((n for n in range(limit) if base[n] != after[n]), limit)
    tail = next((n for n in range(limit) if base[-1 - n] != after[-1 - n]), limit)
    assert _common_prefix(base, after, limit) == head
    assert _common_suffix(base, after, limit) == tail


@settings(max_examples=100, deadline=None)
@given(text=_text)
def test_split_lines_splits_on_newlines_only(text: str) -> None:
    lines = split_lines(text)
    assert "".join(lines) == text and all(line.count("\n") == 1 for line in lines[:-1])
    assert not lines or (lines[-1].count("\n") <= 1 and all(line.endswith("\n") for line in lines[:-1]))
