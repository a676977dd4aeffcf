"""Integration: a real repository's history, mined by the importer into JSONL, built into records that point at
commits git knows and events the input holds; trajectories replay from their starting version to their final one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
import pytest
from sources.gitrepo import GitRepo

from trajectory.align.builder import build
from trajectory.align.options import BuildOptions
from trajectory.align.source import FileSource
from trajectory.records import RECORD_KINDS, RecordBase, TrajectoryRecord, read_records
from trajectory.sources.history import GitImportSettings, import_git
from trajectory.sources.sink import JsonlSink

MIT = "MIT License\n\nCopyright (c) 2024 Acme\n\nPermission is hereby granted, free of charge, to any person\n"
STATS = '''"""Small statistics helpers."""

import math


def mean(values):
    """The arithmetic mean of `values`."""
    total = sum(values)
    return total / len(values)
'''
STATS_2 = STATS + '''

def stdev(values):
    """The population standard deviation of `values`.

    Zero for a single value.
    """
    centre = mean(values)
    # squared distances from the mean, summed
    spread = sum((v - centre) ** 2 for v in values)
    return math.sqrt(spread / len(values))
'''
TESTS = """from stats import mean, stdev


def test_mean():
    assert mean([1, 2, 3]) == 2


def test_stdev():
    assert stdev([2, 4, 4, 4, 5, 5, 7, 9]) == 2
"""


def _history(repo: GitRepo) -> None:
    repo.write("LICENSE", MIT)
    repo.write("stats.py", STATS)
    repo.commit("Add mean")
    repo.git("checkout", "-q", "-b", "stdev")
    repo.write("stats.py", STATS_2)
    repo.write("tests/test_stats.py", TESTS)
    repo.commit("Add stdev with a test\n\nPopulation, not sample.")
    repo.git("checkout", "-q", "main")
    repo.write("README.md", "# stats\n")
    repo.commit("Add a readme")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge stdev", "stdev")
    repo.write("stats.py", STATS_2.replace("    total = sum(values)\n", "    # empty input raises ZeroDivisionError\n"
                                           "    total = sum(values)\n"))  # fmt: skip
    repo.git("mv", "README.md", "README.rst")
    repo.commit("Explain mean's failure mode")


def _mine(repo: Path, tmp_path: Path, **settings: object) -> Path:
    events = tmp_path / "events.jsonl"
    values: dict[str, object] = {"repo": repo, "salt": "s", "state_path": tmp_path / "state.json",
                                 "destination": str(events), **settings}  # fmt: skip
    sink = JsonlSink(events)
    try:
        import_git(GitImportSettings(**values), sink)  # type: ignore[arg-type]
    finally:
        sink.close()
    return events


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)


def _records(out: Path) -> list[RecordBase]:
    return [record for path in sorted(out.glob("*/*.jsonl")) for record in read_records(path)]


def _check_points_at_real_evidence(repo: Path, events: Path, records: list[RecordBase]) -> None:
    ids = {orjson.loads(line)["id"] for line in events.read_bytes().splitlines()}
    for record in records:
        assert set(record.provenance.event_ids) <= ids, record.id
        for sha in record.provenance.commits:
            assert _git(repo, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0, (record.id, sha)
        if not isinstance(record, TrajectoryRecord):
            continue
        assert record.replay() == record.final_files, record.id
        if record.start_commit is not None:
            for path, text in record.start_files.items():
                shown = _git(repo, "show", f"{record.start_commit}:{path}")
                assert (shown.stdout if shown.returncode == 0 else "") == text, (record.id, path)
        final = record.outcome.get("commit")
        for path, text in record.final_files.items() if final else ():
            assert _git(repo, "show", f"{final}:{path}").stdout == text, (record.id, path)


def test_records_from_a_mined_repository_point_at_its_commits(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    _history(repo)
    events = _mine(repo.path, tmp_path)
    result = build(FileSource(events), tmp_path / "out", BuildOptions(ratios=(1.0, 0.0, 0.0)))
    records = _records(tmp_path / "out")
    _check_points_at_real_evidence(repo.path, events, records)
    kinds = {record.kind for record in records}
    assert {"trajectory", "comment", "comment_simple", "generation"} <= kinds <= set(RECORD_KINDS)
    assert {record.license for record in records} == {"MIT"} and result.licenses == ["MIT"]

    stdev = repo.head("stdev")
    [task] = [r for r in records if r.kind == "generation" and r.entry_point == "stdev"]  # type: ignore[attr-defined]
    assert task.provenance.commits == [stdev] and "assert stdev(" in (task.tests or "")  # type: ignore[attr-defined]
    [doc] = [r for r in records if r.kind == "comment_simple" and "standard deviation" in r.comment]  # type: ignore[attr-defined]
    assert doc.code_snippet.startswith("def stdev(values):")  # type: ignore[attr-defined]
    notes = {a.annotation for r in records if r.kind == "comment" for a in r.annotations}  # type: ignore[attr-defined]
    assert {"squared distances from the mean, summed", "empty input raises ZeroDivisionError"} <= notes
    last = [r for r in records if isinstance(r, TrajectoryRecord) and r.task == "Explain mean's failure mode"]
    assert last and last[0].start_commit == repo.head("HEAD~1")


@pytest.mark.slow
def test_this_projects_own_history(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    if _git(root, "rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        pytest.skip("not run from a git clone of the project")
    events = _mine(root, tmp_path, max_commits=60)
    result = build(FileSource(events), tmp_path / "out", BuildOptions(ratios=(1.0, 0.0, 0.0)))
    records = _records(tmp_path / "out")
    assert result.events_read > 0 and len(records) > 20
    assert {"trajectory", "comment", "comment_simple"} <= {r.kind for r in records}
    _check_points_at_real_evidence(root, events, records)
