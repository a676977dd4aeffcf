"""Repositories aligned and screened one by one, in this process or in worker processes, handed on in order.

A repository's records depend on that repository's events only, so workers can align several at once; their
records reach the caller in repository order, each repository's in the order it made them, and the caller's
duplicate checks see exactly the sequence a single process would make: the output does not depend on the number
of workers. A worker writes a repository's records to a file beside the spill rather than sending them all at
once, and only a few repositories are in flight, so memory grows with a repository's batch, not with the input.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import resource
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

from trajectory.align.dedup import Fingerprint, fingerprints
from trajectory.align.options import BuildOptions
from trajectory.align.quality import RecordScreen, dedup_text
from trajectory.align.repository import RepositoryAligner
from trajectory.align.spill import Spill
from trajectory.records import dict_to_json
from trajectory.splits import Splitter, group_of

CHUNK = 256  # records per pickle in a worker's file
FINGERPRINT_BATCH = 64  # records whose fingerprints are taken at once
FINGERPRINT_BYTES = 4 << 20  # or fewer, when their lines add up to this


@dataclass(frozen=True)
class Placed:
    """A record that passed every check but the duplicate ones: its split and split group, its line as written
    (`dict_to_json`, made where the record was: the main process only copies it) and its fingerprint."""

    split: str
    group: str
    kind: str
    line: bytes
    mark: Fingerprint


@dataclass
class Summary:
    """What aligning one repository counted besides its records."""

    repo: str
    aligned: int = 0
    sessions: int = 0
    license: str | None = None
    dropped: Counter[str] = field(default_factory=Counter)
    redacted: Counter[str] = field(default_factory=Counter)
    peak_rss_kib: int = 0  # of the worker process that aligned it, so far (0: aligned in the caller's process)


def align_repository(spill: Spill, repo: str, options: BuildOptions, summary: Summary) -> Iterator[Placed]:
    """The records of one repository in the order they are made, split and screened; `summary` fills as they go.

    Fingerprints are taken for a few dozen records at once (`FINGERPRINT_BATCH`, or fewer when their lines are
    long): the records wait for them, in order."""
    splitter = Splitter(options.split_by, options.seed, options.ratios, options.test_after)
    screen = RecordScreen(options)
    screen.dropped, screen.redacted = summary.dropped, summary.redacted
    spill.forget_blobs()  # the texts of files of the repositories before this one are never asked for again
    aligner = RepositoryAligner(spill, repo, options, summary.dropped)
    summary.license = aligner.history.license
    waiting: list[tuple[str, str, str, bytes]] = []  # split, group, kind, line
    texts: list[tuple[str, str]] = []  # their kinds and texts to compare
    size = 0
    for record, session in aligner.run():
        summary.aligned += 1
        if record.kind not in options.kinds:
            continue
        split = splitter.assign(record, session)
        if split is None:
            summary.dropped["before_test_cut"] += 1
            continue
        data = screen.check(record)
        if data is None:
            continue
        texts.append((record.kind, dedup_text(data)))  # first: `dict_to_json` reorders an issue's fields in place
        line = dict_to_json(data)
        waiting.append((split, group_of(record, options.split_by, session), record.kind, line))
        size += len(line)
        if len(waiting) >= FINGERPRINT_BATCH or size >= FINGERPRINT_BYTES:
            yield from _fingerprinted(waiting, texts)
            waiting, texts, size = [], [], 0
    yield from _fingerprinted(waiting, texts)
    summary.sessions = aligner.sessions


def _fingerprinted(waiting: list[tuple[str, str, str, bytes]], texts: list[tuple[str, str]]) -> Iterator[Placed]:
    for (split, group, kind, line), mark in zip(waiting, fingerprints(texts), strict=True):
        yield Placed(split, group, kind, line, mark)


Aligned = tuple[Iterator[Placed], Summary]  # the summary is complete once the records are consumed


def aligned_repositories(spill: Spill, repos: list[str], options: BuildOptions, workers: int) -> Iterator[Aligned]:
    """Each repository's records and summary, in the order of `repos`."""
    if workers <= 1 or len(repos) <= 1:
        for repo in repos:
            summary = Summary(repo)
            yield align_repository(spill, repo, options, summary), summary
        return
    context = multiprocessing.get_context("spawn" if os.name == "nt" else "forkserver")
    with context.Pool(workers, initializer=_start, initargs=(spill.directory, options)) as pool:
        waiting: deque[AsyncResult[tuple[str, Summary]]] = deque()
        queue = iter(enumerate(repos))
        for _ in range(workers * 2):  # a few repositories ahead of the caller, no more
            _submit(pool, queue, waiting)
        while waiting:
            path, summary = waiting.popleft().get()
            _submit(pool, queue, waiting)
            yield _read(Path(path)), summary


def _submit(pool: Any, queue: Iterator[tuple[int, str]], waiting: deque[AsyncResult[tuple[str, Summary]]]) -> None:
    item = next(queue, None)
    if item is not None:
        waiting.append(pool.apply_async(_run, item))


def _read(path: Path) -> Iterator[Placed]:
    try:
        with path.open("rb") as handle:
            while True:
                try:
                    chunk: list[Placed] = pickle.load(handle)
                except EOFError:
                    return
                yield from chunk
    finally:
        path.unlink(missing_ok=True)


_worker: dict[str, Any] = {}  # this worker process's spill reader and options (set by `_start`)


def _start(directory: Path, options: BuildOptions) -> None:
    _worker["spill"], _worker["options"] = Spill.reopen(directory), options


def _run(index: int, repo: str) -> tuple[str, Summary]:
    spill: Spill = _worker["spill"]
    summary = Summary(repo)
    path = spill.directory / f"aligned-{index:08d}.pickle"
    with path.open("wb") as handle:
        chunk: list[Placed] = []
        for placed in align_repository(spill, repo, _worker["options"], summary):
            chunk.append(placed)
            if len(chunk) >= CHUNK:
                pickle.dump(chunk, handle, protocol=pickle.HIGHEST_PROTOCOL)
                chunk = []
        if chunk:
            pickle.dump(chunk, handle, protocol=pickle.HIGHEST_PROTOCOL)
    summary.peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return str(path), summary
