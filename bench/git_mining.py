"""Mine the same commits with smartco's importer (one `git log -p` stream) and with PyDriller; compare and time.

    python bench/git_mining.py [--repo PATH] [--commits 500]

Both sides extract the same information per commit: message, author, parents and, per file, the change type,
old and new path, added and deleted lines and the unified diff. The run fails if they disagree on any commit
(merge commits are compared on their metadata only: PyDriller returns no files for merges) or if the importer
is not at least 4x faster than PyDriller, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from trajectory.diffs import parse_diff
from trajectory.sources.git import events_from_commits, repository_id
from trajectory.sources.gitlog import iter_commits

TARGET = 4.0
_TYPES = {"ADD": "add", "DELETE": "delete", "RENAME": "rename", "MODIFY": "modify", "COPY": "copy"}


def mine_smartco(repo: Path, count: int) -> tuple[float, dict[str, dict[str, Any]]]:
    """(seconds, per-commit summary) for the importer: stream, parse, build validated events."""
    start = time.perf_counter()
    commits = iter_commits(repo, ["HEAD"], [f"--max-count={count}"])
    events = list(events_from_commits(commits, session_id="bench", salt="bench", source="git",
                                      repo_id=repository_id(repo)))  # fmt: skip
    elapsed = time.perf_counter() - start
    summary = {}
    for event in events:
        payload = event.payload
        files = {}
        for change in payload.files:
            files[change.path] = {
                "type": change.change_type,
                "old_path": change.old_path,
                "added": change.additions,
                "deleted": change.deletions,
                "diff": _hunks(change.diff or ""),
            }
        merge = len(payload.parents) > 1
        summary[payload.sha] = {"message": payload.message.strip(), "parents": payload.parents, "merge": merge,
                                "files": files}  # fmt: skip
    return elapsed, summary


def mine_pydriller(repo: Path, shas: list[str]) -> tuple[float, dict[str, dict[str, Any]]]:
    """(seconds, per-commit summary) for PyDriller reading the same commits and the same file information."""
    from pydriller import Repository

    start = time.perf_counter()
    summary = {}
    for commit in Repository(str(repo), only_commits=shas).traverse_commits():
        files = {}
        for modified in commit.modified_files:
            kind = _TYPES.get(modified.change_type.name, "modify")
            path = modified.new_path or modified.old_path
            files[path] = {
                "type": kind,
                "old_path": modified.old_path if kind in ("rename", "copy") else None,
                "added": modified.added_lines,
                "deleted": modified.deleted_lines,
                "diff": modified.diff,
            }
        summary[commit.hash] = {"message": commit.msg.strip(), "parents": commit.parents, "merge": commit.merge,
                                "files": files, "author": commit.author.email}  # fmt: skip
    return time.perf_counter() - start, summary


def _hunks(diff: str) -> str:
    """The diff from its first hunk on, as GitPython (and so PyDriller) keeps it."""
    at = diff.find("@@")
    return diff[at:] if at >= 0 else ""


def compare(ours: dict[str, dict[str, Any]], theirs: dict[str, dict[str, Any]]) -> list[str]:
    """Every disagreement between the two summaries, as readable lines."""
    problems = [f"{sha}: missing on one side" for sha in set(ours) ^ set(theirs)]
    for sha in set(ours) & set(theirs):
        mine, other = ours[sha], theirs[sha]
        for key in ("message", "parents", "merge"):
            if mine[key] != other[key]:
                problems.append(f"{sha}: {key} differs")
        if mine["merge"]:
            continue
        if set(mine["files"]) != set(other["files"]):
            problems.append(f"{sha}: files differ {sorted(set(mine['files']) ^ set(other['files']))}")
            continue
        for path, change in mine["files"].items():
            for key, value in change.items():
                if _normal(key, value) != _normal(key, other["files"][path][key]):
                    problems.append(f"{sha} {path}: {key} differs")
            parsed, expected = parse_diff(change["diff"]), parse_diff(other["files"][path]["diff"])
            if (parsed.added, parsed.deleted) != (expected.added, expected.deleted):
                problems.append(f"{sha} {path}: added/deleted lines with numbers differ")
    return problems


def _normal(key: str, value: Any) -> Any:
    if key == "diff":
        # GitPython drops the final newline and the text of "Binary files ... differ" lines.
        return "" if value.startswith("Binary files") else value.rstrip("\n")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="repository to mine (default: this one)")
    parser.add_argument("--commits", type=int, default=500, help="how many commits back from HEAD")
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    log = ["git", "rev-list", f"--max-count={args.commits}", "HEAD"]
    shas = subprocess.run(log, cwd=repo, capture_output=True, text=True, check=True).stdout.split()
    print(f"repository {repo}: {len(shas)} commits back from HEAD")
    ours_s, ours = mine_smartco(repo, args.commits)
    theirs_s, theirs = mine_pydriller(repo, shas)
    problems = compare(ours, theirs)
    for line in problems[:20]:
        print("DISAGREE", line)
    files = sum(len(commit["files"]) for commit in ours.values())
    ours_rate, theirs_rate = len(ours) / ours_s, len(theirs) / theirs_s
    ratio = ours_rate / theirs_rate
    print(f"smartco  : {len(ours)} commits, {files} file changes in {ours_s:.2f}s = {ours_rate:.0f} commits/s")
    their_files = sum(len(commit["files"]) for commit in theirs.values())
    print(
        f"PyDriller: {len(theirs)} commits, {their_files} file changes in {theirs_s:.2f}s = {theirs_rate:.0f} commits/s"
    )
    print(f"ratio {ratio:.2f}x (target >= {TARGET}x); {len(problems)} disagreements")
    figures = [
        {"bench": "git_mining_agreement", "value": len(problems), "unit": "disagreements", "target": "== 0",
         "ok": not problems and len(ours) == len(shas)},
        {"bench": "git_mining_smartco_rate", "value": round(ours_rate, 1), "unit": "commits/s", "target": "info",
         "ok": True},
        {"bench": "git_mining_pydriller_rate", "value": round(theirs_rate, 1), "unit": "commits/s",
         "target": "info", "ok": True},
        {"bench": "git_mining_speedup", "value": round(ratio, 2), "unit": "x", "target": f">= {TARGET}",
         "ok": ratio >= TARGET},
    ]  # fmt: skip
    for figure in figures:
        print(json.dumps(figure))
    return 0 if all(figure["ok"] for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
