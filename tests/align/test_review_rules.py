"""Review records: the diff hunk, the comment on it, and the hunk of the later commit that changed those lines."""

from __future__ import annotations

from pathlib import Path

from align.stream import Stream, align, of_kind

from trajectory.diffs import apply_diff, parse_hunks

V0 = "def area(w, h):\n    return w * h\n\n\ndef perimeter(w, h):\n    return w + h\n"
V1 = V0.replace("return w + h", "return 2 * w + h")
HUNK = "@@ -4,3 +4,3 @@\n \n def perimeter(w, h):\n-    return w + h\n+    return 2 * w + h\n"


def _pr(s: Stream, *later: str) -> tuple[str, str, list[str]]:
    """A pull request: one commit, a review comment on line 6 of it, then commits with the given texts."""
    base = s.commit("Initial", {"geo.py": V0})
    first = s.commit("Double the perimeter", {"geo.py": V1})
    s.pr_opened(9, "Perimeter", "", [first], base_sha=base, head_sha=first)
    s.review_comment(9, 700, "Only w is doubled; use 2 * (w + h).", "geo.py", 6, first, HUNK)
    shas = []
    for number, text in enumerate(later):
        shas.append(s.commit(f"Follow-up {number}", {"geo.py": text}))
        s.github("pr.updated", {"number": 9, "before_sha": ([first, *shas])[-2], "head_sha": shas[-1]})
    return base, first, shas


def test_review_triple_links_the_comment_to_its_commit_and_the_revision(tmp_path: Path) -> None:
    s = Stream()
    revised = V0.replace("return w + h", "return 2 * (w + h)")
    _, first, [second] = _pr(s, revised)
    records, _ = align(tmp_path, s.events)
    [record] = of_kind(records, "review")
    assert (record.diff_hunk, record.comment) == (HUNK, "Only w is doubled; use 2 * (w + h).")
    assert (record.path, record.line, record.commit, record.revision_commit) == ("geo.py", 6, first, second)
    [hunk] = parse_hunks(record.revised_hunk)
    assert "-    return 2 * w + h\n" in hunk.lines and "+    return 2 * (w + h)\n" in hunk.lines
    assert apply_diff(V1, record.revised_hunk) == revised  # the revised hunk is the revision itself
    assert record.provenance.commits == [first, second] and record.provenance.pull_requests == [9]
    assert record.provenance.line_ranges == [("geo.py", 6, 6)]


def test_the_revision_is_found_after_lines_moved(tmp_path: Path) -> None:
    s = Stream()
    header = '"""Shapes."""\n\nimport math\n\n\n'
    moved = header + V1  # the commented line is now line 11
    revised = header + V0.replace("return w + h", "return 2 * (w + h)")
    _, _, [shift, fix] = _pr(s, moved, revised)
    records, _ = align(tmp_path, s.events)
    [record] = of_kind(records, "review")
    assert record.revision_commit == fix and shift not in record.provenance.commits
    assert "+    return 2 * (w + h)\n" in record.revised_hunk


def test_a_comment_nobody_acted_on_has_no_revision_and_no_preference(tmp_path: Path) -> None:
    s = Stream()
    unrelated = '"""Shapes."""\n' + V1
    _pr(s, unrelated)
    records, _ = align(tmp_path, s.events)
    [record] = of_kind(records, "review")
    assert record.revised_hunk is None and record.revision_commit is None
    assert [p for p in of_kind(records, "preference") if p.derivation == "review_revision"] == []


def test_replies_empty_and_bot_comments_are_not_reviews(tmp_path: Path) -> None:
    s = Stream()
    _, first, _ = _pr(s)
    s.review_comment(9, 701, "Agreed.", "geo.py", 6, first, HUNK, in_reply_to=700)
    s.review_comment(9, 702, "  ", "geo.py", 6, first, HUNK)
    s.review_comment(9, 703, "Coverage dropped by 0.1%.", "geo.py", 6, first, HUNK, user="codecov[bot]")
    records, dropped = align(tmp_path, s.events)
    assert [r.comment for r in of_kind(records, "review")] == ["Only w is doubled; use 2 * (w + h)."]
    assert dropped["bot_review"] == 1
