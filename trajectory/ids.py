"""Time-ordered identifiers (UUIDv7, RFC 9562) for events, so that database indexes grow at their right edge."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def _next_tick() -> tuple[int, int]:
    """(milliseconds, counter), strictly increasing within this process even if the clock steps back."""
    global _last_ms, _counter
    with _lock:
        ms = int(time.time() * 1000)
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:
                ms += 1
                _counter = 0
        else:
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
        _last_ms = ms
        return ms, _counter


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    """A UUIDv7: 48-bit Unix milliseconds, a 12-bit counter (monotonic within one ms), then 62 random bits."""
    if now_ms is None:
        ms, counter = _next_tick()
    else:
        ms, counter = now_ms, int.from_bytes(os.urandom(2), "big") & 0xFFF
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand
    return uuid.UUID(int=value)


def new_event_id() -> str:
    """A fresh event id in canonical string form."""
    return str(uuid7())


def uuid7_time_ms(value: uuid.UUID | str) -> int:
    """The Unix milliseconds embedded in a UUIDv7."""
    return uuid.UUID(str(value)).int >> 80
