"""Dataset build benchmark: realistic event streams of 200,000 and 800,000 events, events/s and peak RSS of each.

Each stream holds many repositories of the same make: recorded editor sessions (edit episodes with real diffs,
saves, test runs failing then passing, suggestions shown, accepted, rejected and measured for survival, commits),
the same commits mined by the importer, and GitHub issues with answers (some from bots), pull requests with
review comments answered by a later commit, and merges. Each build runs in a fresh subprocess so that its peak
RSS is its own; the reference is the rate of parsing and validating the same events alone, in the same run.
Targets: >= 50,000 events/s, and peak RSS at 800,000 events <= 1.2x that at 200,000 (memory grows with the
largest session, not with the number of events). Ends with one JSON line per checked figure.

`--workers N` (default: the build's own default, one per core up to four) is passed to the build. With worker
processes the peak RSS figure is the main process's plus the largest worker's times N (an upper bound of the
whole build's); the main and the largest worker's figures are printed too, and the ratio is checked on each.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from trajectory.diffs import count_changes

SIZES = (200_000, 800_000)
RATE_TARGET = 50_000
RSS_TARGET = 1.2
MAX_LINES = 400
WORDS = ("parse", "value", "cache", "index", "token", "retry", "buffer", "window", "batch", "limit", "offset", "schema",
         "record", "stream", "merge")  # fmt: skip


def _sha(*parts: object) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()


def _function(rng: random.Random, name: str) -> list[str]:
    """A documented function with a line comment, as engineers write them."""
    a, b = rng.sample(WORDS, 2)
    return [
        f"def {name}({a}, {b}):\n",
        f'    """Return the {a} combined with the {b}."""\n',
        f"    # keep the {a} when the {b} is empty\n",
        f"    if not {b}:\n",
        f"        return {a}\n",
        f"    return {a} + {b}\n",
        "\n",
        "\n",
    ]


def _file_diff(before: str, after: str, path: str) -> str:
    """A commit's diff of one file (difflib with its junk heuristic: exact, and fast enough for the generator)."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    return "".join(lines)


def _range(start: int, count: int) -> str:
    first = start + 1 if count else start
    return f"{first}" if count == 1 else f"{first},{count}"


def _hunk(lines: list[str], at: int, removed: int, new: list[str], path: str) -> str:
    """The unified diff of replacing `removed` lines at `at` by `new`, with three lines of context, made directly
    (difflib on every episode would make the generator, not the build, the slow part)."""
    lo, hi = max(0, at - 3), min(len(lines), at + removed + 3)
    old_count = hi - lo
    new_count = old_count - removed + len(new)
    body = [" " + line for line in lines[lo:at]] + ["-" + line for line in lines[at : at + removed]]
    body += ["+" + line for line in new] + [" " + line for line in lines[at + removed : hi]]
    header = f"--- a/{path}\n+++ b/{path}\n@@ -{_range(lo, old_count)} +{_range(lo, new_count)} @@\n"
    return header + "".join(body)


class Repository:
    """One repository's files, committed tree and counters while its events are generated."""

    def __init__(self, gen: Generator, index: int) -> None:
        self.gen, self.index = gen, index
        self.name = f"github.com/bench/repo{index:05d}"
        self.files: dict[str, list[str]] = {}
        for f in range(4):
            lines = ["import os\n", "\n", "\n"]
            for k in range(8):
                lines += _function(gen.rng, f"f{f}_{k}")
            self.files[f"pkg/mod{f}.py"] = lines
        self.files["tests/test_mod0.py"] = ["from pkg.mod0 import f0_0\n", "\n", "\n", "def test_f0_0():\n",
                                            "    assert f0_0(1, 2) == 3\n"]  # fmt: skip
        self.tree = {path: "".join(lines) for path, lines in self.files.items()}
        self.head: str | None = None
        self.commits: list[str] = []
        self.next_fn = 100
        self.next_number = 1


