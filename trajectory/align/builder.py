"""The dataset build: spill the events, align repository by repository, gate, split, write, describe."""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from trajectory.align.card import write_card
from trajectory.align.manifest import BuildResult, write_manifest
from trajectory.align.options import BuildOptions
from trajectory.align.output import DatasetWriter
from trajectory.align.quality import QualityGate
from trajectory.align.repository import RepositoryAligner
from trajectory.align.source import EventSource
from trajectory.align.spill import Spill
from trajectory.splits import SPLITS, Splitter

log = logging.getLogger(__name__)

Progress = Callable[[str, int], None]  # (phase, items done so far)
PROGRESS_EVERY = 5000


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


def _align(
    spill: Spill, tmp: Path, out_dir: Path, options: BuildOptions, result: BuildResult, progress: Progress | None
) -> None:
    dropped: Counter[str] = Counter(spill.dropped)
    gate = QualityGate(tmp, options)
    splitter = Splitter(options.split_by, options.seed, options.ratios, options.test_after)
    writer = DatasetWriter(out_dir, options.kinds)
    groups: dict[str, set[str]] = {split: set() for split in SPLITS}
    licenses: set[str] = set()
    aligned = 0
    try:
        for repo in spill.repos():
            aligner = RepositoryAligner(spill, repo, options, dropped)
            if aligner.history.license:
                licenses.add(aligner.history.license)
            for record, session in aligner.run():
                aligned += 1
                if record.kind not in options.kinds:
                    continue
                split = splitter.assign(record, session)
                if split is None:
                    dropped["before_test_cut"] += 1
                    continue
                kept = gate.admit(record)
                if kept is not None:
                    writer.write(split, kept)
                    groups[split].add(
                        f"{options.split_by}:{session if options.split_by == 'session' and session else repo}"
                    )
                if progress is not None and aligned % 1000 == 0:
                    progress("records", aligned)
            result.repositories += 1
            result.sessions += aligner.sessions
            log.debug("aligned %s: %d sessions, %d records so far", repo, aligner.sessions, aligned)
    finally:
        result.files = writer.close()
        gate.close()
    dropped.update(gate.dropped)
    result.dropped = dict(dropped)
    result.redacted = dict(gate.redacted)
    result.groups = {split: len(names) for split, names in groups.items()}
    result.licenses = sorted(licenses)
    result.counts = {kind: {split: writer.counts[(kind, split)] for split in SPLITS} for kind in options.kinds}
