"""The two ways a batch becomes rows: the strict reader's hot path and the models' path agree on every column."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from collector_api.loadgen import synthetic_event
from collector_api.store import _sqlite_stamp, prepare_batch, prepare_read
from trajectory.events import parse_event
from trajectory.wire import KIND, read_batch


@pytest.mark.parametrize("sqlite", [True, False])
def test_hot_path_rows_match_the_models_rows(sqlite: bool) -> None:
    events = [synthetic_event(i) for i in range(300)]
    events.append(events[7])  # a repeat inside the batch
    read = read_batch(orjson.dumps({"events": events}))
    assert read is not None
    fast = prepare_read(1, read, KIND, sqlite)
    slow = prepare_batch(1, events, sqlite)
    assert fast.rows.keys == slow.rows.keys and fast.ids == slow.ids and fast.first_index == slow.first_index
    assert fast.outcomes == slow.outcomes and fast.outcomes[-1] == {"id": events[7]["id"], "status": "duplicate"}
    assert fast.rows.summaries == slow.rows.summaries
    # every column but the time of receipt and the body's spelling (as sent vs canonical) is the same
    assert [row[:10] for row in fast.rows.values] == [row[:10] for row in slow.rows.values]
    for fast_row, slow_row in zip(fast.rows.values, slow.rows.values, strict=True):
        assert parse_event(fast_row[11]) == parse_event(slow_row[11])
    everything = set(fast.rows.keys)
    assert fast.result(everything).as_json() == slow.result(everything).as_json()


@pytest.mark.parametrize("microsecond", [0, 1, 123456, 999999])
def test_sqlite_stamps_are_sqlalchemys_format(microsecond: int) -> None:
    value = datetime(2026, 6, 1, 9, 5, 7, microsecond, tzinfo=UTC)
    bind = sa.DateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())
    assert bind is not None and _sqlite_stamp(value) == bind(value.replace(tzinfo=None))
