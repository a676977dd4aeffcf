"""Splits: deterministic for a seed, a repository (or session) never in two splits, a time cut for test."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from align.stream import scenario, write_events
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectory.align.builder import build
from trajectory.align.options import BuildOptions
from trajectory.align.source import FileSource
from trajectory.records import Provenance, SimpleCommentRecord, read_records
from trajectory.splits import SPLITS, Splitter

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
ratios = (
    st.tuples(st.integers(0, 10), st.integers(0, 10), st.integers(0, 10))
    .filter(lambda r: sum(r) > 0)
    .map(lambda r: tuple(x / sum(r) for x in r))
)


def _record(repo: str, day: int, span: int) -> SimpleCommentRecord:
    first = EPOCH + timedelta(days=day)
    provenance = Provenance(repo=repo, first_ts=first, last_ts=first + timedelta(days=span))
    return SimpleCommentRecord(id=f"r-{repo}-{day}", code_snippet="x", comment="y", provenance=provenance)


records = st.lists(
    st.tuples(
        st.sampled_from([f"repo{n}" for n in range(12)]),
        st.sampled_from(["s1", "s2", "s3", None]),
        st.integers(0, 60),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=100, deadline=None)
@given(records, st.integers(0, 2**32), ratios, st.sampled_from(["repo", "session"]), st.none() | st.integers(0, 60))
def test_no_group_spans_two_splits_and_test_is_after_the_cut(items, seed, split_ratios, split_by, cut_day) -> None:
    cut = None if cut_day is None else EPOCH + timedelta(days=cut_day)
    splitter = Splitter(split_by, seed, split_ratios, cut)  # type: ignore[arg-type]
    again = Splitter(split_by, seed, split_ratios, cut)  # type: ignore[arg-type]
    where: dict[str, set[str]] = defaultdict(set)
    for repo, session, day, span in items:
        record = _record(repo, day, span)
        split = splitter.assign(record, session)
        assert split == again.assign(record, session)  # deterministic for a seed
        if split is None:
            assert cut is not None and record.provenance.first_ts <= cut  # only test loses records to the cut
            continue
        assert split in SPLITS
        group = f"{repo}/{session}" if split_by == "session" and session else repo
        where[group].add(split)
        if split == "test" and cut is not None:
            assert record.provenance.first_ts > cut  # all of its evidence is newer than the cut
        assert split_ratios[SPLITS.index(split)] > 0
    assert all(len(splits) == 1 for splits in where.values()), where


def test_ratios_and_seed_decide_the_shares() -> None:
    shares = Counter(Splitter("repo", 11, (0.7, 0.2, 0.1)).assign(_record(f"repo{n}", 1, 0)) for n in range(4000))
    assert abs(shares["train"] / 4000 - 0.7) < 0.03 and abs(shares["validation"] / 4000 - 0.2) < 0.03
    one = [Splitter("repo", 1).assign(_record(f"repo{n}", 1, 0)) for n in range(200)]
    other = [Splitter("repo", 2).assign(_record(f"repo{n}", 1, 0)) for n in range(200)]
    assert one != other


def _repos_by_split(out: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {split: set() for split in SPLITS}
    for path in out.glob("*/*.jsonl"):
        found[path.stem] |= {record.provenance.repo for record in read_records(path)}
    return found


def test_a_build_puts_each_repository_in_one_split(tmp_path: Path) -> None:
    events = [e for n in range(12) for e in scenario(f"github.com/acme/r{n}", id_base=n * 1000).events]
    source = FileSource(write_events(tmp_path / "events.jsonl", events))
    build(source, tmp_path / "out", BuildOptions(seed=3, ratios=(0.5, 0.25, 0.25)))
    by_split = _repos_by_split(tmp_path / "out")
    assert all(by_split.values()), by_split  # with twelve repositories, every split got some
    assert not (by_split["train"] & by_split["validation"] or by_split["train"] & by_split["test"]
                or by_split["validation"] & by_split["test"])  # fmt: skip
    manifest = orjson.loads((tmp_path / "out" / "manifest.json").read_bytes())
    assert {split: len(repos) for split, repos in by_split.items()} == manifest["groups_per_split"]


def test_split_by_session_keeps_each_session_whole(tmp_path: Path) -> None:
    events = [e for n in range(6) for e in scenario("github.com/acme/one", id_base=n * 1000).events]
    renamed = [e.model_copy(update={"session_id": f"{e.session_id}-{n // 24}"}) if e.source == "sidecar" else e
               for n, e in enumerate(events)]  # fmt: skip
    source = FileSource(write_events(tmp_path / "events.jsonl", renamed))
    build(source, tmp_path / "out", BuildOptions(split_by="session", seed=5))
    where: dict[str, set[str]] = defaultdict(set)
    for path in (tmp_path / "out").glob("*/*.jsonl"):
        for record in read_records(path):
            sessions = [s for s in record.provenance.sessions if not s.startswith(("git", "github"))]
            assert len(sessions) <= 1
            where[sessions[0] if sessions else "history"].add(path.stem)
    assert all(len(splits) == 1 for splits in where.values()), where


def test_test_after_keeps_only_newer_evidence_in_test(tmp_path: Path) -> None:
    old = [e for n in range(8) for e in scenario(f"github.com/acme/old{n}", id_base=n * 1000).events]
    new = [e for n in range(8) for e in scenario(f"github.com/acme/new{n}", id_base=(n + 8) * 1000,
                                                  start=datetime(2025, 6, 1, tzinfo=UTC)).events]  # fmt: skip
    source = FileSource(write_events(tmp_path / "events.jsonl", old + new))
    cut = datetime(2025, 1, 1, tzinfo=UTC)
    result = build(source, tmp_path / "out", BuildOptions(seed=1, ratios=(0.4, 0.2, 0.4), test_after=cut))
    tests = list(read_records(tmp_path / "out" / "trajectory" / "test.jsonl"))
    assert tests and all(r.provenance.first_ts > cut for r in tests)
    assert result.dropped["before_test_cut"] > 0
    assert any(r.provenance.last_ts < cut for r in read_records(tmp_path / "out" / "trajectory" / "train.jsonl"))
