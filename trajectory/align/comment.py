"""Comment records: line comments engineers added for code (annotated form) and docstrings (simple form)."""

from __future__ import annotations

import ast
import inspect
import io
import re
import tokenize
from dataclasses import dataclass
from functools import lru_cache

from trajectory.align.evidence import Evidence
from trajectory.align.filetype import comment_prefix
from trajectory.align.region import changed_lines
from trajectory.diffs import split_lines
from trajectory.records import Annotation, CommentRecord, RecordBase, SimpleCommentRecord, stable_id

_NOT_PROSE = re.compile(r"^(noqa|type:|pragma|fmt:|pylint:|eslint|prettier|mypy:|nolint|-\*-|!|#)", re.I)


def comments_from_change(
    before: str, after: str, path: str, description: str, evidence: Evidence, language: str | None
) -> list[RecordBase]:
    """Records for the comments and docstrings that are new or changed in `after` compared with `before`."""
    ranges = changed_lines(before, after)
    if not ranges:
        return []
    records: list[RecordBase] = []
    marker = comment_prefix(language)
    lines = split_lines(after)
    docstrings = _docstring_lines(after) if language == "python" else set()
    if marker is not None:
        for first, last in ranges:
            block = Block(lines, first, last, marker, language, docstrings)
            record = _annotated(block, description, path, evidence)
            if record is not None:
                records.append(record)
    if language == "python":
        records.extend(_docstrings(before, after, ranges, path, evidence))
    return records


@dataclass(frozen=True)
class Block:
    """Changed lines [first, last) of a file, and what is needed to read their comments."""

    lines: list[str]
    first: int
    last: int
    marker: str
    language: str | None
    skip: set[int]  # docstring lines: they belong to the simple form


def _docstring_lines(text: str) -> set[int]:
    """0-based indexes of the lines of every function's docstring."""
    out: set[int] = set()
    for _, _, node in python_functions(text):
        doc = node.body[0]
        out.update(range(doc.lineno - 1, doc.end_lineno or doc.lineno))
    return out


def _split_comment(line: str, marker: str, language: str | None) -> tuple[str, str | None]:
    """(code, comment) of one line; the comment is None when the line has none."""
    stripped = line.strip()
    if stripped.startswith(marker):
        return "", stripped[len(marker) :].strip()
    if marker not in line:
        return line.rstrip("\n"), None
    if language == "python":
        try:
            for token in tokenize.generate_tokens(io.StringIO(line).readline):
                if token.type == tokenize.COMMENT:
                    return line[: token.start[1]].rstrip(), token.string[1:].strip()
        except (tokenize.TokenError, IndentationError, SyntaxError):
            return line.rstrip("\n"), None
        return line.rstrip("\n"), None
    at = line.find(" " + marker)
    if at < 0 or line[:at].count('"') % 2 or line[:at].count("'") % 2:
        return line.rstrip("\n"), None
    return line[:at].rstrip(), line[at + 1 + len(marker) :].strip()


def _is_prose(comment: str) -> bool:
    return len(comment.split()) >= 2 and not _NOT_PROSE.match(comment)


def _annotated(block: Block, description: str, path: str, evidence: Evidence) -> CommentRecord | None:
    """The changed block as code lines, each standalone comment attached to the code line after it."""
    lines, marker, first, end = block.lines, block.marker, block.first, block.last
    if lines[end - 1].strip().startswith(marker):  # a comment closing the block explains the code below it
        below = end
        while below < len(lines) and below < end + 3 and not lines[below].strip():
            below += 1
        if below < len(lines):
            end = below + 1
    code: list[str] = []
    annotations: list[Annotation] = []
    pending: list[str] = []
    for index in range(first, end):
        if index in block.skip:
            continue
        text, comment = _split_comment(lines[index], marker, block.language)
        if not text.strip():
            if comment:
                pending.append(comment)
            elif code and not pending:
                code.append("")  # blank lines between code lines are kept, so the snippet reads as written
            continue
        code.append(text)
        prose = " ".join(note for note in (*pending, comment) if note and _is_prose(note))
        if prose:
            annotations.append(Annotation(line_number=len(code), annotation=prose))
        pending = []
    while code and not code[-1].strip():
        code.pop()
    if not annotations:
        return None
    while end > first + 1 and not lines[end - 1].strip():
        end -= 1
    found = evidence.copy().add_path(path).add_lines(path, first + 1, end)
    snippet = "\n".join(code) + "\n"
    return CommentRecord(
        id=stable_id("comment", path, snippet, *found.commits, *found.event_ids[:1]),
        provenance=found.provenance(),
        language=block.language,
        description=description,
        code_snippet=snippet,
        annotations=annotations,
    )


def _docstrings(
    before: str, after: str, ranges: list[tuple[int, int]], path: str, evidence: Evidence
) -> list[RecordBase]:
    old_docs = {name: doc for name, doc, _ in python_functions(before)}
    records: list[RecordBase] = []
    lines = split_lines(after)
    for name, doc, node in python_functions(after):
        first, last = node_span(node)
        if old_docs.get(name) == doc or not any(a < last and first < b for a, b in ranges):
            continue
        body = node.body[0]
        code = "".join(lines[first : body.lineno - 1] + lines[body.end_lineno or body.lineno : last])
        found = evidence.copy().add_path(path).add_lines(path, first + 1, last)
        records.append(
            SimpleCommentRecord(
                id=stable_id("comment_simple", path, name, code, *found.commits, *found.event_ids[:1]),
                provenance=found.provenance(),
                language="python",
                code_snippet=code,
                comment=doc,
            )
        )
    return records


FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@lru_cache(maxsize=8)  # syntax trees are large: a few versions are all that is reused
def python_functions(text: str) -> list[tuple[str, str, FunctionNode]]:
    """(qualified name, cleaned docstring, node) of every documented function or method in a module.

    Cached: comments and generation tasks both read the same versions (callers must not change the nodes).
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    found: list[tuple[str, str, FunctionNode]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, FunctionNode):
                doc = ast.get_docstring(child, clean=False)
                if doc and doc.strip():
                    found.append((prefix + child.name, inspect.cleandoc(doc), child))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return found


def node_span(node: FunctionNode) -> tuple[int, int]:
    """Lines [first, last) of a function including its decorators, 0-based."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
    return first, node.end_lineno or node.lineno
