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
from trajectory.align.pool import Placed, aligned_repositories
from trajectory.align.quality import QualityGate
from trajectory.align.source import EventSource
from trajectory.align.spill import Spill
from trajectory.splits import SPLITS

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]  # (phase, items done so far)
PROGRESS_EVERY = 5000
HASH_LINES = 1000
# Records the duplicate checks decide at once: a batch's band keys are looked up (and its kept ones stored) in key
# order, so a larger batch reads each page of the on-disk index once where a small one reads it for each key on
# it; the lines waiting meanwhile are capped in bytes.
GATE_BATCH = 4096
GATE_BYTES = 16 << 20


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
    hashed: list[bytes] = []  # lines not yet hashed: hashed a thousand at a time, as one buffer
    for line in source.lines():
        hashed.append(line)
        if len(hashed) >= HASH_LINES:
            digest.update(b"\n".join(hashed) + b"\n")
            hashed.clear()
        spill.add(line)
        if progress is not None and spill.events_read % PROGRESS_EVERY == 0:
            progress("events", spill.events_read)
    if hashed:
        digest.update(b"\n".join(hashed) + b"\n")
    spill.finish()
    if progress is not None:
        progress("events", spill.events_read)
    result.input_hash = digest.hexdigest()
    result.events_read, result.events_kept = spill.events_read, spill.events_kept
    log.info("spilled %d events, kept %d (%s)", spill.events_read, spill.events_kept, dict(spill.dropped))


@dataclass
class _Placement:
    """The last step of each record: the duplicate checks of the gate, then its file (batched: the same decisions
    in the same order as one by one)."""

    gate: QualityGate
    writer: DatasetWriter
    groups: dict[str, set[str]] = field(default_factory=lambda: {split: set() for split in SPLITS})
    pending: list[Placed] = field(default_factory=list)
    pending_bytes: int = 0

    def place(self, placed: Placed) -> None:
        self.pending.append(placed)
        self.pending_bytes += len(placed.line)
        if len(self.pending) >= GATE_BATCH or self.pending_bytes >= GATE_BYTES:
            self.flush()

    def flush(self) -> None:
        """Gate and write the records waiting, in order."""
        pending, self.pending, self.pending_bytes = self.pending, [], 0
        reasons = self.gate.decide([placed.mark for placed in pending])
        for placed, reason in zip(pending, reasons, strict=True):
            if reason is None:
                self.writer.write_line(placed.kind, placed.split, placed.line)
                self.groups[placed.split].add(placed.group)


def _align(
    spill: Spill, tmp: Path, out_dir: Path, options: BuildOptions, result: BuildResult, progress: Progress | None
) -> None:
    gate = QualityGate(tmp, options)
    placement = _Placement(gate, DatasetWriter(out_dir, options.kinds))
    dropped: Counter[str] = Counter(spill.dropped)
    licenses: set[str] = set()
    aligned = 0
    try:
        for records, summary in aligned_repositories(spill, spill.repos(), options, options.workers):
            for placed in records:
                placement.place(placed)
            if summary.license:
                licenses.add(summary.license)
            if progress is not None and aligned // 1000 != (aligned + summary.aligned) // 1000:
                progress("records", aligned + summary.aligned)
            aligned += summary.aligned
            dropped.update(summary.dropped)
            gate.redacted.update(summary.redacted)
            result.repositories += 1
            result.sessions += summary.sessions
            result.worker_peak_rss_kib = max(result.worker_peak_rss_kib, summary.peak_rss_kib)
            log.debug("aligned %s: %d sessions, %d records so far", summary.repo, summary.sessions, aligned)
        placement.flush()
    finally:
        result.files = placement.writer.close()
        gate.close()
    result.dropped = dict(dropped + gate.dropped)
    result.redacted = dict(gate.redacted)
    result.groups = {split: len(names) for split, names in placement.groups.items()}
    result.licenses = sorted(licenses)
    counts = placement.writer.counts
    result.counts = {kind: {split: counts[(kind, split)] for split in SPLITS} for kind in options.kinds}
