"""The wire schema: every kind round-trips through JSON, bad events are refused, the JSON Schema is current."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel, ValidationError

from trajectory import events, payloads
from trajectory.events import EVENT_CLASSES, event_to_dict, make_event, parse_event
from trajectory.ids import uuid7, uuid7_time_ms
from trajectory.schema_doc import render

ROOT = Path(__file__).resolve().parents[1]


def _envelope(**extra: object) -> dict[str, object]:
    return {"session_id": "s1", "seq": 3, "actor": "a1", "repo": "github.com/o/r", "source": "sidecar", **extra}


def test_every_design_kind_has_a_model() -> None:
    design_kinds = {
        "session.started",
        "session.ended",
        "document.opened",
        "document.changed",
        "document.saved",
        "document.closed",
        "git.commit",
        "git.checkout",
        "git.merge",
        "git.rebase",
        "suggestion.shown",
        "suggestion.accepted",
        "suggestion.rejected",
        "suggestion.survival",
        "refactor.detected",
        "test.run",
        "review.comment",
        "review.submitted",
        "pr.opened",
        "pr.merged",
        "pr.closed",
        "issue.opened",
        "issue.comment",
        "feedback.note",
    }
    assert design_kinds <= set(EVENT_CLASSES)


def _strategy(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of one field's type, honouring the constraints our schema uses (pattern, lengths, bounds)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        base, meta = args[0], args[1:]
        pattern = next((m.pattern for m in _metadata(meta) if getattr(m, "pattern", None)), None)
        if pattern:
            return st.from_regex(pattern, fullmatch=True)
        low = next((m.ge for m in _metadata(meta) if getattr(m, "ge", None) is not None), None)
        high = next((m.le for m in _metadata(meta) if getattr(m, "le", None) is not None), None)
        if base is int:
            return st.integers(min_value=low, max_value=high)
        if base is float:
            return st.floats(min_value=low, max_value=high, allow_nan=False)
        return _strategy(base)
    if origin in (Union, UnionType):
        return st.one_of(*[_strategy(a) for a in args])
    if origin is Literal:
        return st.sampled_from(args)
    if origin is list:
        return st.lists(_strategy(args[0]), max_size=3)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        fields = {name: _strategy(f.rebuild_annotation()) for name, f in annotation.model_fields.items()}
        return st.fixed_dictionaries(fields)
    simple = {
        str: st.text(max_size=40),
        int: st.integers(),
        bool: st.booleans(),
        type(None): st.none(),
        float: st.floats(allow_nan=False, allow_infinity=False),
        UUID: st.uuids(),
        AwareDatetime: _AWARE,
        datetime: _AWARE,
    }
    return simple[annotation]


_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))])
_AWARE = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 12, 30), timezones=_ZONES)


def _metadata(meta: tuple[Any, ...]) -> list[Any]:
    flat: list[Any] = []
    for item in meta:
        flat.extend(getattr(item, "metadata", [item]))
    return flat


@pytest.mark.parametrize("kind", sorted(EVENT_CLASSES))
def test_every_kind_round_trips_through_json(kind: str) -> None:
    """Generated events of every kind are accepted and survive a JSON round trip unchanged."""
    cls = EVENT_CLASSES[kind]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(instance=_strategy(cls))
    def round_trip(instance: dict[str, Any]) -> None:
        instance = {**instance, "kind": kind}
        event = parse_event(instance)
        wire = json.dumps(event_to_dict(event))
        assert parse_event(wire) == event
        assert parse_event(wire.encode()) == event

    round_trip()


def test_timestamps_are_normalised_to_utc_and_naive_ones_refused() -> None:
    plus2 = timezone(timedelta(hours=2))
    event = make_event(
        "feedback.note", {"target": "edit", "note": "x"}, ts=datetime(2026, 1, 1, 12, tzinfo=plus2), **_envelope()
    )
    assert event.ts == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert event.ts.tzinfo == UTC
    with pytest.raises(ValidationError):
        make_event("feedback.note", {"target": "edit", "note": "x"}, ts=datetime(2026, 1, 1), **_envelope())


def test_unknown_kind_extra_fields_and_wrong_types_are_refused() -> None:
    good = event_to_dict(make_event("feedback.note", {"target": "edit", "note": "x"}, **_envelope()))
    for broken in (
        {**good, "kind": "document.teleported"},
        {**good, "surprise": 1},
        {**good, "payload": {**good["payload"], "surprise": 1}},  # type: ignore[dict-item]
        {**good, "seq": "three"},
        {**good, "seq": -1},
        {**good, "payload": {"target": "nowhere", "note": "x"}},
    ):
        with pytest.raises(ValidationError):
            parse_event(broken)


def test_field_size_caps() -> None:
    with pytest.raises(ValidationError):
        make_event("feedback.note", {"target": "edit", "note": "x" * (payloads.MAX_BODY + 1)}, **_envelope())


def test_ids_are_time_ordered_uuid7() -> None:
    ids = [uuid7() for _ in range(2000)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids), "ids made in one process sort in creation order"
    assert len(set(ids)) == len(ids)
    assert uuid7_time_ms(uuid7(now_ms=1_700_000_000_000)) == 1_700_000_000_000


def test_json_schema_file_is_current() -> None:
    on_disk = (ROOT / "docs" / "event-schema.json").read_text()
    assert on_disk == render(), "docs/event-schema.json drifted from the models: run `make schema`"


def test_events_module_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, trajectory.events, trajectory.records;"
        "print([m for m in ('fastapi', 'sqlalchemy', 'pygls') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert events.SCHEMA_VERSION == 1
