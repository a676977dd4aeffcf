"""The fast batch reader never accepts what the event models refuse, and takes every valid UTC batch."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.test_events import _strategy
from trajectory.events import EVENT_CLASSES, event_to_dict, parse_event
from trajectory.wire import read_batch

# Values that pydantic's lax mode, Python's regular expressions or RFC 3339 parsers treat differently.
TRICKY: list[Any] = [
    "5", 5.0, 5.5, -1, 0, True, False, None, "", "x" * 600, "abcd", "abcd\n", "ABCD", "0123abcd",
    "2026-06-01T09:00:00Z", "2026-06-01T09:00:00+00:00", "2026-06-01T09:00:00+02:00", "2026-06-01t09:00:00z",
    "2026-06-01T09:00:00.123456789Z", "2026-06-01 09:00:00Z", "2026-06-01T09:00:00", "2026-06-01",
    "1970-01-01T00:00:00-00:01", "9999-12-31T23:59:59-01:00", 1767225600, "1767225600",
    "0190a5b6-6c1f-7d6e-8f00-0123456789ab", "0190A5B6-6C1F-7D6E-8F00-0123456789AB", "0190a5b66c1f7d6e8f000123456789ab",
    "{0190a5b6-6c1f-7d6e-8f00-0123456789ab}", "urn:uuid:0190a5b6-6c1f-7d6e-8f00-0123456789ab",
    "\ud800", "caf\u00e9", [], ["abcd"], [1, 2], {}, {"line": 1, "character": 2}, 2**70, -(2**70), 1e308,
    "sidecar", "git", "SIDECAR", 1.0, 0.5, 2, -2, 3,
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutated(event: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    copy = json.loads(json.dumps(event))
    path = rng.choice(_paths(copy))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    roll = rng.random()
    if roll < 0.1 and isinstance(parent, dict):
        del parent[path[-1]]
    elif roll < 0.2 and isinstance(parent, dict):
        parent["unexpected_" + str(rng.randrange(9))] = rng.choice(TRICKY)
    else:
        parent[path[-1]] = rng.choice(TRICKY)
    return copy


def _models_accept(item: dict[str, Any]) -> bool:
    try:
        parse_event(json.dumps(item))
    except (ValidationError, ValueError):
        return False
    return True


@pytest.mark.parametrize("kind", sorted(EVENT_CLASSES))
def test_valid_utc_batches_take_the_fast_path_and_read_like_the_models(kind: str) -> None:
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(instance=_strategy(EVENT_CLASSES[kind]), seed=st.integers(0, 2**32))
    def check(instance: dict[str, Any], seed: int) -> None:
        event = parse_event({**instance, "kind": kind})
        canonical = event_to_dict(event)  # UTC times, as every smartco client sends them
        try:
            body = json.dumps({"events": [canonical, canonical]}, allow_nan=False).encode()
        except ValueError:
            assume(False)  # an infinite float has no JSON form: no client can send it
        read = read_batch(body)
        assert read is not None and len(read) == 2
        assert parse_event(read[0][1]) == event  # the JSON kept for the body is the event itself
        assert str(read[0][0].id) == str(event.id) and read[0][0].ts == event.ts
        rng = random.Random(seed)
        for _ in range(40):
            item = _mutated(canonical, rng)
            if read_batch(json.dumps([item]).encode()) is not None:
                assert _models_accept(item), f"fast path took what the models refuse: {item}"

    check()


def test_what_the_fast_path_leaves_to_the_models() -> None:
    base = event_to_dict(parse_event({
        "kind": "git.checkout", "session_id": "s", "seq": 1, "actor": "a", "repo": "r", "source": "git",
        "id": "0190a5b6-6c1f-7d6e-8f00-0123456789ab", "ts": "2026-06-01T09:00:00Z",
        "payload": {"to_ref": "main", "to_sha": "abcd"},
    }))  # fmt: skip
    assert read_batch(json.dumps([base]).encode()) is not None
    cases = {
        "a time with another offset (the models convert it)": {**base, "ts": "2026-06-01T11:00:00+02:00"},
        "a sha with a newline after it": {**base, "payload": {"to_ref": "main", "to_sha": "abcd\n"}},
        "a number in a string": {**base, "seq": "1"},
        "an unknown field": {**base, "extra": 1},
        "an unknown kind": {**base, "kind": "git.teleport"},
    }
    for why, item in cases.items():
        assert read_batch(json.dumps([item]).encode()) is None, why
    assert read_batch(b"not json") is None and read_batch(b'{"events": 3}') is None
