"""Mine the same commits with smartco's importer (one `git log -p` stream) and with PyDriller; compare and time.

    python bench/git_mining.py [--repo PATH] [--commits 500] [--rounds 3]

The repository is this project's own clone unless `--repo` (or SMARTCO_BENCH_GIT_REPO) names another local
one. Both sides extract the same information per commit: message, author, times, parents and, per file, the
change type, old and new path, added and deleted lines (with their line numbers) and the unified diff. Merge
commits are diffed against their first parent on both sides: PyDriller's `modified_files` is empty for a
merge, so its side builds them with PyDriller's own ModifiedFile over GitPython's first-parent diff, the way
it diffs every other commit. The smartco side is the whole importer (`import_git` into a JSONL file). Each
side runs `--rounds` times, alternating, and the fastest round counts (the machine is shared and noisy). The
run fails if the two disagree on any commit or if the importer is not at least 4x faster than PyDriller.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from trajectory.diffs import parse_diff
from trajectory.events import parse_event
from trajectory.privacy import pseudonymise
from trajectory.sources.history import GitImportSettings, import_git
from trajectory.sources.sink import JsonlSink

TARGET = 4.0
SALT = "bench"
_TYPES = {"ADD": "add", "DELETE": "delete", "RENAME": "rename", "MODIFY": "modify", "COPY": "copy"}
Summary = dict[str, dict[str, Any]]


def mine_smartco(repo: Path, count: int, scratch: Path) -> tuple[float, Summary]:
    """(seconds, per-commit summary) for the importer: one run of `import_git` into a fresh JSONL file."""
    out = scratch / f"events-{time.monotonic_ns()}.jsonl"
    settings = GitImportSettings(repo=repo, salt=SALT, state_path=out.with_suffix(".state"), destination=str(out),
                                 branches=("HEAD",), max_commits=count, batch_size=500)  # fmt: skip
    sink = JsonlSink(out)
    start = time.perf_counter()
    try:
        import_git(settings, sink)
    finally:
        sink.close()
    elapsed = time.perf_counter() - start
    summary: Summary = {}
    for line in out.read_bytes().splitlines():
        payload = parse_event(line).payload
        files = {change.path: {"type": change.change_type, "old_path": change.old_path, "added": change.additions,
                               "deleted": change.deletions, "diff": _hunks(change.diff or "")}
                 for change in payload.files}  # type: ignore[attr-defined]  # fmt: skip
        summary[payload.sha] = {  # type: ignore[attr-defined]
            "message": payload.message.strip(),  # type: ignore[attr-defined]
            "parents": payload.parents,  # type: ignore[attr-defined]
            "author": payload.author,  # type: ignore[attr-defined]
            "authored_at": payload.authored_at,  # type: ignore[attr-defined]
            "committed_at": payload.committed_at,  # type: ignore[attr-defined]
            "files": files,
        }
    return elapsed, summary


def mine_pydriller(repo: Path, shas: list[str]) -> tuple[float, float, Summary, dict[str, Any]]:
    """(seconds, of which merge diffs, per-commit summary, ModifiedFile by "sha path") for PyDriller."""
    from pydriller import Repository

    start = time.perf_counter()
    merge_s = 0.0
    summary: Summary = {}
    kept: dict[str, Any] = {}
    for commit in Repository(str(repo), only_commits=shas).traverse_commits():
        modified = commit.modified_files
        if commit.merge:  # PyDriller leaves merges out; diff them against the first parent with its own parser
            merge_start = time.perf_counter()
            git_commit = commit._c_object
            modified = commit._parse_diff(git_commit.parents[0].diff(other=git_commit, paths=None, create_patch=True))
            merge_s += time.perf_counter() - merge_start
        files = {}
        for change in modified:
            kind = _TYPES.get(change.change_type.name, "modify")
            path = change.new_path or change.old_path
            kept[f"{commit.hash} {path}"] = change
            old_path = change.old_path if kind in ("rename", "copy") else None
            files[path] = {"type": kind, "old_path": old_path, "added": change.added_lines,
                           "deleted": change.deleted_lines, "diff": change.diff}  # fmt: skip
        summary[commit.hash] = {
            "message": commit.msg.strip(),
            "parents": commit.parents,
            "author": (commit.author.name, commit.author.email),
            "authored_at": commit.author_date,
            "committed_at": commit.committer_date,
            "files": files,
        }
    return time.perf_counter() - start, merge_s, summary, kept


def _hunks(diff: str) -> str:
    """The diff from its first hunk on, as GitPython (and so PyDriller) keeps it."""
    at = diff.find("@@")
    return diff[at:] if at >= 0 else ""


def mailmapped(repo: Path, identities: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(name, e-mail) as GitPython reads them -> the pseudonym of the mailmapped e-mail, as the importer keeps it."""
    unique = sorted(set(identities))
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(unique), 200):
        batch = unique[start : start + 200]
        contacts = [f"{name} <{email}>" for name, email in batch]
        done = subprocess.run(["git", "check-mailmap", *contacts], cwd=repo, capture_output=True, text=True, check=True)
        for identity, line in zip(batch, done.stdout.splitlines(), strict=True):
            email = line.rsplit("<", 1)[-1].rstrip(">")
            found[identity] = pseudonymise(email or identity[0], SALT)
    return found


