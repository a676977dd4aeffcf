"""Near-duplicate detection in pure Python: one-permutation MinHash signatures and LSH banding."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable

BINS = 64
BANDS = 16
ROWS = BINS // BANDS
SHINGLE = 5
MAX_TOKENS = 4000
_EMPTY = -1
_TOKEN = re.compile(r"\w+|[^\w\s]")


def normalise(text: str) -> str:
    """Text for hashing: case folded, whitespace collapsed (formatting changes do not make a new record)."""
    return " ".join(text.casefold().split())


def shingles(text: str) -> set[int]:
    """32-bit hashes of the overlapping token 5-grams of the normalised text."""
    tokens = _TOKEN.findall(normalise(text))[:MAX_TOKENS]
    if len(tokens) < SHINGLE:
        return {zlib.crc32(" ".join(tokens).encode())} if tokens else set()
    return {zlib.crc32(" ".join(tokens[i : i + SHINGLE]).encode()) for i in range(len(tokens) - SHINGLE + 1)}


def signature(items: Iterable[int]) -> tuple[int, ...]:
    """One-permutation MinHash: each hash falls in a bin by its low bits; a bin keeps its smallest value.

    One hash per shingle instead of one per shingle and permutation keeps this fast in pure Python, and the
    estimate of Jaccard similarity stays unbiased over the bins both texts fill.
    """
    bins = [_EMPTY] * BINS
    for value in items:
        mixed = (value * 0x9E3779B1) & 0xFFFFFFFF
        slot, rank = mixed % BINS, mixed // BINS
        if bins[slot] == _EMPTY or rank < bins[slot]:
            bins[slot] = rank
    return tuple(bins)


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    filled = [(x, y) for x, y in zip(a, b, strict=True) if x != _EMPTY or y != _EMPTY]
    if not filled:
        return 1.0
    return sum(1 for x, y in filled if x == y) / len(filled)


def band_keys(sig: tuple[int, ...]) -> list[int]:
    """One key per band: texts that agree on every row of any band become candidates."""
    return [zlib.crc32(repr((band, sig[band * ROWS : (band + 1) * ROWS])).encode()) for band in range(BANDS)]
