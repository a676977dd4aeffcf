"""Peak memory per candidate: resettable where Linux allows, with the process's lifetime peak kept."""

from __future__ import annotations

import pytest

from ianvs_export.memory import lifetime_peak_mb, peak_rss_mb, reset_peak

MB = 1024 * 1024


def test_peak_is_per_candidate_and_the_lifetime_peak_survives_resets() -> None:
    if not reset_peak():
        pytest.skip("this kernel cannot reset the peak (/proc/self/clear_refs, Linux >= 4.0)")
    before = peak_rss_mb()
    block = bytearray(64 * MB)
    block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
    high = peak_rss_mb()
    assert high >= before + 60
    del block
    reset_peak()
    assert peak_rss_mb() < high - 50  # the next candidate does not inherit this one's peak
    assert lifetime_peak_mb() >= high - 1  # the kernel syncs its RSS counters lazily: sub-MB fuzz
