"""Exact and near-duplicate decisions for batches of records, against every record kept before (temporary SQLite).

Decisions are those of checking the records one by one in order: a batch is looked up in a few statements, and
its records are then decided in order against what the database returned plus the batch's own earlier records.
The index stays on disk, so memory grows with a batch, not with the dataset.

A band bucket holds its first `BUCKET` kept records only. Short, formulaic records (a one-line suggestion and
the line written instead) share bands by the hundred without being near duplicates of each other; comparing
every new record with every one of them made the checks grow with the square of the dataset. A record that is a
near duplicate agrees on most hash functions, so it shares several bands with its earlier twin and is still
found through any bucket that is not full, and a full bucket already holds that many similar records to compare
with.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import numpy as np

from trajectory.align import minhash

_SCHEMA = """
PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384;
CREATE TABLE seen (hash BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE band (key INTEGER, sig INTEGER, PRIMARY KEY (key, sig)) WITHOUT ROWID;
CREATE TABLE sig (id INTEGER PRIMARY KEY, value BLOB);
"""
_CHUNK = 900  # values per IN (...) list, well below SQLite's limit on bound parameters
_KIND_BITS = 8  # a stored band key is the signature's band key and its kind's number in the low bits
BUCKET = 64  # kept records a band bucket holds (later ones are stored in the buckets that still have room)


@dataclass(frozen=True)
class Fingerprint:
    """What the duplicate checks need of a record: its kind, the digest of its normalised text, its MinHash
    signature and band keys (taken wherever the record was made; deciding needs the index)."""

    kind: str
    digest: bytes
    sig: bytes
    keys: tuple[int, ...]


def fingerprint(kind: str, text: str) -> Fingerprint:
    return fingerprints([(kind, text)])[0]


def fingerprints(items: Sequence[tuple[str, str]]) -> list[Fingerprint]:
    """The fingerprints of (kind, text) pairs; their signatures are computed together (`minhash.signatures`)."""
    normalised = [minhash.normalise(text) for _, text in items]
    out: list[Fingerprint] = []
    for (kind, _), norm, sig in zip(items, normalised, minhash.signatures(normalised), strict=True):
        digest = hashlib.blake2b(f"{kind}\0{norm}".encode(), digest_size=16).digest()
        out.append(Fingerprint(kind, digest, sig, tuple(minhash.band_keys(sig))))
    return out


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
        self._kinds: dict[str, int] = {}  # record kind -> its number in this index

    def _stored_keys(self, mark: Fingerprint) -> list[int]:
        """The record's band keys as the index stores them: each with its kind's number in the low bits."""
        code = self._kinds.setdefault(mark.kind, len(self._kinds))
        if code >= 1 << _KIND_BITS:
            raise ValueError(f"more than {1 << _KIND_BITS} record kinds")
        return [key << _KIND_BITS | code for key in mark.keys]

    def check(self, items: Sequence[tuple[str, str]]) -> list[str | None]:
        """For each (kind, text) in order: "exact_duplicate", "near_duplicate" or None (kept, and remembered)."""
        return self.decide(fingerprints(items))

    def decide(self, marks: Sequence[Fingerprint]) -> list[str | None]:
        """`check` of records whose fingerprints are already taken (in worker processes, say)."""
        reasons: list[str | None] = [None] * len(marks)
        known = self._known([mark.digest for mark in marks])
        fresh: list[bytes] = []
        for index, mark in enumerate(marks):
            if mark.digest in known:
                reasons[index] = "exact_duplicate"
            else:
                known.add(mark.digest)
                fresh.append(mark.digest)
        self._db.executemany("INSERT INTO seen VALUES (?)", [(digest,) for digest in sorted(fresh)])
        todo = [index for index, reason in enumerate(reasons) if reason is None]
        for index, reason in zip(todo, self._near([marks[i] for i in todo]), strict=True):
            reasons[index] = reason
        return reasons

    def _known(self, digests: list[bytes]) -> set[bytes]:
        known: set[bytes] = set()
        for chunk in _chunks(sorted(set(digests))):
            marks = ",".join("?" * len(chunk))
            known.update(row[0] for row in self._db.execute(f"SELECT hash FROM seen WHERE hash IN ({marks})", chunk))
        return known

    def _near(self, marks: list[Fingerprint]) -> list[str | None]:
        """Near-duplicate decisions for records that are not exact duplicates; kept ones are stored.

        A band key is stored with its kind in its low bits (one integer to look up, not a pair), and the rows
        are inserted in key order (neighbouring rows of the index's B-tree, not one page per row)."""
        keyed = [self._stored_keys(mark) for mark in marks]
        candidates, values = self._candidates({key for keys in keyed for key in keys})
        lookup = candidates.get
        reasons: list[str | None] = []
        stored: list[tuple[int, int]] = []
        kept: list[tuple[int, bytes]] = []
        for mark, keys in zip(marks, keyed, strict=True):
            hits = [hit for hit in map(lookup, keys) if hit]
            if hits and self._similar(mark.sig, [values[sig_id] for sig_id in set().union(*hits)]):
                reasons.append("near_duplicate")
                continue
            reasons.append(None)
            sig_id = self._next_sig
            self._next_sig += 1
            values[sig_id] = mark.sig
            for key in keys:
                bucket = candidates.get(key)
                if bucket is None:
                    candidates[key] = [sig_id]
                elif len(bucket) < BUCKET and bucket[-1] != sig_id:  # a key twice in one signature: once
                    bucket.append(sig_id)
                else:
                    continue
                stored.append((key, sig_id))
            kept.append((sig_id, mark.sig))
        self._db.executemany("INSERT INTO sig VALUES (?, ?)", kept)
        stored.sort(key=itemgetter(0))  # stable: a key's signatures stay in the order they were kept
        self._db.executemany("INSERT INTO band VALUES (?, ?)", stored)
        return reasons

    def _candidates(self, keys: set[int]) -> tuple[dict[int, list[int]], dict[int, bytes]]:
        """The stored signatures sharing a band key (of the same kind): key -> signature ids, and id -> signature."""
        candidates: dict[int, list[int]] = {}
        values: dict[int, bytes] = {}
        for chunk in _chunks(sorted(keys)):
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT b.key, b.sig, s.value FROM band b JOIN sig s ON s.id = b.sig WHERE b.key IN ({marks})", chunk
            )
            for key, sig_id, value in rows:
                hit = candidates.get(key)
                if hit is None:
                    candidates[key] = [sig_id]
                else:
                    hit.append(sig_id)
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
