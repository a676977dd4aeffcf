"""Near-duplicate detection: MinHash signatures of token 5-grams (numpy, 64 permutations) and LSH banding."""

from __future__ import annotations

import re
import zlib

import numpy as np

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SHINGLE = 5
MAX_TOKENS = 4000
_TOKEN = re.compile(r"\w+|[^\w\s]")
_rng = np.random.default_rng(20240301)  # fixed: signatures must be the same in every run
_A = _rng.integers(1, 2**63, PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 2**63, PERMUTATIONS, dtype=np.uint64)
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD],
                dtype=np.uint64)  # fmt: skip
Signature = bytes  # PERMUTATIONS little-endian uint32 values


def normalise(text: str) -> str:
    """Text for hashing: case folded, whitespace collapsed (formatting changes do not make a new record)."""
    return " ".join(text.casefold().split())


_token_hashes: dict[str, int] = {}


def _token_hash(token: str) -> int:
    """crc32 of a token, remembered (code repeats its tokens); the memory is bounded, not the vocabulary."""
    value = _token_hashes.get(token)
    if value is None:
        if len(_token_hashes) >= 1 << 17:
            _token_hashes.clear()
        value = _token_hashes[token] = zlib.crc32(token.encode())
    return value


def shingles(text: str) -> np.ndarray:
    """64-bit hashes of the distinct overlapping token 5-grams of the normalised text."""
    tokens = _TOKEN.findall(normalise(text))[:MAX_TOKENS]
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    hashes = np.fromiter(map(_token_hash, tokens), dtype=np.uint64, count=len(tokens))
    if len(tokens) < SHINGLE:
        return np.unique(hashes * _MIX[0])
    width = len(tokens) - SHINGLE + 1
    combined = np.zeros(width, dtype=np.uint64)
    for offset in range(SHINGLE):  # uint64 arithmetic wraps around, which is what a hash wants
        combined += hashes[offset : offset + width] * _MIX[offset]
    return np.unique(combined)


def signature(items: np.ndarray) -> Signature:
    """For each of 64 hash functions, the smallest value it gives over the shingles (all ones: no shingles)."""
    if items.size == 0:
        return np.full(PERMUTATIONS, 0xFFFFFFFF, dtype="<u4").tobytes()
    values = (items[None, :] * _A[:, None] + _B[:, None]) >> np.uint64(32)
    return values.min(axis=1).astype("<u4").tobytes()


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of two shingle sets: the share of hash functions on which they agree."""
    return float(np.count_nonzero(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4"))) / PERMUTATIONS


def band_keys(sig: Signature) -> list[int]:
    """One key per band of rows: texts that agree on every row of any band become candidates."""
    step = ROWS * 4
    return [zlib.crc32(sig[band * step : (band + 1) * step], band) for band in range(BANDS)]
