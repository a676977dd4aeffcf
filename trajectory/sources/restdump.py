"""Files of GitHub REST objects, as `gh api --paginate` writes them (pages back to back), read and sorted by type."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trajectory.sources import GitHubError

_PR_COMMITS_PATH = re.compile(r"pulls?[/_-]?(\d+)[/_-]commits", re.IGNORECASE)


@dataclass
class RestObjects:
    """The objects found in a set of files, by type; commits are grouped by the pull request they belong to."""

    issues: list[dict[str, Any]] = field(default_factory=list)
    issue_comments: list[dict[str, Any]] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    review_comments: list[dict[str, Any]] = field(default_factory=list)
    pr_commits: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # number -> (sha, message)
    unknown: int = 0


def read_json_values(path: Path) -> Iterator[Any]:
    """Every JSON value in a file: one document, pages written back to back (`[...][...]`), or JSON lines."""
    text = path.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as err:
            raise GitHubError(f"{path}: not GitHub JSON ({err.msg} at line {err.lineno})") from None
        yield value


def _flatten(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)  # `gh api --paginate --slurp` nests pages in an outer list
    elif isinstance(value, dict):
        yield value


def read_rest_files(paths: list[Path]) -> RestObjects:
    """Read files (or every *.json / *.jsonl under directories) and sort their objects by type."""
    found = RestObjects()
    for path in _expand(paths):
        pr_number = _PR_COMMITS_PATH.search(path.as_posix())
        for value in read_json_values(path):
            for item in _flatten(value):
                _classify(item, found, int(pr_number.group(1)) if pr_number else None)
    return found


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".json", ".jsonl") and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise GitHubError(f"{path}: no such file or directory")
    return files


def _classify(item: dict[str, Any], found: RestObjects, pr_number: int | None) -> None:
    if "sha" in item and isinstance(item.get("commit"), dict):
        if pr_number is not None:
            message = str(item["commit"].get("message") or "")
            found.pr_commits.setdefault(pr_number, []).append((str(item["sha"]), message))
    elif "diff_hunk" in item:
        found.review_comments.append(item)
    elif "head" in item and "base" in item and "number" in item:
        found.pulls.append(item)
    elif "number" in item and "title" in item:
        if "pull_request" not in item:  # the issues endpoint lists pull requests too; they come from pulls
            found.issues.append(item)
    elif "issue_url" in item and "body" in item:
        found.issue_comments.append(item)
    elif "pull_request_url" in item and "state" in item:
        found.reviews.append(item)
    else:
        found.unknown += 1


def repository_of(objects: RestObjects) -> str | None:
    """`owner/name` named by the objects' URLs, if any."""
    for group in (objects.issues, objects.pulls, objects.issue_comments, objects.review_comments, objects.reviews):
        for item in group:
            match = re.search(r"/repos/([^/]+/[^/]+)/", str(item.get("url", "")))
            if match:
                return match.group(1)
    return None
