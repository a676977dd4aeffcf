"""Peak resident memory of this process, reset per candidate where Linux allows it (/proc/self/clear_refs)."""

from __future__ import annotations

import logging
import re
import resource
from pathlib import Path

logger = logging.getLogger(__name__)

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_HWM = re.compile(rb"^VmHWM:\s+(\d+)\s+kB", re.MULTILINE)
_before_resets = [0.0]  # the largest peak cleared by reset_peak, so the lifetime peak survives the resets


def reset_peak() -> bool:
    """Start a new peak (Linux >= 4.0: writing 5 to clear_refs resets VmHWM); False when unsupported.

    Test cases run one after another in one Ianvs process: without a reset, every candidate would report the
    largest peak of any candidate before it.
    """
    current = peak_rss_mb()
    try:
        _CLEAR_REFS.write_bytes(b"5")
    except OSError:
        return False
    _before_resets[0] = max(_before_resets[0], current)
    return True


def peak_rss_mb() -> float:
    """The peak resident set size since the last reset (or since the start), in MB."""
    try:
        found = _HWM.search(_STATUS.read_bytes())
    except OSError:
        found = None
    if found is not None:
        return int(found.group(1)) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports kB; the whole lifetime


def lifetime_peak_mb() -> float:
    """The peak resident set size of the whole process so far, resets included, in MB."""
    return max(_before_resets[0], peak_rss_mb())
