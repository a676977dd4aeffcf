"""POST /v1/events on SQLite and PostgreSQL: idempotent, partial batches, limits, clear 4xx answers."""

from __future__ import annotations

import gzip
import json

import orjson

from tests.collector.conftest import Api, note_events
from trajectory.payloads import MAX_BODY


def _stored(api: Api) -> int:
    stats = api.get("/v1/stats").json()
    return int(stats["events"])


def test_same_batch_twice_stores_every_event_once(api: Api) -> None:
    batch = note_events(50)
    first = api.post(batch).json()
    second = api.post(batch).json()
    assert (first["accepted"], first["duplicate"]) == (50, 0)
    assert (second["accepted"], second["duplicate"]) == (0, 50)
    assert [r["id"] for r in second["results"]] == [e["id"] for e in batch]
    assert _stored(api) == 50


def test_batch_with_some_ids_stored_reports_each_event_and_counts_sessions_once(api: Api) -> None:
    # The fast insert path assumes every id is new; a batch mixing stored and new ids takes the careful one.
    events = note_events(40)
    api.post(events[:10] + events[30:])
    answer = api.post(events).json()
    statuses = [r["status"] for r in answer["results"]]
    assert statuses == ["duplicate"] * 10 + ["accepted"] * 20 + ["duplicate"] * 10
    assert (answer["accepted"], answer["duplicate"]) == (20, 20)
    assert _stored(api) == 40
    sessions = api.get("/v1/sessions").json()["sessions"]
    assert sum(s["event_count"] for s in sessions) == 40


def test_duplicates_inside_one_batch_count_once(api: Api) -> None:
    batch = note_events(3)
    answer = api.post([*batch, batch[0]]).json()
    assert [r["status"] for r in answer["results"]] == ["accepted", "accepted", "accepted", "duplicate"]
    assert _stored(api) == 3


def test_partly_invalid_batch_stores_the_valid_events(api: Api) -> None:
    good = note_events(3)
    wrong_type = {**good[0], "id": "0190aaaa-0000-7000-8000-000000000001", "seq": "three"}
    unknown_kind = {**good[0], "id": "0190aaaa-0000-7000-8000-000000000002", "kind": "document.teleported"}
    answer = api.post([good[0], wrong_type, good[1], unknown_kind, good[2]])
    assert answer.status_code == 200
    body = answer.json()
    assert [r["status"] for r in body["results"]] == ["accepted", "rejected", "accepted", "rejected", "accepted"]
    assert "seq" in body["results"][1]["reason"]
    assert "kind" in body["results"][3]["reason"] or "tag" in body["results"][3]["reason"]
    assert _stored(api) == 3


def test_batch_of_only_invalid_events_is_422_with_reasons(api: Api) -> None:
    event = note_events(1)[0]
    answer = api.post([{**event, "kind": "nope"}, {**event, "ts": "yesterday"}])
    assert answer.status_code == 422
    body = answer.json()
    assert body["rejected"] == 2 and "rejected" in body["error"]
    assert all(r["reason"] for r in body["results"])


def test_malformed_bodies_get_4xx_with_a_message(api: Api) -> None:
    cases = [
        (b"{not json", 400, "not valid JSON"),
        (b'{"events": 5}', 422, "events"),
        (b'"a string"', 422, "events"),
        (gzip.compress(b"[]")[:-4], 400, "gzip"),
    ]
    for body, status, words in cases:
        headers = {**api.headers(), "Content-Type": "application/json"}
        if body.startswith(b"\x1f\x8b"):
            headers["Content-Encoding"] = "gzip"
        answer = api.client.post("/v1/events", content=body, headers=headers)
        assert answer.status_code == status, (body, answer.text)
        assert words in answer.json()["error"]


def test_limits_answer_413_never_500(api: Api) -> None:
    too_long = api.post(note_events(501))  # the fixture's max_batch is 500
    assert too_long.status_code == 413 and "500" in too_long.json()["error"]
    huge = api.client.post("/v1/events", content=b"[" + b" " * 1_100_000 + b"]", headers=api.headers())
    assert huge.status_code == 413 and "limit" in huge.json()["error"]
    bomb = gzip.compress(b"[" + b" " * 5_000_000 + b"]")
    answer = api.client.post("/v1/events", content=bomb, headers={**api.headers(), "Content-Encoding": "gzip"})
    assert answer.status_code == 413 and "decompressed" in answer.json()["error"]
    assert _stored(api) == 0


def test_oversized_field_rejects_only_that_event(api: Api) -> None:
    events = note_events(2)
    events[1]["payload"]["note"] = "x" * (MAX_BODY + 1)
    answer = api.client.post(
        "/v1/events",
        content=gzip.compress(orjson.dumps({"events": events})),
        headers={**api.headers(), "Content-Encoding": "gzip"},
    )
    assert answer.status_code == 200
    assert [r["status"] for r in answer.json()["results"]] == ["accepted", "rejected"]
    assert "note" in answer.json()["results"][1]["reason"]


def test_gzip_batches_are_accepted(api: Api) -> None:
    body = gzip.compress(json.dumps(note_events(10)).encode())
    answer = api.client.post("/v1/events", content=body, headers={**api.headers(), "Content-Encoding": "gzip"})
    assert answer.json()["accepted"] == 10


def test_metrics_count_outcomes(api: Api) -> None:
    batch = note_events(4)
    api.post(batch)
    api.post([*batch, {"kind": "bad"}])
    text = api.client.get("/metrics").text
    assert 'smartco_events_total{outcome="accepted"} 4' in text
    assert 'smartco_events_total{outcome="duplicate"} 4' in text
    assert 'smartco_events_total{outcome="rejected"} 1' in text
    assert 'smartco_http_request_seconds_count{route="/v1/events"} 2' in text
