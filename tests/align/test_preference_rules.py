"""Preference pairs, one test per derivation: what was chosen over what, how it was derived, how sure we are."""

from __future__ import annotations

from pathlib import Path

from align.stream import Stream, align, of_kind

HEAD = "import math\n\n\ndef dist(p, q):\n    dx = p[0] - q[0]\n    dy = p[1] - q[1]\n"


def _pairs(records: list, derivation: str) -> list:
    return [r for r in of_kind(records, "preference") if r.derivation == derivation]


def test_rejected_suggestion_against_what_the_engineer_typed_instead(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"geo.py": HEAD})
    s.start()
    s.open("geo.py")
    shown = s.suggestion("rejected", "sg1", "    return abs(dx) + abs(dy)\n", "geo.py")
    typed = s.edit("geo.py", HEAD + "    return math.hypot(dx, dy)\n")
    s.suggestion("rejected", "sg2", "    pass\n", "geo.py", heuristic=True)
    s.edit("geo.py", HEAD + "    return math.hypot(dx, dy)\n\n\ndef unit():\n    return 1\n")
    records, _ = align(tmp_path, s.events)
    first, second = _pairs(records, "rejected_suggestion")
    assert (first.chosen, first.rejected) == ("    return math.hypot(dx, dy)\n", "    return abs(dx) + abs(dy)\n")
    assert first.context == HEAD and first.confidence == 0.7
    assert first.provenance.event_ids == [str(shown.id), str(typed.id)] and first.provenance.line_ranges == [
        ("geo.py", 7, 7)
    ]
    assert second.rejected == "    pass\n" and second.confidence == 0.5  # a suggestion we only inferred


def test_accepted_suggestion_against_the_version_that_survived(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"geo.py": HEAD})
    s.start()
    s.open("geo.py")
    accepted = "    return math.sqrt(dx ** 2 + dy ** 2)\n"
    s.suggestion("accepted", "sg1", accepted, "geo.py")
    s.edit("geo.py", HEAD + accepted)
    s.edit("geo.py", HEAD + "    return math.hypot(dx, dy)\n")
    survival = s.survival("sg1", 0.25, 10, "geo.py")
    s.suggestion("accepted", "sg2", "\n\nTAU = 2 * math.pi\n", "geo.py")
    s.edit("geo.py", HEAD + "    return math.hypot(dx, dy)\n\n\nTAU = 2 * math.pi\n")
    s.survival("sg2", 1.0, 18, "geo.py")  # all of it survived: nothing to prefer
    records, _ = align(tmp_path, s.events)
    [pair] = _pairs(records, "accepted_vs_survived")
    assert (pair.chosen, pair.rejected) == ("    return math.hypot(dx, dy)\n", accepted)
    assert pair.confidence == 0.8  # 0.5 + 0.4 x (1 - survived share)
    assert pair.context == HEAD and str(survival.id) in pair.provenance.event_ids
    assert pair.provenance.line_ranges == [("geo.py", 7, 7)]


def test_failing_version_against_the_next_passing_one(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"geo.py": HEAD + "    return dx + dy\n"})
    s.start()
    s.open("geo.py")
    failing = s.test_run({"tests/test_geo.py::test_dist": "failed", "tests/test_geo.py::test_other": "passed"})
    s.edit("geo.py", HEAD + "    return math.hypot(dx, dy)\n")
    passing = s.test_run({"tests/test_geo.py::test_dist": "passed", "tests/test_geo.py::test_other": "passed"})
    s.test_run({"tests/test_geo.py::test_dist": "passed"})  # passing again: no second pair
    records, _ = align(tmp_path, s.events)
    [pair] = _pairs(records, "fail_to_pass")
    assert (pair.chosen, pair.rejected) == ("    return math.hypot(dx, dy)\n", "    return dx + dy\n")
    assert pair.context == "# failing: tests/test_geo.py::test_dist\n" + HEAD and pair.confidence == 0.8
    assert pair.provenance.event_ids == [str(failing.id), str(passing.id)]


def test_code_before_against_after_a_review_comment(tmp_path: Path) -> None:
    v0 = "def perimeter(w, h):\n    return w + h\n"
    s = Stream()
    base = s.commit("Initial", {"geo.py": v0})
    first = s.commit("Double it", {"geo.py": v0.replace("w + h", "2 * w + h")})
    s.pr_opened(2, "Double", "", [first], base_sha=base, head_sha=first)
    hunk = "@@ -1,2 +1,2 @@\n def perimeter(w, h):\n-    return w + h\n+    return 2 * w + h\n"
    s.review_comment(2, 1, "Both sides need doubling.", "geo.py", 2, first, hunk)
    second = s.commit("Both sides", {"geo.py": v0.replace("w + h", "2 * (w + h)")})
    s.github("pr.updated", {"number": 2, "before_sha": first, "head_sha": second})
    records, _ = align(tmp_path, s.events)
    [pair] = _pairs(records, "review_revision")
    assert pair.chosen == "def perimeter(w, h):\n    return 2 * (w + h)\n"
    assert pair.rejected == "def perimeter(w, h):\n    return 2 * w + h\n"
    assert pair.context == f"geo.py\nReview comment: Both sides need doubling.\n\n{hunk}" and pair.confidence == 0.8
    assert pair.provenance.commits == [first, second]