class Generator:
    """Writes a realistic event stream of about `target` events as JSON lines."""

    def __init__(self, target: int, seed: int = 7) -> None:
        self.target, self.rng = target, random.Random(seed)
        self.clock = datetime(2024, 1, 1, tzinfo=UTC)
        self.count = 0
        self.seqs: dict[str, int] = {}
        self.out: Any = None

    def emit(self, repo: Repository, kind: str, payload: dict[str, Any], session: str, source: str,
             actor: str, path: str | None = None) -> None:  # fmt: skip
        self.clock += timedelta(seconds=self.rng.randint(5, 90))
        seq = self.seqs.get(session, 0)
        self.seqs[session] = seq + 1
        self.count += 1
        event = {"id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)), "kind": kind,
                 "ts": self.clock.isoformat(), "session_id": session, "seq": seq, "actor": actor,
                 "repo": repo.name, "source": source, "payload": payload}  # fmt: skip
        if path is not None:
            event["path"] = path
        self.out.write(orjson.dumps(event) + b"\n")

    def write(self, path: Path) -> int:
        with path.open("wb") as self.out:
            index = 0
            while self.count < self.target:
                self.repository(Repository(self, index))
                index += 1
        return self.count

    def repository(self, repo: Repository) -> None:
        self.commit(repo, "Initial import", dict(repo.tree), "u_owner", session=None)
        budget = self.count + 4000
        while self.count < min(budget, self.target):
            self.session(repo, f"u_dev{self.rng.randint(1, 5)}")
            if self.rng.random() < 0.3:
                self.issue(repo)
            if len(repo.commits) >= 3 and self.rng.random() < 0.5:
                self.pull_request(repo)

    def commit(self, repo: Repository, message: str, files: dict[str, str], actor: str, session: str | None) -> str:
        changes = []
        for path, text in sorted(files.items()):
            before = repo.tree.get(path) if repo.head else None
            diff = _file_diff(before or "", text, path)
            if not diff:
                continue
            added, removed = count_changes(diff)
            changes.append({"path": path, "change_type": "add" if before is None else "modify", "diff": diff,
                            "additions": added, "deletions": removed})  # fmt: skip
            repo.tree[path] = text
        sha = _sha(repo.name, len(repo.commits), message)
        payload = {"sha": sha, "parents": [repo.head] if repo.head else [], "message": message, "author": actor,
                   "committed_at": self.clock.isoformat(), "files": changes}  # fmt: skip
        if session is not None:  # the sidecar saw the commit; the importer mines it too
            self.emit(repo, "git.commit", payload, session, "sidecar", actor)
        self.emit(repo, "git.commit", payload, f"git:{repo.name}", "git", actor)
        repo.head = sha
        repo.commits.append(sha)
        return sha

    def session(self, repo: Repository, actor: str) -> None:
        rng = self.rng
        session = f"{repo.name}:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        self.emit(repo, "session.started", {"agent_version": "0.1.0", "git_head": repo.head, "git_branch": "main"},
                  session, "sidecar", actor)  # fmt: skip
        paths = rng.sample(sorted(p for p in repo.files if p.startswith("pkg/")), 2)
        for path in paths:
            text = "".join(repo.files[path])
            self.emit(repo, "document.opened", {"text": text, "content_hash": _sha(text)[:16], "language_id": "python"},
                      session, "sidecar", actor, path)  # fmt: skip
        for _ in range(rng.randint(20, 60)):
            path = rng.choice(paths)
            self.episode(repo, session, actor, path)
            if rng.random() < 0.1:
                self.suggestion(repo, session, actor, path)
            if rng.random() < 0.08:
                self.test_run(repo, session, actor, failed=rng.random() < 0.4)
            if rng.random() < 0.1:
                text = "".join(repo.files[path])
                self.emit(repo, "document.saved", {"content_hash": _sha(text)[:16], "text": text}, session,
                          "sidecar", actor, path)  # fmt: skip
        for path in paths:
            self.emit(repo, "document.closed", {"content_hash": _sha(path)[:16]}, session, "sidecar", actor, path)
        changed = {p: "".join(repo.files[p]) for p in paths}
        self.commit(
            repo, f"Rework {rng.choice(WORDS)} handling\n\nTouches {', '.join(paths)}.", changed, actor, session
        )
        self.emit(repo, "session.ended", {"reason": "shutdown"}, session, "sidecar", actor)

    def episode(self, repo: Repository, session: str, actor: str, path: str, accepted: str | None = None) -> None:
        """One edit episode and its exact diff, in the mix of a working day: mostly changed lines and a few new
        ones, sometimes a commented line or a new documented function, and deletions; or the insertion of an
        accepted suggestion's text (the editor applies it as an edit like any other)."""
        lines = repo.files[path]
        at = self.rng.randrange(3, len(lines))
        removed, new = (0, [accepted]) if accepted is not None else self._edit(lines, at, repo)
        diff = _hunk(lines, at, removed, new, path)
        lines[at : at + removed] = new
        payload = {"before_hash": _sha(repo.name, path, self.count)[:16], "after_hash": _sha(diff)[:16],
                   "diff": diff, "lines_added": len(new), "lines_removed": removed,
                   "changes": self.rng.randint(1, 40)}  # fmt: skip
        self.emit(repo, "document.changed", payload, session, "sidecar", actor, path)

    def _edit(self, lines: list[str], at: int, repo: Repository) -> tuple[int, list[str]]:
        roll, word, other = self.rng.random(), self.rng.choice(WORDS), self.rng.choice(WORDS)
        if len(lines) > MAX_LINES or roll < 0.1:  # files stay the size real modules have
            return min(self.rng.randint(1, 8), len(lines) - at), []
        if roll < 0.55:  # a changed expression
            return 1, [lines[at].replace(word, other) if word in lines[at] else f"    {word} = {other}({word})\n"]
        if roll < 0.75:
            return 0, [f"    {word} = {other}({word}, {self.rng.randint(0, 99)})\n"]
        if roll < 0.85:
            return 0, [f"    # {word} must stay below the {other} limit\n", f"    {word} = min({word}, {other})\n"]
        if roll < 0.9:
            return 1, [lines[at].rstrip("\n") + f"  # {word} first\n"]
        repo.next_fn += 1
        return 0, _function(self.rng, f"g{repo.next_fn}")

    def suggestion(self, repo: Repository, session: str, actor: str, path: str) -> None:
        sid = f"sg-{self.count}"
        text = f"    return {self.rng.choice(WORDS)}\n"
        base = {"suggestion_id": sid, "text": text, "model": "bench-model", "provider": "bench"}
        self.emit(repo, "suggestion.shown", base, session, "sidecar", actor, path)
        outcome = self.rng.choice(("accepted", "rejected", None, None))  # most ghost text is typed over, unanswered
        if outcome is None:
            return
        self.emit(repo, f"suggestion.{outcome}", base, session, "sidecar", actor, path)
        if outcome == "accepted":
            self.episode(repo, session, actor, path, accepted=text)
            survival = {"suggestion_id": sid, "checkpoint": "2m", "survived_ratio": 0.5, "survived_chars": 6}
            self.emit(repo, "suggestion.survival", survival, session, "sidecar", actor, path)

    def test_run(self, repo: Repository, session: str, actor: str, failed: bool) -> None:
        outcome = "failed" if failed else "passed"
        payload = {"framework": "pytest", "tests": [{"test_id": "tests/test_mod0.py::test_f0_0", "outcome": outcome}],
                   "passed": 0 if failed else 1, "failed": 1 if failed else 0}  # fmt: skip
        self.emit(repo, "test.run", payload, session, "sidecar", actor)

    def issue(self, repo: Repository) -> None:
        number = repo.next_number
        repo.next_number += 1
        gh = f"github:{repo.name}"
        title = f"{self.rng.choice(WORDS)} breaks on empty input"
        question = {"number": number, "title": title, "body": "Steps to reproduce: call it with an empty value.",
                    "user_login": "u_user", "created_at": self.clock.isoformat()}  # fmt: skip
        self.emit(repo, "issue.opened", question, gh, "github", "u_user")
        for k in range(self.rng.randint(1, 4)):
            bot = k == 0 and self.rng.random() < 0.3
            body = "Thanks for opening this issue!" if bot else f"It fails in the {self.rng.choice(WORDS)} path."
            login = "ci[bot]" if bot else "u_m"
            answer = {"issue_number": number, "comment_id": self.count + 1, "user_login": login, "body": body,
                      "created_at": self.clock.isoformat(), "is_bot": bot}  # fmt: skip
            self.emit(repo, "issue.comment", answer, gh, "github", "u_m")

    def pull_request(self, repo: Repository) -> None:
        number = repo.next_number
        repo.next_number += 1
        gh = f"github:{repo.name}"
        path = "pkg/mod1.py"
        first = self.commit(repo, "Tighten the limit check", {path: repo.tree[path] + "LIMIT = 10\n"}, "u_dev1", None)
        opened = {"number": number, "title": "Tighten the limit check", "body": "Fixes #1", "user_login": "u_dev1",
                  "commits": [first], "linked_issues": [1]}  # fmt: skip
        self.emit(repo, "pr.opened", opened, gh, "github", "u_dev1")
        last = repo.tree[path].count("\n")
        hunk = f"@@ -{last - 1},1 +{last - 1},2 @@\n \n+LIMIT = 10\n"
        comment = {"pr_number": number, "comment_id": self.count + 1, "user_login": "u_rev", "path": path,
                   "body": "Make the limit configurable.", "line": last, "commit_id": first,
                   "diff_hunk": hunk}  # fmt: skip
        self.emit(repo, "review.comment", comment, gh, "github", "u_rev", path)
        text = repo.tree[path].replace("LIMIT = 10\n", 'LIMIT = int(os.environ.get("LIMIT", "10"))\n')
        second = self.commit(repo, "Read the limit from the environment", {path: text}, "u_dev1", None)
        self.emit(
            repo, "pr.updated", {"number": number, "before_sha": first, "head_sha": second}, gh, "github", "u_dev1"
        )
        self.emit(repo, "pr.merged", {"number": number, "merge_commit_sha": second}, gh, "github", "u_dev1")
        repo.files[path] = [*repo.tree[path].splitlines(keepends=True)]


