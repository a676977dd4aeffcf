"""Duplicate detection: the vectorised window hashes equal the plain definition, and deciding records in batches
gives the decisions of deciding them one by one."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trajectory.align import dedup, minhash
from trajectory.align.dedup import DuplicateIndex

MASK = 2**64 - 1


def _plain_windows(text: str) -> list[int]:
    """The definition: each 24-byte window's polynomial hash (mod 2**64), mixed, one in four kept."""
    data = minhash.normalise(text).encode()[: minhash.MAX_BYTES]
    if not data:
        return []
    if len(data) < minhash.SHINGLE:
        return [zlib.crc32(data)]
    mixed = []
    for start in range(len(data) - minhash.SHINGLE + 1):
        value = 0
        for byte in data[start : start + minhash.SHINGLE]:
            value = (value * 0x100000001B3 + byte) & MASK
        mixed.append(value ^ (value >> 29))
    kept = sorted({value for value in mixed if value % minhash.SAMPLE == 0})
    return kept or [min(mixed)]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab cd\n\t(){}=éΣ你"), max_size=300))
def test_window_hashes_follow_the_definition(text: str) -> None:
    assert minhash.shingles(text).tolist() == _plain_windows(text)
    windows = minhash.window_hashes(minhash.normalise(text))
    assert minhash.signature(windows) == minhash.signature(minhash.shingles(text))  # repeats change no minimum


_window_text = st.text(alphabet=st.sampled_from("ab cd\n(){}=é你"), max_size=80).map(
    lambda text: text * 3 if len(text) > 40 else text
)  # empty, shorter than a window, a few windows (often none kept), and longer


@settings(max_examples=200, deadline=None)
@given(st.lists(_window_text, max_size=12), st.sampled_from([64, 1 << 14]))
def test_signatures_of_many_texts_are_each_texts_signature(texts: list[str], batch_bytes: int) -> None:
    """Hashing many texts as one buffer leaves out the windows that span two of them and takes each text's
    minima apart: the signatures are those of the texts one by one, whatever the batch size."""
    normalised = [minhash.normalise(text) for text in texts]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(minhash, "BATCH_BYTES", batch_bytes)
        batched = minhash.signatures(normalised)
    assert batched == [minhash.signature(minhash.window_hashes(text)) for text in normalised]


def _texts(count: int, seed: int) -> list[tuple[str, str]]:
    """Records' texts with exact repeats (up to case and spacing), near repeats and unrelated ones."""
    rng = random.Random(seed)
    words = ["parse", "value", "cache", "index", "token", "retry", "buffer", "window", "batch", "limit"]
    base = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 80))) for _ in range(count // 4 + 1)]
    out: list[tuple[str, str]] = []
    for _ in range(count):
        text = rng.choice(base)
        roll = rng.random()
        if roll < 0.2:
            text = "  " + text.upper()
        elif roll < 0.5:
            cut = rng.randrange(len(text))
            text = text[:cut] + rng.choice(words) + text[cut:]
        elif roll < 0.7:
            text = " ".join(rng.choice(words) for _ in range(rng.randint(3, 80)))
        out.append((rng.choice(["comment", "completion"]), text))
    return out


def test_batches_decide_as_one_by_one(tmp_path: Path) -> None:
    items = _texts(600, seed=3)
    (tmp_path / "single").mkdir()
    (tmp_path / "batch").mkdir()
    single = DuplicateIndex(tmp_path / "single", 0.85)
    one_by_one = [single.check([item])[0] for item in items]
    batched = DuplicateIndex(tmp_path / "batch", 0.85)
    sizes = [1, 7, 64, 200, 328]
    decided: list[str | None] = []
    for size in sizes:
        decided += batched.check(items[len(decided) : len(decided) + size])
    assert decided == one_by_one
    assert {"exact_duplicate", "near_duplicate", None} <= set(decided)
    single.close()
    batched.close()


@pytest.mark.parametrize("bucket", [dedup.BUCKET, 2])
def test_near_duplicates_follow_the_estimated_similarity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         bucket: int) -> None:  # fmt: skip
    """A record is a near duplicate exactly when a kept record of its kind that was stored in one of its band
    buckets (the first `BUCKET` kept records of each) agrees on enough hash functions."""
    monkeypatch.setattr(dedup, "BUCKET", bucket)
    items = _texts(300, seed=5)
    index = DuplicateIndex(tmp_path, 0.85)
    decisions = index.check(items)
    buckets: dict[tuple[str, int], list[bytes]] = {}
    seen: set[tuple[str, str]] = set()
    kept = 0
    for (kind, text), decision in zip(items, decisions, strict=True):
        key = (kind, minhash.normalise(text))
        if key in seen:
            assert decision == "exact_duplicate"
            continue
        seen.add(key)
        sig = minhash.signature(minhash.shingles(text))
        bands = set(minhash.band_keys(sig))
        candidates = [other for band in bands for other in buckets.get((kind, band), [])]
        assert (decision == "near_duplicate") == any(minhash.similarity(sig, other) >= 0.85 for other in candidates)
        if decision is None:
            kept += 1
            for band in bands:
                if len(buckets.setdefault((kind, band), [])) < bucket:
                    buckets[(kind, band)].append(sig)
    fullest = index._db.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM band GROUP BY key)").fetchone()[0]
    index.close()
    assert np.count_nonzero([d is None for d in decisions]) == kept
    assert fullest <= bucket
    if bucket == 2:
        assert any(len(members) == bucket for members in buckets.values())  # the cap was reached
