"""Exact and near-duplicate decisions for batches of records, against every record kept before (temporary SQLite).

Decisions are those of checking the records one by one in order: a batch is looked up in a few statements, and
its records are then decided in order against what the database returned plus the batch's own earlier records.
The index stays on disk, so memory grows with a batch, not with the dataset.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from trajectory.align import minhash

_SCHEMA = """
PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
CREATE TABLE seen (hash BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE band (key INTEGER, kind TEXT, sig INTEGER);
CREATE INDEX band_key ON band (key, kind);
CREATE TABLE sig (id INTEGER PRIMARY KEY, value BLOB);
"""
_CHUNK = 900  # values per IN (...) list, well below SQLite's limit on bound parameters


def _chunks(values: Sequence[object]) -> list[Sequence[object]]:
    return [values[at : at + _CHUNK] for at in range(0, len(values), _CHUNK)]


class DuplicateIndex:
    """Every (kind, text) seen so far (exact, after `minhash.normalise`) and the MinHash bands of those kept."""

    def __init__(self, directory: Path, threshold: float) -> None:
        self.threshold = threshold
        self._db = sqlite3.connect(directory / "quality.sqlite3", isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._db.execute("BEGIN")
        self._next_sig = 1

    def check(self, items: Sequence[tuple[str, str]]) -> list[str | None]:
        """For each (kind, text) in order: "exact_duplicate", "near_duplicate" or None (kept, and remembered)."""
        normalised = [minhash.normalise(text) for _, text in items]
        digests = [
            hashlib.blake2b(f"{kind}\0{norm}".encode(), digest_size=16).digest()
            for (kind, _), norm in zip(items, normalised, strict=True)
        ]
        reasons: list[str | None] = [None] * len(items)
        known = self._known(digests)
        fresh: list[bytes] = []
        for index, digest in enumerate(digests):
            if digest in known:
                reasons[index] = "exact_duplicate"
            else:
                known.add(digest)
                fresh.append(digest)
        self._db.executemany("INSERT INTO seen VALUES (?)", [(digest,) for digest in fresh])
        todo = [index for index, reason in enumerate(reasons) if reason is None]
        for index, reason in zip(todo, self._near([(items[i][0], normalised[i]) for i in todo]), strict=True):
            reasons[index] = reason
        return reasons

    def _known(self, digests: list[bytes]) -> set[bytes]:
        known: set[bytes] = set()
        for chunk in _chunks(sorted(set(digests))):
            marks = ",".join("?" * len(chunk))
            known.update(row[0] for row in self._db.execute(f"SELECT hash FROM seen WHERE hash IN ({marks})", chunk))
        return known

    def _near(self, items: list[tuple[str, str]]) -> list[str | None]:
        """Near-duplicate decisions for records that are not exact duplicates; kept ones are stored."""
        sigs = [minhash.signature(minhash.window_hashes(norm)) for _, norm in items]
        keys = [minhash.band_keys(sig) for sig in sigs]
        candidates, values = self._candidates({key for row in keys for key in row})
        reasons: list[str | None] = []
        kept: list[tuple[int, str, bytes, list[int]]] = []
        for (kind, _), sig, row in zip(items, sigs, keys, strict=True):
            found: set[int] = set()
            for key in row:
                found.update(candidates.get((key, kind), ()))
            if found and self._similar(sig, [values[sig_id] for sig_id in sorted(found)]):
                reasons.append("near_duplicate")
                continue
            reasons.append(None)
            sig_id = self._next_sig
            self._next_sig += 1
            values[sig_id] = sig
            for key in row:
                candidates.setdefault((key, kind), []).append(sig_id)
            kept.append((sig_id, kind, sig, row))
        self._db.executemany("INSERT INTO sig VALUES (?, ?)", [(sig_id, sig) for sig_id, _, sig, _ in kept])
        self._db.executemany(
            "INSERT INTO band VALUES (?, ?, ?)",
            [(key, kind, sig_id) for sig_id, kind, _, row in kept for key in row],
        )
        return reasons

    def _candidates(self, keys: set[int]) -> tuple[dict[tuple[int, str], list[int]], dict[int, bytes]]:
        """The stored signatures sharing a band key: (key, kind) -> signature ids, and id -> signature."""
        candidates: dict[tuple[int, str], list[int]] = {}
        values: dict[int, bytes] = {}
        for chunk in _chunks(sorted(keys)):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT b.key, b.kind, s.id, s.value FROM band b JOIN sig s ON s.id = b.sig WHERE b.key IN ({marks})",
                chunk,
            )
            for key, kind, sig_id, value in rows:
                candidates.setdefault((key, kind), []).append(sig_id)
                values[sig_id] = value
        return candidates, values

    def _similar(self, sig: bytes, others: list[bytes]) -> bool:
        """Whether any of `others` agrees with `sig` on at least the threshold's share of hash functions."""
        matrix = np.frombuffer(b"".join(others), dtype="<u4").reshape(len(others), minhash.PERMUTATIONS)
        agree = np.count_nonzero(matrix == np.frombuffer(sig, dtype="<u4"), axis=1)
        return bool(np.any(agree / minhash.PERMUTATIONS >= self.threshold))

    def close(self) -> None:
        self._db.execute("COMMIT")
        self._db.close()
