"""The Amazon Connect adapter on records shaped like AWS's documented samples
(samples/amazon_connect), the documentation's own broken sample, the CLI and the HTTP route."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from ingest.sources.amazon_connect import parse
from ingest.sources.base import Raw, Rejected, Skipped
from ingest.sources.commit import Committer
from tests.app.conftest import anonymous, app, make_token

SAMPLES = Path(__file__).parent / "samples" / "amazon_connect"
AGENT = "a1b2c3d4-0000-4000-8000-000000000001"
QUEUE = "q-basic-0001"
__all__ = ["anonymous", "app", "make_token"]


def events(items: Any) -> list[Any]:
    """The events themselves (each comes with its record's text, `Raw`)."""
    return [i.event if isinstance(i, Raw) else i for i in items]


def _text(*names: str) -> str:
    return "".join((SAMPLES / n).read_text() for n in names)


def _at(hms: str) -> datetime:
    return datetime.fromisoformat(f"2025-11-20T{hms}+00:00").astimezone(UTC)


def test_both_streams_give_each_contact_once_with_acw(pg: psycopg.Connection[Any]) -> None:
    summary = Committer(pg, "connect").run(
        parse(_text("agent_events.jsonl", "contact_events.jsonl"), "connect")
    )
    assert summary.rejects == []
    # answered and ended of c1 come from both streams: stored once
    assert summary.duplicates == 2
    assert summary.skipped == {
        "agent HEART_BEAT": 1,
        "agent STATE_CHANGE": 3,  # ringing, on hold, back from hold: no change of state
        "contact INITIATED": 1,
    }
    with pg.cursor(row_factory=dict_row) as cur:
        rows = {r["call_id"]: r for r in cur.execute("SELECT * FROM contact_segments").fetchall()}
    c1, c2 = rows["c1-0000-0001"], rows["c2-0000-0002"]
    assert (c1["queue"], c1["outcome"], c1["agent"], c1["customer"]) == (
        QUEUE,
        "answered",
        AGENT,
        "+15555550100",
    )
    assert (c1["wait_s"], c1["talk_s"], c1["acw_s"]) == (15.0, 180.0, 30.0)
    assert (c2["outcome"], c2["wait_s"]) == ("abandoned", 40.0)
    states = pg.execute(
        "SELECT started_at, state, reason FROM agent_states WHERE agent = %s ORDER BY 1", (AGENT,)
    ).fetchall()
    assert states == [
        (_at("08:00:00"), "available", None),
        (_at("08:05:15"), "on_call", None),
        (_at("08:08:15"), "wrap_up", None),
        (_at("08:08:45"), "available", None),
        (_at("08:10:00"), "away", "break"),  # the status name, mapped to its away class
        (_at("08:30:00"), "logged_out", None),
    ]


def test_the_documentations_own_sample_gets_clear_errors() -> None:
    text = (SAMPLES / "docs_contact_event_sample.json").read_text()
    (bad,) = list(parse(text, "connect"))
    assert isinstance(bad, Rejected)
    assert bad.position == "line 1"
    assert (
        bad.reason
        == "not JSON: Expecting property name enclosed in double quotes at line 37 column 9"
    )
    fixed = text.replace('"2021-08-04T17:29:22.000Z",\n', '"2021-08-04T17:29:22.000Z"\n')
    (out_of_order,) = list(parse(fixed, "connect"))
    assert isinstance(out_of_order, Rejected)
    assert out_of_order.reason == (
        "disconnectTimestamp 2021-08-04T17:18:37+00:00 is before connectedToAgentTimestamp "
        "2021-08-04T17:29:09+00:00: the record contradicts itself"
    )


def test_firehose_objects_and_kinesis_batches_are_read_too() -> None:
    lines = (SAMPLES / "contact_events.jsonl").read_text().splitlines()
    firehose = "".join(lines)  # Firehose writes records back to back, no newline
    assert [type(i).__name__ for i in events(parse(firehose, "c"))] == [
        "Skipped",
        "CallQueued",
        "CallAnswered",
        "CallEnded",
        "CallQueued",
        "CallAbandoned",
    ]
    batch = {
        "Records": [
            {"kinesis": {"data": base64.b64encode(lines[1].encode()).decode()}},
            {"kinesis": {"data": "!!!"}},
        ]
    }
    items = events(parse(json.dumps(batch), "c"))
    assert type(items[0]).__name__ == "CallQueued"
    assert isinstance(items[1], Rejected) and items[1].position == "line 1 record 1"
    assert "not base64 of JSON" in items[1].reason


def test_a_broken_line_does_not_stop_the_rest() -> None:
    good = (SAMPLES / "contact_events.jsonl").read_text().splitlines()
    text = "\n".join([good[1], '{"detail": {"eventType": "QUEUED"', good[4], '{"x": 1}', "[1]"])
    items = events(parse(text, "c"))
    assert [(type(i).__name__, getattr(i, "position", "")) for i in items] == [
        ("CallQueued", ""),
        ("Rejected", "line 2"),
        ("CallQueued", ""),
        ("Rejected", "line 4"),
        ("Rejected", "line 5 item 0"),
    ]
    assert not [i for i in items if isinstance(i, Skipped)]


def test_the_http_route_stores_good_records_and_names_bad_ones(
    anonymous: TestClient, make_token: Callable[..., str], pg: psycopg.Connection[Any]
) -> None:
    body = _text("contact_events.jsonl") + "not json at all\n"
    refused = anonymous.post("/api/v1/sources/amazon-connect", content=body)
    assert refused.status_code == 401
    r = anonymous.post(
        "/api/v1/sources/amazon-connect?source=connect",
        content=body,
        headers={"Authorization": f"Bearer {make_token('ingest')}"},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["inserted"], out["duplicates"], out["rejected"]) == (5, 0, 1)
    assert out["skipped"] == {"contact INITIATED": 1}
    assert out["errors"][0]["position"] == "body line 7"
    again = anonymous.post(
        "/api/v1/sources/amazon-connect?source=connect",
        content=json.dumps([json.loads(x) for x in _text("contact_events.jsonl").splitlines()]),
        headers={"Authorization": f"Bearer {make_token('ingest')}"},
    )
    assert (again.json()["inserted"], again.json()["duplicates"]) == (0, 5)
