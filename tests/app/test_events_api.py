from __future__ import annotations

from typing import Any

import orjson
import psycopg
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.events.router import MAX_BYTES, MAX_ITEMS
from tests.helpers import count
from tests.streams import day_of_events

EVENTS = day_of_events(calls=30, seed=5)


def test_valid_items_are_stored_and_bad_ones_named_by_index(
    client: TestClient, pg: psycopg.Connection[Any]
) -> None:
    batch: list[Any] = [
        EVENTS[0],
        {**EVENTS[1], "ts": "2026-11-20 08:00:00"},
        {**EVENTS[2], "colour": "red"},
        {**EVENTS[3], "type": "call.teleported"},
        EVENTS[4],
    ]
    r = client.post("/api/v1/events", json=batch)
    assert r.status_code == 200
    body = r.json()
    assert (body["inserted"], body["duplicates"], body["rejected"]) == (2, 0, 3)
    assert [e["index"] for e in body["errors"]] == [1, 2, 3]
    assert body["errors"][0]["message"].startswith("ts: must carry a UTC offset")
    assert body["errors"][1]["message"] == "colour: unknown field (not in the event contract)"
    assert "unknown type 'call.teleported'" in body["errors"][2]["message"]
    assert count(pg, "events") == 2


def test_posting_the_same_batch_twice_counts_duplicates(client: TestClient) -> None:
    first = client.post("/api/v1/events", json=EVENTS).json()
    second = client.post("/api/v1/events", json=EVENTS).json()
    assert first["inserted"] == len(EVENTS)
    assert (second["inserted"], second["duplicates"]) == (0, len(EVENTS))


def test_bodies_that_are_not_a_batch_get_a_clear_4xx(client: TestClient) -> None:
    r = client.post("/api/v1/events", content=b"{not json")
    assert r.status_code == 400 and "not valid JSON" in r.json()["detail"]
    r = client.post("/api/v1/events", json={"id": "1"})
    assert r.status_code == 422 and "JSON array" in r.json()["detail"]
    r = client.post("/api/v1/events", json=[{}] * (MAX_ITEMS + 1))
    assert r.status_code == 413 and str(MAX_ITEMS) in r.json()["detail"]
    r = client.post("/api/v1/events", content=b"[" + b" " * MAX_BYTES + b"]")
    assert r.status_code == 413
    # a number too large for any duration is that item's error, not the batch's
    r = client.post("/api/v1/events", content=b'[{"id": "1", "wait_s": 1' + b"0" * 30 + b"}]")
    assert r.status_code == 200 and r.json()["rejected"] == 1


def test_ingest_counters_and_request_timings_are_exported(client: TestClient) -> None:
    client.post("/api/v1/events", json=[EVENTS[0], {"bad": 1}])
    text = client.get("/metrics").text
    assert 'callboard_ingest_events_total{outcome="inserted"} 1.0' in text
    assert 'callboard_ingest_events_total{outcome="rejected"} 1.0' in text
    assert 'route="/api/v1/events"' in text


def test_healthz_reports_the_schema(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
near_events = st.builds(
    lambda base, key, value, drop: {
        **{k: v for k, v in base.items() if k != drop},
        **({key: value} if key else {}),
    },
    st.sampled_from(EVENTS),
    st.sampled_from(
        [
            None,
            "ts",
            "type",
            "wait_s",
            "talk_s",
            "agent",
            "queue",
            "id",
            "csat",
            "queues",
            "source",
            "call_id",
            "state",
            "extra",
        ]
    ),
    json_values,
    st.sampled_from([None, "ts", "type", "id", "queue", "agent", "call_id"]),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(near_events | json_values, max_size=8))
def test_any_json_batch_gets_an_answer_and_loses_nothing_valid(
    client: TestClient, pg: psycopg.Connection[Any], batch: list[Any]
) -> None:
    with pg.transaction(force_rollback=True):
        before = count(pg, "events")
        r = client.post(
            "/api/v1/events", content=orjson.dumps(batch, option=orjson.OPT_NON_STR_KEYS)
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["inserted"] + body["duplicates"] + body["rejected"] == len(batch)
        assert body["rejected"] == len(body["errors"])
        assert count(pg, "events") == before + body["inserted"]
