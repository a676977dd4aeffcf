"""Line regions found by slice comparison agree with the plain line-by-line definition, on any text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from trajectory.align.region import changed_region
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


@settings(max_examples=100, deadline=None)
@given(text=_text)
def test_split_lines_splits_on_newlines_only(text: str) -> None:
    lines = split_lines(text)
    assert "".join(lines) == text and all(line.count("\n") == 1 for line in lines[:-1])
    assert not lines or (lines[-1].count("\n") <= 1 and all(line.endswith("\n") for line in lines[:-1]))
