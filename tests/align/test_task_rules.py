"""Benchmark tasks: generation (docstring and context to the engineer's function, with the tests that call it)
and completion (the code around an edit point, and what the engineer typed or accepted there)."""

from __future__ import annotations

from pathlib import Path

from align.stream import Stream, align, of_kind

MODULE = "import math\n\nSCALE = 2\n\n\ndef area(w, h):\n    return w * h\n"
FUNCTION = (
    "\n\ndef diagonal(w, h):\n"
    '    """The length of the diagonal of a w x h rectangle."""\n'
    "    squared = w ** 2 + h ** 2\n"
    "    return math.sqrt(squared)\n"
)
TESTS = (
    "import math\n\nfrom geo import diagonal, area\n\n\n"
    "def test_diagonal():\n    assert diagonal(3, 4) == 5\n\n\n"
    "def test_area():\n    assert area(2, 3) == 6\n"
)


def test_generation_task_from_docstring_and_context_with_tests_of_the_same_commit(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"geo.py": MODULE})
    sha = s.commit("Add diagonal", {"geo.py": MODULE + FUNCTION, "tests/test_geo.py": TESTS})
    records, _ = align(tmp_path, s.events)
    [task] = [r for r in of_kind(records, "generation") if r.provenance.commits == [sha]]
    assert task.entry_point == "diagonal"
    assert task.prompt == 'def diagonal(w, h):\n    """The length of the diagonal of a w x h rectangle."""\n'
    assert task.reference == FUNCTION.lstrip("\n")
    assert task.context.startswith("import math\n\nSCALE = 2\n") and "def area" in task.context
    assert task.tests is not None and "def test_diagonal():" in task.tests and "from geo import" in task.tests
    assert "def test_area" not in task.tests  # only the tests that call it
    assert task.provenance.paths == ["geo.py", "tests/test_geo.py"] and task.provenance.line_ranges == [
        ("geo.py", 10, 13)
    ]


def test_tests_from_another_commit_of_the_same_pull_request_count(tmp_path: Path) -> None:
    s = Stream()
    base = s.commit("Initial", {"geo.py": MODULE})
    code = s.commit("Add diagonal", {"geo.py": MODULE + FUNCTION})
    tests = s.commit("Test diagonal", {"tests/test_geo.py": TESTS})
    s.pr_opened(5, "Diagonal", "", [code, tests], base_sha=base, head_sha=tests)
    records, _ = align(tmp_path, s.events)
    [task] = [r for r in of_kind(records, "generation") if r.provenance.commits == [code]]
    assert task.tests is not None and "assert diagonal(3, 4) == 5" in task.tests
    assert task.provenance.pull_requests == [5]


def test_tasks_need_a_docstring_and_a_body_and_tests_are_not_tasks(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"geo.py": MODULE})
    helpers = (
        '\n\ndef half(x):\n    """Half of x."""\n    return x / 2\n'
        "\n\ndef twice(x):\n    y = x\n    return 2 * y\n"  # no docstring
        '\n\ndef later(x):\n    """To do."""\n    raise NotImplementedError\n'
        '\n\ndef stub(x):\n    """To do."""\n    ...\n'
    )
    test = 'def test_half():\n    """Half."""\n    x = 1\n    assert x\n'
    s.commit("Helpers", {"geo.py": MODULE + helpers, "tests/test_half.py": test})
    records, _ = align(tmp_path, s.events)
    assert [task.entry_point for task in of_kind(records, "generation")] == ["half"]


def test_completion_of_typed_lines_and_of_a_line_the_engineer_finished(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"geo.py": MODULE})
    s.start()
    s.open("geo.py")
    typed = s.edit("geo.py", MODULE + "\n\ndef square(x):\n    return x * x\n")
    s.edit("geo.py", MODULE + "\n\ndef square(x):\n    return x * x  # no pow\n")
    s.edit("geo.py", MODULE.replace("w * h", "h * w") + "\n\ndef square(x):\n    return x * x  # no pow\n")
    records, _ = align(tmp_path, s.events)
    first, second = of_kind(records, "completion")  # the third episode rewrote a line: no completion point
    assert (first.prefix, first.reference, first.suffix) == (MODULE, "\n\ndef square(x):\n    return x * x\n", "")
    assert first.origin == "typed" and first.provenance.event_ids == [str(typed.id)]
    assert first.provenance.line_ranges == [("geo.py", 8, 11)]
    assert second.prefix.endswith("def square(x):\n    return x * x") and second.reference == "  # no pow\n"


def test_completion_of_an_accepted_suggestion(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"geo.py": MODULE})
    s.start()
    s.open("geo.py")
    s.suggestion("accepted", "sg1", "\n\ndef cube(x):\n    return x ** 3\n", "geo.py")
    s.edit("geo.py", MODULE + "\n\ndef cube(x):\n    return x ** 3\n\n\nCUBE = cube(SCALE)\n")
    records, _ = align(tmp_path, s.events)
    [completion] = of_kind(records, "completion")
    assert completion.origin == "accepted_suggestion" and completion.suffix == ""
    assert completion.reference == "\n\ndef cube(x):\n    return x ** 3\n\n\nCUBE = cube(SCALE)\n"
