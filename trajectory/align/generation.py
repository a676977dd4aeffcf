"""Benchmark tasks: generation (a function from its docstring and context) and completion (an edit point)."""

from __future__ import annotations

import ast
import re

from trajectory.align.comment import node_span, python_functions
from trajectory.align.evidence import Evidence
from trajectory.align.filetype import is_test_path
from trajectory.align.region import changed_lines, changed_region
from trajectory.diffs import split_lines
from trajectory.records import CompletionRecord, GenerationRecord, stable_id

HEADER_LINES = 30
MAX_COMPLETION_LINES = 30


def generations_from_change(
    before: str,
    after: str,
    path: str,
    tests: dict[str, str],
    evidence: Evidence,
    context_lines: int,
) -> list[GenerationRecord]:
    """A task per documented Python function that is new or changed; tests from `tests` that call it."""
    if is_test_path(path):
        return []
    ranges = changed_lines(before, after)
    old_bodies = {name: _source(split_lines(before), node) for name, _, node in python_functions(before)}
    lines = split_lines(after)
    records: list[GenerationRecord] = []
    for name, _, node in python_functions(after):
        first, last = node_span(node)
        reference = _source(lines, node)
        if old_bodies.get(name) == reference or not any(a < last and first < b for a, b in ranges):
            continue
        if _is_stub(node) or node.name.startswith("test"):
            continue
        prompt = "".join(lines[first : node.body[0].end_lineno or node.body[0].lineno])
        header = _module_header(lines, min(first, HEADER_LINES))
        context = header + "".join(lines[max(first - context_lines, len(header.splitlines())) : first])
        found = evidence.copy().add_path(path).add_lines(path, first + 1, last)
        test_code = _tests_for(node.name, tests, found)
        records.append(
            GenerationRecord(
                id=stable_id("generation", path, name, reference, *found.commits, *found.event_ids[:1]),
                provenance=found.provenance(),
                language="python",
                prompt=prompt,
                context=context,
                reference=reference,
                entry_point=node.name,
                tests=test_code,
            )
        )
    return records


def _is_stub(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Nothing to write after the docstring: no statement, or only `pass`, `...` or `raise NotImplementedError`."""
    rest = node.body[1:]
    if len(rest) != 1:
        return not rest
    only = rest[0]
    if isinstance(only, ast.Pass) or (isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant)):
        return True
    return isinstance(only, ast.Raise) and "NotImplementedError" in ast.dump(only)


def _source(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    first, last = node_span(node)
    return "".join(lines[first:last])


def _module_header(lines: list[str], limit: int) -> str:
    """The module's opening lines (imports, constants) up to its first definition."""
    out: list[str] = []
    for line in lines[:limit]:
        if re.match(r"(async\s+def|def|class|@)\b", line):
            break
        out.append(line)
    return "".join(out)


def _tests_for(name: str, tests: dict[str, str], evidence: Evidence) -> str | None:
    """Imports plus the test functions that call `name`, from the test files changed alongside it."""
    call = re.compile(rf"\b{re.escape(name)}\s*\(")
    parts: list[str] = []
    for path in sorted(tests):
        text = tests[path]
        if not call.search(text):
            continue
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        lines = split_lines(text)
        imports = [
            ast.get_source_segment(text, n) or "" for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)
        ]
        bodies = [
            "".join(lines[node_span(n)[0] : node_span(n)[1]])
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            and call.search(ast.get_source_segment(text, n) or "")
        ]
        if bodies:
            parts.append("\n".join(imports) + "\n\n\n" + "\n\n".join(bodies))
            evidence.add_path(path)
    return "\n".join(parts) if parts else None


def completion_from_episode(
    before: str,
    after: str,
    path: str,
    language: str | None,
    evidence: Evidence,
    context_lines: int,
    accepted: str | None,
) -> CompletionRecord | None:
    """What the engineer inserted at one point: whole new lines, or the rest of the line they were on."""
    region = changed_region(before, after)
    if region is None:
        return None
    old, new = region.old_lines, region.new_lines
    if not old:
        reference, head = "".join(new), ""
    elif len(old) == 1 and new and new[0].startswith(old[0].rstrip("\n")) and old[0].endswith("\n"):
        head = old[0].rstrip("\n")
        reference = "".join(new)[len(head) :]
    else:
        return None
    if not reference.strip() or len(new) > MAX_COMPLETION_LINES:
        return None
    prefix = region.prefix(context_lines) + head
    suffix = region.suffix(context_lines)
    origin = "accepted_suggestion" if accepted and accepted.strip() and accepted.strip() in reference else "typed"
    found = evidence.copy().add_lines(path, region.start + 1, region.new_end)
    return CompletionRecord(
        id=stable_id("completion", path, *found.event_ids),
        provenance=found.provenance(),
        language=language,
        prefix=prefix,
        suffix=suffix,
        reference=reference,
        origin=origin,
    )
