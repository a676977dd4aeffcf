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
    mixed = _mixed_windows(data)
    kept = mixed[(mixed & np.uint64(SAMPLE - 1)) == 0]
    return kept if kept.size else mixed.min(keepdims=True)


def _mixed_windows(data: bytes) -> np.ndarray:
    """The mixed hash of every 24-byte window of `data` (at least 24 bytes), window i covering [i, i + 24)."""
    h1 = np.frombuffer(data, dtype=np.uint8).astype(np.uint64)
    h2 = h1[:-1] * _POWERS[1] + h1[1:]
    h4 = h2[:-2] * _POWERS[2] + h2[2:]
    h8 = h4[:-4] * _POWERS[4] + h4[4:]
    h16 = h8[:-8] * _POWERS[8] + h8[8:]
    hashes = h16[: len(h16) - 8] * _POWERS[8] + h8[16:]  # 16 + 8 = 24 characters
    return hashes ^ (hashes >> np.uint64(29))


def signature(items: np.ndarray) -> Signature:
    """For each of 64 hash functions, the smallest value it gives over the shingles (all ones: no shingles)."""
    if items.size == 0:
        return np.full(PERMUTATIONS, 0xFFFFFFFF, dtype="<u4").tobytes()
    values = items[None, :] * _A[:, None]
    values += _B[:, None]
    return (values.min(axis=1) >> np.uint64(32)).astype("<u4").tobytes()  # the shift keeps the order: min first


BATCH_BYTES = 1 << 14  # text bytes hashed together by `signatures` (larger batches fall out of the CPU's caches)


def signatures(normalised: list[str]) -> list[Signature]:
    """`signature(window_hashes(text))` of each already normalised text, the same numbers computed for many texts
    at once: their bytes are hashed as one buffer (the windows spanning two texts are computed and left out) and
    the minima are taken per text with `minimum.reduceat`. A record's text is short, so a dozen numpy calls per
    text cost more in overhead than in arithmetic; a few calls per batch do not."""
    out: list[Signature] = [b""] * len(normalised)
    group: list[tuple[int, bytes]] = []
    size = 0
    for index, text in enumerate(normalised):
        data = text.encode()[:MAX_BYTES]
        if len(data) < SHINGLE:  # empty, or a single window hashed whole: as `window_hashes` does
            out[index] = signature(window_hashes(text))
            continue
        group.append((index, data))
        size += len(data)
        if size >= BATCH_BYTES:
            _sign(group, out)
            group, size = [], 0
    if group:
        _sign(group, out)
    return out


def _sign(group: list[tuple[int, bytes]], out: list[Signature]) -> None:
    """The signatures of texts of at least `SHINGLE` bytes, into `out` at their indexes."""
    count = len(group)
    windows = np.fromiter((len(data) - SHINGLE + 1 for _, data in group), dtype=np.int64, count=count)
    joined = _mixed_windows(b"".join(data for _, data in group))
    # each text owns its first n - 23 windows; the 23 after them span into the next text (none after the last)
    runs = np.empty(2 * count, dtype=np.int64)
    runs[0::2], runs[1::2] = windows, SHINGLE - 1
    mixed = joined[np.repeat(np.tile(np.array([True, False]), count), runs)[: len(joined)]]
    keep = (mixed & np.uint64(SAMPLE - 1)) == 0
    kept = np.bincount(np.repeat(np.arange(count), windows)[keep], minlength=count)
    items = mixed[keep]
    if not kept.all():  # a text none of whose windows is kept keeps its smallest one (as `window_hashes`)
        firsts = np.concatenate(([0], np.cumsum(windows)[:-1]))
        parts, at = [], 0
        for text, number in enumerate(kept.tolist()):
            if number:
                parts.append(items[at : at + number])
                at += number
            else:
                parts.append(mixed[firsts[text] : firsts[text] + windows[text]].min(keepdims=True))
        items, kept = np.concatenate(parts), np.maximum(kept, 1)
    values = items[None, :] * _A[:, None]
    values += _B[:, None]
    starts = np.concatenate(([0], np.cumsum(kept)[:-1]))
    minima = (np.minimum.reduceat(values, starts, axis=1) >> np.uint64(32)).astype("<u4").T.copy()
    for row, (index, _) in enumerate(group):
        out[index] = minima[row].tobytes()


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of two shingle sets: the share of hash functions on which they agree."""
    return float(np.count_nonzero(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4"))) / PERMUTATIONS


def band_keys(sig: Signature) -> list[int]:
    """One key per band of rows: texts that agree on every row of any band become candidates."""
    step = ROWS * 4
    return [zlib.crc32(sig[band * step : (band + 1) * step], band) for band in range(BANDS)]
