"""The dataset build: spill the events, align repository by repository, gate, split, write, describe."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from trajectory.align.card import write_card
from trajectory.align.manifest import BuildResult, write_manifest
from trajectory.align.options import BuildOptions
from trajectory.align.output import DatasetWriter
from trajectory.align.quality import QualityGate
from trajectory.align.repository import RepositoryAligner
from trajectory.align.source import EventSource
from trajectory.align.spill import Spill
from trajectory.records import RecordBase
from trajectory.splits import SPLITS, Splitter, group_of

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]  # (phase, items done so far)
PROGRESS_EVERY = 5000
GATE_BATCH = 256  # records the quality gate decides at once


def build(source: EventSource, out_dir: Path, options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    """Build the dataset of `source` into `out_dir`; same inputs and options give byte-identical files."""
    result = BuildResult(out_dir=out_dir, source=source.describe(), options=options.describe())
    with tempfile.TemporaryDirectory(prefix="smartco-align-") as tmp:
        spill = Spill(Path(tmp), options.repos, options.actors)
        try:
            _ingest(source, spill, result, progress)
            _align(spill, Path(tmp), out_dir, options, result, progress)
        finally:
            spill.close()
    write_manifest(result)
    write_card(result)
    log.info("built %d records from %d events into %s", result.total, result.events_read, out_dir)
    return result


def _ingest(source: EventSource, spill: Spill, result: BuildResult, progress: Progress | None) -> None:
    digest = hashlib.blake2b(digest_size=20)
    for line in source.lines():
        digest.update(line + b"\n")
        spill.add(line)
        if progress is not None and spill.events_read % PROGRESS_EVERY == 0:
            progress("events", spill.events_read)
    spill.finish()
    if progress is not None:
        progress("events", spill.events_read)
    result.input_hash = digest.hexdigest()
    result.events_read, result.events_kept = spill.events_read, spill.events_kept
    log.info("spilled %d events, kept %d (%s)", spill.events_read, spill.events_kept, dict(spill.dropped))


@dataclass
class _Placement:
    """Where each aligned record goes: its split (or the time cut), the quality gate, then its file.

    Records wait in a small batch so that the gate decides many at once (the same decisions, in the same order).
    """

    options: BuildOptions
    gate: QualityGate
    writer: DatasetWriter
    dropped: Counter[str]
    groups: dict[str, set[str]] = field(default_factory=lambda: {split: set() for split in SPLITS})
    pending: list[tuple[RecordBase, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        options = self.options
        self.splitter = Splitter(options.split_by, options.seed, options.ratios, options.test_after)

    def place(self, record: RecordBase, session: str | None) -> None:
        if record.kind not in self.options.kinds:
            return
        split = self.splitter.assign(record, session)
        if split is None:
            self.dropped["before_test_cut"] += 1
            return
        self.pending.append((record, split, group_of(record, self.options.split_by, session)))
        if len(self.pending) >= GATE_BATCH:
            self.flush()

    def flush(self) -> None:
        """Gate and write the records waiting, in order."""
        pending, self.pending = self.pending, []
        admitted = self.gate.admit_all([record for record, _, _ in pending])
        for (_, split, group), kept in zip(pending, admitted, strict=True):
            if kept is not None:
                self.writer.write(split, kept)
                self.groups[split].add(group)


def _align(
    spill: Spill, tmp: Path, out_dir: Path, options: BuildOptions, result: BuildResult, progress: Progress | None
) -> None:
    gate = QualityGate(tmp, options)
    placement = _Placement(options, gate, DatasetWriter(out_dir, options.kinds), Counter(spill.dropped))
    licenses: set[str] = set()
    aligned = 0
    try:
        for repo in spill.repos():
            aligner = RepositoryAligner(spill, repo, options, placement.dropped)
            if aligner.history.license:
                licenses.add(aligner.history.license)
            for record, session in aligner.run():
                placement.place(record, session)
                aligned += 1
                if progress is not None and aligned % 1000 == 0:
                    progress("records", aligned)
            result.repositories += 1
            result.sessions += aligner.sessions
            log.debug("aligned %s: %d sessions, %d records so far", repo, aligner.sessions, aligned)
        placement.flush()
    finally:
        result.files = placement.writer.close()
        gate.close()
    result.dropped = dict(placement.dropped + gate.dropped)
    result.redacted = dict(gate.redacted)
    result.groups = {split: len(names) for split, names in placement.groups.items()}
    result.licenses = sorted(licenses)
    counts = placement.writer.counts
    result.counts = {kind: {split: counts[(kind, split)] for split in SPLITS} for kind in options.kinds}
