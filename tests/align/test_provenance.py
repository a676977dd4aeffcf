"""Every record: a stable id, provenance that points at real evidence, its language, the repository's license."""

from __future__ import annotations

from pathlib import Path

from align.stream import align, scenario

from trajectory.diffs import split_lines
from trajectory.records import RECORD_KINDS, TrajectoryRecord


def test_every_kind_has_stable_ids_and_provenance_pointing_at_the_evidence(tmp_path: Path) -> None:
    stream = scenario()
    records, _ = align(tmp_path, stream.events)
    again, _ = align(tmp_path, scenario().events)
    assert sorted(r.kind for r in records) == sorted(r.kind for r in again)
    assert {r.kind for r in records} == set(RECORD_KINDS)
    assert [r.id for r in records] == [r.id for r in again]
    assert len({r.id for r in records}) == len(records)

    events = {str(e.id): e for e in stream.events}
    shas = {e.payload.sha for e in stream.events if e.kind == "git.commit"}  # type: ignore[attr-defined]
    files = {p for e in stream.events if e.kind == "git.commit" for p in (f.path for f in e.payload.files)}  # type: ignore[attr-defined]
    for record in records:
        p = record.provenance
        assert record.id.startswith(f"{record.kind}-") and p.repo == stream.repo
        assert p.event_ids and set(p.event_ids) <= set(events), record.kind
        assert set(p.commits) <= shas, record.kind
        assert p.first_ts == min(events[i].ts for i in p.event_ids) or record.kind == "trajectory"
        assert p.first_ts is not None and p.last_ts is not None and p.first_ts <= p.last_ts
        assert set(p.paths) <= files, record.kind
        assert record.license == "MIT"
        if record.kind == "issue":
            assert record.language is None and p.issues == [7]
            continue
        assert record.language == "python" and p.line_ranges, record.kind
        for path, first, last in p.line_ranges:
            assert path in p.paths and 1 <= first <= last
            if isinstance(record, TrajectoryRecord):
                assert last <= len(split_lines(record.final_files[path]))


def test_the_license_is_the_repositorys_and_none_where_it_declares_none(tmp_path: Path) -> None:
    licensed = scenario("github.com/acme/licensed")
    unlicensed = scenario("github.com/acme/unlicensed", licensed=False, id_base=10_000)
    records, _ = align(tmp_path, [*licensed.events, *unlicensed.events])
    by_repo = {(r.provenance.repo, r.license) for r in records}
    assert by_repo == {("github.com/acme/licensed", "MIT"), ("github.com/acme/unlicensed", None)}
