"""Near-duplicate detection: MinHash signatures of character windows (numpy, 64 permutations) and LSH banding."""

from __future__ import annotations

import zlib

import numpy as np

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SHINGLE = 24  # characters: about five tokens of code
SAMPLE = 4  # one window in four is kept
MAX_BYTES = 64_000
_rng = np.random.default_rng(20240301)  # fixed: signatures must be the same in every run
_A = _rng.integers(1, 2**63, PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 2**63, PERMUTATIONS, dtype=np.uint64)
_MULTIPLIER = np.uint64(0x100000001B3)
_POWERS = {n: np.uint64(pow(0x100000001B3, n, 2**64)) for n in (1, 2, 4, 8)}
Signature = bytes  # PERMUTATIONS little-endian uint32 values


def normalise(text: str) -> str:
    """Text for hashing: case folded, whitespace collapsed (formatting changes do not make a new record)."""
    return " ".join(text.casefold().split())


def shingles(text: str) -> np.ndarray:
    """Hashes of the overlapping 24-character windows of the normalised text, one in four kept, each once.

    Which windows are kept depends on their hash only, so two texts keep the same ones where they agree and
    Jaccard similarity is estimated without bias.
    """
    kept = window_hashes(normalise(text))
    return np.unique(kept) if kept.size > 1 else kept


def window_hashes(normalised: str) -> np.ndarray:
    """The kept window hashes of an already normalised text, repeats included (a signature takes minima, which
    repeats do not change). Each window's hash is the polynomial sum of its bytes times powers of `_MULTIPLIER`
    (uint64, wrapping), built by doubling the window width instead of 24 passes over the text.
    """
    data = normalised.encode()[:MAX_BYTES]
    if not data:
        return np.zeros(0, dtype=np.uint64)
    if len(data) < SHINGLE:
        return np.array([zlib.crc32(data)], dtype=np.uint64)
    h1 = np.frombuffer(data, dtype=np.uint8).astype(np.uint64)
    h2 = h1[:-1] * _POWERS[1] + h1[1:]
    h4 = h2[:-2] * _POWERS[2] + h2[2:]
    h8 = h4[:-4] * _POWERS[4] + h4[4:]
    h16 = h8[:-8] * _POWERS[8] + h8[8:]
    hashes = h16[: len(h16) - 8] * _POWERS[8] + h8[16:]  # 16 + 8 = 24 characters
    mixed = hashes ^ (hashes >> np.uint64(29))
    kept = mixed[(mixed & np.uint64(SAMPLE - 1)) == 0]
    return kept if kept.size else mixed.min(keepdims=True)


def signature(items: np.ndarray) -> Signature:
    """For each of 64 hash functions, the smallest value it gives over the shingles (all ones: no shingles)."""
    if items.size == 0:
        return np.full(PERMUTATIONS, 0xFFFFFFFF, dtype="<u4").tobytes()
    values = items[None, :] * _A[:, None]
    values += _B[:, None]
    return (values.min(axis=1) >> np.uint64(32)).astype("<u4").tobytes()  # the shift keeps the order: min first


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of two shingle sets: the share of hash functions on which they agree."""
    return float(np.count_nonzero(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4"))) / PERMUTATIONS


def band_keys(sig: Signature) -> list[int]:
    """One key per band of rows: texts that agree on every row of any band become candidates."""
    step = ROWS * 4
    return [zlib.crc32(sig[band * step : (band + 1) * step], band) for band in range(BANDS)]