def run_build(events: Path, out: Path, workers: int = 1) -> dict[str, Any]:
    """One build in this process: its duration and peak RSS (for the parent to read). With worker processes, the
    peak RSS is this process's plus the largest worker's times the number of workers (an upper bound)."""
    from trajectory.align.builder import build
    from trajectory.align.options import BuildOptions
    from trajectory.align.source import FileSource

    start = time.perf_counter()
    result = build(FileSource(events), out, BuildOptions(workers=workers))
    elapsed = time.perf_counter() - start
    main_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    worker_kib = result.worker_peak_rss_kib
    return {"events": result.events_read, "seconds": elapsed, "peak_rss_mb": (main_kib + workers * worker_kib) / 1024,
            "main_rss_mb": main_kib / 1024, "worker_rss_mb": worker_kib / 1024, "workers": workers,
            "records": result.total, "kinds": result.kind_counts(), "dropped": result.dropped}  # fmt: skip


def parse_rate(events: Path) -> float:
    """The reference: events/s of reading and validating the same lines, nothing else."""
    from trajectory.events import parse_event

    start = time.perf_counter()
    count = 0
    with events.open("rb") as handle:
        for line in handle:
            parse_event(line)
            count += 1
    return count / (time.perf_counter() - start)


def child(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="event counts, comma-separated")
    parser.add_argument("--workers", type=int, default=None, help="worker processes of the build (default: its own)")
    parser.add_argument("--child-build", nargs=3, metavar=("EVENTS", "OUT", "WORKERS"), help=argparse.SUPPRESS)
    parser.add_argument("--child-parse", metavar="EVENTS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_build:
        events, out, workers = args.child_build
        print(json.dumps(run_build(Path(events), Path(out), int(workers))))
        return 0
    if args.child_parse:
        print(json.dumps({"rate": parse_rate(Path(args.child_parse))}))
        return 0
    sizes = [int(size) for size in args.sizes.split(",")]
    from trajectory.align.options import default_workers

    workers = args.workers or default_workers()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="smartco-bench-build-") as tmp:
        for size in sizes:
            events = Path(tmp) / f"events-{size}.jsonl"
            start = time.perf_counter()
            count = Generator(size).write(events)
            mb = events.stat().st_size / 1e6
            print(f"generated {count:,} events ({mb:.0f} MB) in {time.perf_counter() - start:.1f}s")
            reference = child("--child-parse", str(events))["rate"]
            run = child("--child-build", str(events), str(Path(tmp) / f"out-{size}"), str(workers))
            run["rate"] = run["events"] / run["seconds"]
            runs.append(run)
            print(f"{run['events']:,} events: {run['rate']:,.0f} events/s (parsing alone {reference:,.0f}/s, "
                  f"ratio {run['rate'] / reference:.2f}), peak RSS {run['peak_rss_mb']:.0f} MB (main "
                  f"{run['main_rss_mb']:.0f} MB, largest of {workers} workers {run['worker_rss_mb']:.0f} MB), "
                  f"{run['records']:,} records {run['kinds']}")  # fmt: skip
            print(f"  dropped: {run['dropped']}")
            events.unlink()
    slowest = min(run["rate"] for run in runs)
    ratio = max(runs[-1][key] / runs[0][key] for key in ("peak_rss_mb", "main_rss_mb", "worker_rss_mb") if runs[0][key])
    figures = [
        {"bench": "build_events_per_s", "value": round(slowest), "unit": "events/s", "target": f">= {RATE_TARGET}",
         "ok": slowest >= RATE_TARGET},
        {"bench": "build_rss_ratio", "value": round(ratio, 3), "unit": "x", "target": f"<= {RSS_TARGET}",
         "ok": ratio <= RSS_TARGET, "sizes": sizes, "peak_rss_mb": [round(r["peak_rss_mb"], 1) for r in runs]},
    ]  # fmt: skip
    for figure in figures:
        print(json.dumps(figure))
    return 0 if all(figure["ok"] for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