def compare(repo: Path, ours: Summary, theirs: Summary, kept: dict[str, Any]) -> list[str]:
    """Every disagreement between the two summaries, as readable lines."""
    problems = [f"{sha}: missing on one side" for sha in set(ours) ^ set(theirs)]
    authors = mailmapped(repo, (commit["author"] for commit in theirs.values()))
    for sha in sorted(set(ours) & set(theirs)):
        mine, other = ours[sha], dict(theirs[sha], author=authors[theirs[sha]["author"]])
        problems += [f"{sha}: {key} differs" for key in ("message", "parents", "author", "authored_at", "committed_at")
                     if mine[key] != other[key]]  # fmt: skip
        if set(mine["files"]) != set(other["files"]):
            problems.append(f"{sha}: files differ {sorted(set(mine['files']) ^ set(other['files']))}")
            continue
        for path, change in mine["files"].items():
            problems += [f"{sha} {path}: {key} differs" for key, value in change.items()
                         if _normal(key, value) != _normal(key, other["files"][path][key])]  # fmt: skip
            parsed, expected = parse_diff(change["diff"]), kept[f"{sha} {path}"].diff_parsed
            # PyDriller strips each line's trailing whitespace; the importer keeps lines as they are.
            if (_stripped(parsed.added), _stripped(parsed.deleted)) != (expected["added"], expected["deleted"]):
                problems.append(f"{sha} {path}: added/deleted lines with their numbers differ")
    return problems


def _stripped(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    return [(number, text.rstrip()) for number, text in lines]


def _normal(key: str, value: Any) -> Any:
    if key == "diff":
        # GitPython drops the final newline and the text of "Binary files ... differ" lines.
        return "" if value.startswith("Binary files") else value.rstrip("\n")
    return value


def default_repo() -> Path:
    """SMARTCO_BENCH_GIT_REPO, else the clone this bench lives in."""
    configured = os.environ.get("SMARTCO_BENCH_GIT_REPO")
    return Path(configured) if configured else Path(__file__).resolve().parents[1]


def measure(repo: Path, shas: list[str], rounds: int) -> tuple[list[float], list[float], list[float], Any]:
    """Each side `rounds` times, alternating: (smartco s, PyDriller s, PyDriller s without merges, last results)."""
    ours_times, theirs_times, native_times = [], [], []
    with tempfile.TemporaryDirectory(prefix="smartco-bench-") as scratch:
        for _ in range(max(1, rounds)):
            seconds, ours = mine_smartco(repo, len(shas), Path(scratch))
            ours_times.append(seconds)
            seconds, merge_s, theirs, kept = mine_pydriller(repo, shas)
            theirs_times.append(seconds)
            native_times.append(seconds - merge_s)
    return ours_times, theirs_times, native_times, (ours, theirs, kept)


def report(ours: Summary, theirs: Summary, times: tuple[list[float], list[float], list[float]]) -> float:
    """Print the rates of both sides; returns the ratio."""
    ours_times, theirs_times, native_times = times
    ours_rate, theirs_rate = len(ours) / min(ours_times), len(theirs) / min(theirs_times)
    native_rate = len(theirs) / min(native_times)
    for name, summary, seconds, rate in (("smartco  ", ours, min(ours_times), ours_rate),
                                         ("PyDriller", theirs, min(theirs_times), theirs_rate)):  # fmt: skip
        files = sum(len(commit["files"]) for commit in summary.values())
        print(f"{name}: {len(summary)} commits, {files} file changes in {seconds:.2f}s "
              f"(fastest of {len(ours_times)}) = {rate:.0f} commits/s")  # fmt: skip
    print(f"PyDriller without merge diffs (its default, less information): {native_rate:.0f} commits/s, "
          f"ratio {ours_rate / native_rate:.2f}x")  # fmt: skip
    return ours_rate / theirs_rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repo", type=Path, default=None, help="local repository to mine (default: this clone)")
    parser.add_argument("--commits", type=int, default=500, help="how many commits back from HEAD")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side; the fastest counts")
    args = parser.parse_args(argv)
    repo = (args.repo or default_repo()).resolve()
    log = ["git", "rev-list", f"--max-count={args.commits}", "--parents", "HEAD"]
    lines = subprocess.run(log, cwd=repo, capture_output=True, text=True, check=True).stdout.splitlines()
    shas = [line.split()[0] for line in lines]
    merges = sum(len(line.split()) > 2 for line in lines)
    print(f"repository {repo}: {len(shas)} commits back from HEAD ({merges} merges)")
    *times, (ours, theirs, kept) = measure(repo, shas, args.rounds)
    problems = compare(repo, ours, theirs, kept)
    for line in problems[:20]:
        print("DISAGREE", line)
    ratio = report(ours, theirs, (times[0], times[1], times[2]))
    print(f"ratio {ratio:.2f}x (target >= {TARGET}x); {len(problems)} disagreements")
    smartco_rate, pydriller_rate = len(ours) / min(times[0]), len(theirs) / min(times[1])
    figures = [
        {"bench": "git_mining_agreement", "value": len(problems), "unit": "disagreements", "target": "== 0",
         "ok": not problems and len(ours) == len(shas) > 0},
        {"bench": "git_mining_smartco_rate", "value": round(smartco_rate, 1), "unit": "commits/s",
         "target": "info", "ok": True},
        {"bench": "git_mining_pydriller_rate", "value": round(pydriller_rate, 1), "unit": "commits/s",
         "target": "info", "ok": True},
        {"bench": "git_mining_speedup", "value": round(ratio, 2), "unit": "x", "target": f">= {TARGET}",
         "ok": ratio >= TARGET},
    ]  # fmt: skip
    for figure in figures:
        print(json.dumps(figure))
    return 0 if all(figure["ok"] for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
