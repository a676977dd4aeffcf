"""Comment records in both seed forms: line comments on the line they explain, docstrings on their function."""

from __future__ import annotations

from pathlib import Path

from align.stream import Stream, align, of_kind

from trajectory.records import record_to_dict

BEFORE = (
    "import os\n\n\nclass Store:\n    def get(self, key):\n        return self.data[key]\n\n    def size(self):\n"
    '        """How many values there are."""\n        return len(self.data)\n'
)
AFTER = '''import os


class Store:
    def get(self, key):
        """Return the value stored under `key`.

        Raises KeyError when there is none.
        """
        # look in the cache first, it is cheaper
        if key in self.cache:
            return self.cache[key]

        return self.data[key]  # the slow path reads the disk

    def size(self):
        """How many values there are."""
        return len(self.data)  # noqa: E501
'''


def _snippet_line(record: object, number: int) -> str:
    return record.code_snippet.splitlines()[number - 1]  # type: ignore[attr-defined]


def test_line_comments_from_a_commit_map_to_the_line_they_explain(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"store.py": BEFORE})
    sha = s.commit("Cache reads in Store.get\n\nThe disk is slow.", {"store.py": AFTER})
    records, _ = align(tmp_path, s.events)

    [record] = of_kind(records, "comment")
    assert set(record_to_dict(record)) >= {"description", "code_snippet", "annotations"}
    assert record.description == "Cache reads in Store.get"
    explained = {a.annotation: _snippet_line(record, a.line_number).strip() for a in record.annotations}
    assert explained == {
        "look in the cache first, it is cheaper": "if key in self.cache:",  # a comment line: the line below it
        "the slow path reads the disk": "return self.data[key]",  # a trailing comment: its own line
    }
    assert "#" not in record.code_snippet and '"""' not in record.code_snippet  # docstrings: the simple form
    assert record.code_snippet.splitlines()[2] == ""  # blank lines between code lines are kept
    assert record.provenance.commits == [sha] and record.provenance.paths == ["store.py"]
    assert record.provenance.line_ranges == [("store.py", 6, 14)] and record.language == "python"


def test_docstrings_map_to_their_function_and_only_new_or_changed_ones_count(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"store.py": BEFORE})
    sha = s.commit("Document Store.get", {"store.py": AFTER})
    records, _ = align(tmp_path, s.events)

    [record] = [r for r in of_kind(records, "comment_simple") if r.provenance.commits == [sha]]
    # `size` kept its docstring: only the initial commit, which wrote it, has a record for it.
    assert set(record_to_dict(record)) >= {"code_snippet", "comment"}
    assert record.comment == "Return the value stored under `key`.\n\nRaises KeyError when there is none."
    assert record.code_snippet.startswith("    def get(self, key):\n        # look in the cache first")
    assert "Return the value" not in record.code_snippet and "def size" not in record.code_snippet
    assert record.provenance.line_ranges == [("store.py", 5, 14)] and record.provenance.commits == [sha]


def test_comments_written_in_edit_episodes_are_mined_from_the_session(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"store.py": BEFORE})
    s.start()
    s.open("store.py")
    episode = s.edit("store.py", AFTER)
    records, _ = align(tmp_path, s.events)

    [annotated] = [r for r in of_kind(records, "comment") if r.provenance.sessions == ["s1"]]
    [simple] = [r for r in of_kind(records, "comment_simple") if r.provenance.sessions == ["s1"]]
    for record in (annotated, simple):
        assert record.provenance.sessions == ["s1"] and str(episode.id) in record.provenance.event_ids
        assert record.provenance.commits == []
    assert annotated.description == ""  # uncommitted work has no message to describe it
    assert len(annotated.annotations) == 2 and simple.comment.startswith("Return the value")


def test_comment_markers_of_other_languages_and_directives(tmp_path: Path) -> None:
    before = "function total(items) {\n  return 0;\n}\n"
    after = (
        "function total(items) {\n"
        "  // prices are in cents, so the sum stays exact\n"
        "  let sum = 0; // eslint-disable-line no-var\n"
        '  const url = "http://example.com//path"; // where prices come from\n'
        "  for (const item of items) sum += item.price;\n"
        "  return sum;\n"
        "}\n"
    )
    s = Stream()
    s.commit("Initial", {"cart.js": before})
    sha = s.commit("Sum the prices", {"cart.js": after})
    records, _ = align(tmp_path, s.events)
    [record] = [r for r in of_kind(records, "comment") if r.provenance.commits == [sha]]
    assert record.language == "javascript"
    explained = {a.annotation: _snippet_line(record, a.line_number).strip() for a in record.annotations}
    assert explained == {
        "prices are in cents, so the sum stays exact": "let sum = 0;",
        "where prices come from": 'const url = "http://example.com//path";',
    }


def test_a_change_without_new_comments_makes_no_comment_record(tmp_path: Path) -> None:
    s = Stream()
    s.commit("Initial", {"store.py": AFTER})
    sha = s.commit("Rename", {"store.py": AFTER.replace("self.cache", "self.memo")})
    records, _ = align(tmp_path, s.events)
    comments = [r for r in records if r.kind.startswith("comment")]
    assert comments and not [r for r in comments if sha in r.provenance.commits]
