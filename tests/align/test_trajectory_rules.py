"""Trajectory alignment rules on hand-made event sequences: task, start, steps, feedback on exact versions, links."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from align.stream import START, Stream, align, of_kind

V0 = "def area(w, h):\n    return w * h\n\n\ndef perimeter(w, h):\n    return w + h\n"
V1 = V0.replace("return w + h", "return 2 * w + h")
V2 = V0.replace("return w + h", "return 2 * (w + h)")


def _only(records: list, **match: object) -> object:
    found = [r for r in records if all(getattr(r, k) == v for k, v in match.items())]
    assert len(found) == 1, f"{len(found)} records match {match}"
    return found[0]


def test_session_trajectory_has_task_start_ordered_steps_feedback_on_exact_versions_and_outcome(
    tmp_path: Path,
) -> None:
    s = Stream()
    base = s.commit("Initial", {"geo.py": V0})
    s.start()
    s.open("geo.py")
    first = s.edit("geo.py", V1)
    failing = s.test_run({"tests/test_geo.py::test_perimeter": "failed"})
    s.suggestion("rejected", "sg1", "    return w + h + w + h\n", "geo.py")
    second = s.edit("geo.py", V2)
    passing = s.test_run({"tests/test_geo.py::test_perimeter": "passed"})
    s.save("geo.py")
    sha = s.commit("Double both sides of the perimeter\n\nIt doubled w only.", session="s1", source="sidecar")
    records, _ = align(tmp_path, s.events)

    record = _only(of_kind(records, "trajectory"), task_source="commit_message", start_commit=base)
    assert record.task == "Double both sides of the perimeter\n\nIt doubled w only."
    assert record.start_files == {"geo.py": V0} and record.final_files == {"geo.py": V2}
    assert [step.action for step in record.steps] == ["edit", "test_run", "suggestion", "edit", "test_run", "commit"]
    assert [step.event_ids for step in record.steps[:2]] == [[str(first.id)], [str(failing.id)]]
    assert record.replay() == record.final_files
    # Each feedback judged the version produced by the last code change before it.
    by_event = {fb.event_id: fb for fb in record.feedback}
    assert by_event[str(failing.id)].version == 0 and by_event[str(failing.id)].detail["passing"] is False
    assert by_event[str(passing.id)].version == 3 and by_event[str(passing.id)].detail["passing"] is True
    assert record.steps[by_event[str(passing.id)].version].event_ids == [str(second.id)]
    assert by_event[str(failing.id)].detail["failing"] == ["tests/test_geo.py::test_perimeter"]
    suggestion = next(fb for fb in record.feedback if fb.type == "suggestion_outcome")
    assert suggestion.version == 0 and suggestion.detail["outcome"] == "rejected"
    assert record.outcome == {"committed": True, "commit": sha, "pull_request": None, "tests_passing": True}
    assert [step.commit for step in record.steps if step.action == "edit"] == [sha, sha]


def test_edit_episodes_link_to_the_commit_that_contains_their_result(tmp_path: Path) -> None:
    """a.py is committed in the session; b.py only later, by a commit the importer mined.

    An episode links to the first later commit of its file that holds every line it added: the first b.py
    episode added a line that is gone again, so no commit contains its result.
    """
    s = Stream()
    s.commit("Initial", {"a.py": "A = 1\n", "b.py": "B = 1\n"})
    s.start()
    s.open("a.py")
    s.open("b.py")
    s.edit("a.py", "A = 2\n")
    s.edit("b.py", "B = 2\nextra = 0\n")
    s.edit("b.py", "B = 2\n")
    in_session = s.commit("Change A", {"a.py": "A = 2\n"}, session="s1", source="sidecar")
    s.later(30)
    mined = s.commit("Change B", {"b.py": "B = 2\n"})
    records, _ = align(tmp_path, s.events)

    record = _only(of_kind(records, "trajectory"), task="Change A")
    links = [(step.path, step.commit) for step in record.steps if step.action == "edit"]
    assert links == [("a.py", in_session), ("b.py", None), ("b.py", mined)]
    assert record.provenance.commits == [in_session, mined]


def test_a_session_that_did_not_see_its_commit_takes_task_and_outcome_from_the_mined_commit(tmp_path: Path) -> None:
    s = Stream()
    base = s.commit("Initial", {"geo.py": V0})
    s.start()
    s.open("geo.py")
    s.edit("geo.py", V2)
    s.emit("session.ended", {"reason": "shutdown"})
    s.later(10)
    sha = s.commit("Fix perimeter", {"geo.py": V2})
    records, _ = align(tmp_path, s.events)

    trajectories = of_kind(records, "trajectory")
    record = _only(trajectories, task="Fix perimeter")
    assert record.provenance.sessions == ["s1"] and record.start_commit == base
    assert record.outcome["commit"] == sha and record.outcome["committed"] is True
    assert record.steps[0].commit == sha
    # The commit is not aligned a second time from history alone: the session told more about it.
    assert [t.outcome.get("commit") for t in trajectories] == [sha, base]


def test_a_commit_in_the_second_of_the_last_edit_contains_it(tmp_path: Path) -> None:
    """Git keeps whole seconds: a commit made 0.4 s after the last edit carries a time 0.6 s before it."""
    s = Stream(start=START.replace(microsecond=600_000))
    s.commit("Initial", {"geo.py": V0})
    s.start()
    s.open("geo.py")
    edit = s.edit("geo.py", V2)
    s.emit("session.ended", {"reason": "shutdown"})
    s.clock = edit.ts.replace(microsecond=0) - timedelta(minutes=1)  # the commit's event adds the minute back
    sha = s.commit("Fix perimeter", {"geo.py": V2})
    assert s.events[-1].ts < edit.ts
    records, _ = align(tmp_path, s.events)
    [session] = [r for r in of_kind(records, "trajectory") if r.provenance.sessions == ["s1"]]
    assert session.task == "Fix perimeter" and session.outcome["commit"] == sha
    assert session.steps[0].action == "edit" and session.steps[0].commit == sha


def test_uncommitted_work_is_a_trajectory_of_its_own(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"geo.py": V0})
    s.start()
    s.open("geo.py")
    s.edit("geo.py", V1)
    records, _ = align(tmp_path, s.events)
    record = _only(of_kind(records, "trajectory"), task_source="session")
    assert record.task == "Uncommitted work on geo.py"
    assert record.outcome == {"committed": False, "tests_passing": None}
    assert record.replay() == {"geo.py": V1}


def _pull_request(s: Stream, *, linked: bool = True) -> dict[str, str]:
    base = s.commit("Initial", {"geo.py": V0})
    if linked:
        s.issue(7, "perimeter is wrong", "perimeter(1, 2) gives 3")
        s.issue_comment(7, 100, "Confirmed, it forgets to double.", user="u_dev")
    first = s.commit("Double the perimeter", {"geo.py": V1})
    body, issues = ("Fixes #7", [7]) if linked else ("Doubles it.", [])
    s.pr_opened(3, "Fix perimeter", body, [first], linked_issues=issues, base_sha=base, head_sha=first)
    hunk = "@@ -4,3 +4,3 @@\n \n def perimeter(w, h):\n-    return w + h\n+    return 2 * w + h\n"
    comment = s.review_comment(3, 500, "Only w is doubled; use 2 * (w + h).", "geo.py", 6, first, hunk)
    second = s.commit("Double both sides", {"geo.py": V2})
    s.github("pr.updated", {"number": 3, "before_sha": first, "head_sha": second})
    s.pr_merged(3, second)
    return {"base": base, "first": first, "second": second, "comment": str(comment.id)}


def test_pull_request_trajectory_links_issue_commits_review_and_revision(tmp_path: Path) -> None:
    s = Stream()
    ids = _pull_request(s)
    records, _ = align(tmp_path, s.events)

    record = _only(of_kind(records, "trajectory"), task_source="issue")
    assert record.task == "perimeter is wrong\n\nperimeter(1, 2) gives 3"
    assert record.start_commit == ids["base"] and record.start_files == {"geo.py": V0}
    assert [(st.action, st.commit, st.pull_request) for st in record.steps] == [
        ("commit", ids["first"], 3),
        ("review", ids["first"], None),
        ("commit", ids["second"], 3),
        ("merge", ids["second"], 3),
    ]
    [feedback] = record.feedback
    assert feedback.type == "review_comment" and feedback.event_id == ids["comment"]
    assert feedback.version == 0  # the commit the comment was made on
    assert feedback.detail["commit_id"] == ids["first"] and feedback.detail["revision_commit"] == ids["second"]
    assert record.outcome == {"merged": True, "closed": False, "pull_request": 3, "commits": 2}
    assert record.provenance.issues == [7] and record.provenance.pull_requests == [3]
    assert record.replay() == record.final_files == {"geo.py": V2}
    # Issues link to the pull requests that reference them; commits in a pull request get no trajectory alone.
    assert of_kind(records, "issue")[0].provenance.pull_requests == [3]
    assert {t.outcome.get("commit") for t in of_kind(records, "trajectory")} == {None, ids["base"]}


def test_a_pull_request_without_a_linked_issue_is_its_own_task(tmp_path: Path) -> None:
    s = Stream()
    _pull_request(s, linked=False)
    records, _ = align(tmp_path, s.events)
    record = _only(of_kind(records, "trajectory"), task_source="pull_request")
    assert record.task == "Fix perimeter\n\nDoubles it." and record.provenance.issues == []


def test_a_review_comment_judges_the_commit_it_was_made_on_even_after_later_pushes(tmp_path: Path) -> None:
    s = Stream()
    base = s.commit("Initial", {"geo.py": V0})
    first = s.commit("Double the perimeter", {"geo.py": V1})
    second = s.commit("Add area docs", {"geo.py": '"""Shapes."""\n' + V1})
    s.pr_opened(4, "Perimeter", "", [first, second], base_sha=base, head_sha=second)
    hunk = "@@ -5,2 +5,2 @@\n def perimeter(w, h):\n-    return w + h\n+    return 2 * w + h\n"
    s.review_comment(4, 600, "This still only doubles w.", "geo.py", 6, first, hunk)
    records, _ = align(tmp_path, s.events)
    record = _only(of_kind(records, "trajectory"), task_source="pull_request")
    actions = [(st.action, st.commit) for st in record.steps]
    assert actions == [("commit", first), ("commit", second), ("review", first)]
    assert record.feedback[0].version == 0  # not the latest version: the one the reviewer looked at


def test_a_commit_outside_pull_requests_is_a_trajectory_from_its_parent(tmp_path: Path) -> None:
    s = Stream()
    base = s.commit("Initial", {"geo.py": V0, "README.md": "shapes\n"})
    sha = s.commit("Fix perimeter\n\nBoth sides.", {"geo.py": V2, "README.md": "shapes, fixed\n"})
    records, _ = align(tmp_path, s.events)
    record = _only(of_kind(records, "trajectory"), task="Fix perimeter\n\nBoth sides.")
    assert record.start_commit == base
    assert record.start_files == {"README.md": "shapes\n", "geo.py": V0}
    assert [(st.action, st.path, st.commit) for st in record.steps] == [
        ("commit", "README.md", sha),
        ("commit", "geo.py", sha),
    ]
    assert record.replay() == record.final_files == {"README.md": "shapes, fixed\n", "geo.py": V2}
    assert record.outcome == {"committed": True, "commit": sha, "merged": False}
