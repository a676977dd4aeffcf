"""JUnit XML test reports: found by glob in a working copy, read into `test.run` payloads with per-test outcomes."""

from __future__ import annotations

import fnmatch
import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MAX_REPORT_BYTES = 32 * 1024 * 1024
MAX_MESSAGE = 2000
# Directories never searched for reports: the cost of walking them is all a poll would be.
PRUNED = frozenset({".git", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__", ".mypy_cache"})


class ReportError(ValueError):
    """A file that is not a readable JUnit XML report."""


def parse_report(data: bytes, report_path: str | None = None) -> dict[str, Any]:
    """A `test.run` payload from JUnit XML (a `<testsuites>` or `<testsuite>` root, suites nested or not)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise ReportError(f"not XML: {err}") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise ReportError(f"not a JUnit report (root <{root.tag}>)")
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = [case for case in root.iter("testcase")]
    results = [_case(case) for case in tests]
    counts = {key: sum(1 for r in results if r["outcome"] == key) for key in ("passed", "failed", "error", "skipped")}
    names = {suite.get("name") for suite in suites} | {root.get("name")}
    payload: dict[str, Any] = {
        "framework": "pytest" if "pytest" in names else "junit",
        "report_path": report_path,
        "tests": results,
        "passed": counts["passed"],
        "failed": counts["failed"],
        "errored": counts["error"],
        "skipped": counts["skipped"],
    }
    duration = _seconds(root.get("time")) if root.get("time") else None
    if duration is None and suites:
        duration = round(sum(_seconds(s.get("time")) or 0.0 for s in suites), 6)
    payload["duration_s"] = duration
    return payload


def _case(case: ET.Element) -> dict[str, Any]:
    """One test case: its id (the plugin's node id, else `classname.name`), outcome, duration and message."""
    name = case.get("name") or "?"
    classname = case.get("classname")
    test_id = case.get("nodeid") or (f"{classname}.{name}" if classname else name)
    outcome, message = "passed", None
    for tag, kind in (("error", "error"), ("failure", "failed"), ("skipped", "skipped")):
        found = case.find(tag)
        if found is not None:
            outcome, message = kind, (found.get("message") or found.text or "").strip()[:MAX_MESSAGE] or None
            break
    return {"test_id": test_id, "outcome": outcome, "duration_s": _seconds(case.get("time")), "message": message}


def _seconds(value: str | None) -> float | None:
    """A report's duration: "1,234.5" (thousands separator) and "0,12" (decimal comma) both occur in the wild."""
    if not value:
        return None
    text = value.replace(",", ".") if "," in value and "." not in value else value.replace(",", "")
    try:
        return max(0.0, float(text))
    except ValueError:
        return None


def matches(relative: str, patterns: tuple[str, ...]) -> bool:
    """Whether a repository-relative POSIX path matches one of the globs (`**/` also matches at the root)."""
    for pattern in patterns:
        if fnmatch.fnmatch(relative, pattern):
            return True
        if pattern.startswith("**/") and fnmatch.fnmatch(relative, pattern[3:]):
            return True
    return False


def find_reports(root: Path, patterns: tuple[str, ...]) -> Iterator[Path]:
    """Files under `root` matching `patterns`, skipping directories no report lives in."""
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in PRUNED]
        base = Path(directory)
        for name in files:
            if name.endswith(".xml") and matches((base / name).relative_to(root).as_posix(), patterns):
                yield base / name


@dataclass
class Report:
    """A report that appeared or changed since the last scan."""

    path: str  # repository-relative
    payload: dict[str, Any]


class ReportScanner:
    """Finds reports written since it started (or since the last scan); each version of a file is read once."""

    def __init__(self, root: Path, patterns: tuple[str, ...]) -> None:
        self.root = root
        self.patterns = patterns
        self.seen: dict[Path, tuple[int, int]] = {p: sig for p in find_reports(root, patterns) if (sig := _sig(p))}

    def scan(self) -> list[Report]:
        out: list[Report] = []
        for path in find_reports(self.root, self.patterns):
            sig = _sig(path)
            if sig is None or self.seen.get(path) == sig:
                continue
            self.seen[path] = sig
            relative = path.relative_to(self.root).as_posix()
            try:
                if sig[1] > MAX_REPORT_BYTES:
                    raise ReportError("too large")
                out.append(Report(relative, parse_report(path.read_bytes(), relative)))
            except (OSError, ReportError) as err:
                logger.info("test report %s not read: %s", relative, err)
        return out


def _sig(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
