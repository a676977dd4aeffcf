"""The spill: events the strict reader takes are stored as the models would store them; the rest go to the models."""

from __future__ import annotations

from pathlib import Path

import orjson
from align.stream import scenario
from pydantic import ValidationError

from trajectory.align.spill import HISTORY_KINDS, Spill, _history_key
from trajectory.events import event_to_dict, parse_event
from trajectory.wire import read_event


def _lines() -> list[bytes]:
    """A scenario's events as sent, and variants the strict reader leaves to the models (a time with an offset, a
    number as text, an unknown field) or that nobody accepts."""
    lines = [orjson.dumps(event_to_dict(event)) for event in scenario().events]
    variants: list[bytes] = []
    for number, line in enumerate(lines[:40]):
        data = orjson.loads(line)
        data["id"] = "ffff" + data["id"][4:]  # a distinct event, not a repeat
        if number % 4 == 0:
            data["ts"] = data["ts"].replace("Z", "+02:00").replace("+00:00", "+02:00")
        elif number % 4 == 1:
            data["seq"] = str(data["seq"])
        elif number % 4 == 2:
            data["surprise"] = True
        else:
            data["kind"] = "no.such.kind"
        variants.append(orjson.dumps(data))
    return lines + variants


def _expected(lines: list[bytes]) -> list[tuple[object, ...]]:
    """The rows the models make of the lines: the first copy of each valid, aligned event."""
    rows = []
    seen: set[str] = set()
    for line in lines:
        try:
            event = parse_event(line)
        except ValidationError:
            continue
        if str(event.id) in seen:
            continue
        seen.add(str(event.id))
        topic = HISTORY_KINDS.get(event.kind)
        if topic is None and event.source != "sidecar":
            continue
        key = _history_key(event) if topic is not None else None
        rows.append((str(event.id), event.repo, event.session_id, event.seq, topic, key, event.ts.isoformat(),
                     int(event.source == "sidecar"), line))  # fmt: skip
    return rows


def _valid(line: bytes) -> bool:
    try:
        parse_event(line)
    except ValidationError:
        return False
    return True


def test_the_strict_reader_stores_what_the_models_store(tmp_path: Path) -> None:
    lines = _lines()
    spill = Spill(tmp_path)
    for line in lines:
        spill.add(line)
    spill.finish()
    rows = spill._db.execute("SELECT * FROM event ORDER BY rowid").fetchall()
    spill.close()
    assert rows == _expected(lines)
    assert spill.dropped["invalid_event"] == sum(1 for line in lines if not _valid(line)) > 0
    assert sum(read_event(line) is not None for line in lines) == len(scenario().events)  # the fast path ran
