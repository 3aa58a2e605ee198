"""Callbacks: the customer leaves the line and keeps their place (EVENTS.md, Callbacks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from app.config import CallboardConfig
from app.metrics.service import compute
from ingest.contract import validate_items
from ingest.writer import ingest

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def ev(kind: str, minutes: float, call: str, **fields: Any) -> dict[str, Any]:
    ts = (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    return {
        "id": f"{call}-{kind}-{minutes}",
        "ts": ts,
        "type": kind,
        "call_id": call,
        "queue": "sales",
        **fields,
    }


EVENTS = [
    # c1: waits 2 min, asks for a callback, two attempts, reached 23 min after the request
    ev("call.queued", 0, "c1", customer="k1"),
    ev("callback.requested", 2, "c1"),
    ev("callback.scheduled", 2, "c1", at="2026-11-20T08:30:00Z"),
    ev("callback.attempted", 20, "c1", agent="a1"),
    ev("callback.attempted", 25, "c1", agent="a1"),
    ev("callback.connected", 25, "c1", agent="a1"),
    ev("call.ended", 30, "c1", agent="a1"),
    # c2: three attempts, never reached
    ev("call.queued", 0, "c2"),
    ev("callback.requested", 1, "c2"),
    *[ev("callback.attempted", m, "c2") for m in (10, 30, 50)],
    ev("callback.failed", 60, "c2", reason="no_answer"),
    # c3: waiting for its callback
    ev("call.queued", 5, "c3"),
    ev("callback.requested", 6, "c3"),
    # c4: an ordinary call
    ev("call.queued", 10, "c4"),
    ev("call.answered", 10.5, "c4", agent="a2"),
    ev("call.ended", 14, "c4", agent="a2"),
]


def test_the_contract_takes_the_five_callback_events_and_checks_them() -> None:
    valid, errors = validate_items(EVENTS)
    assert errors == [] and len(valid) == len(EVENTS)
    _, errors = validate_items(
        [
            {**ev("callback.failed", 1, "x"), "reason": "bored"},
            {**ev("callback.scheduled", 1, "x"), "at": "tomorrow"},
            {k: v for k, v in ev("callback.connected", 1, "x").items()},  # no agent
        ]
    )
    assert [e.index for e in errors] == [0, 1, 2]


def test_a_callback_is_its_own_queue_work_and_not_an_abandon(pg: psycopg.Connection[Any]) -> None:
    assert ingest(pg, EVENTS).rejected == 0
    segs = pg.execute(
        "SELECT call_id, segment, channel, outcome, wait_s, attempts, agent, contact_outcome,"
        " contact_wait_s FROM contact_segments ORDER BY call_id, segment"
    ).fetchall()
    assert segs[:2] == [
        ("c1", 0, "voice", "callback", 120.0, 0, None, False, None),
        ("c1", 1, "callback", "answered", 1380.0, 2, "a1", True, 1500.0),
    ]
    assert ("c2", 1, "callback", "failed", 3540.0, 3, None, True, 3600.0) in segs
    assert ("c3", 1, "callback", None, None, 0, None, True, None) in segs
    state = pg.execute(
        "SELECT state FROM agent_states WHERE agent = 'a1' AND started_at = %s",
        (T0 + timedelta(minutes=25),),
    ).fetchone()
    assert state == ("on_call",)

    config = CallboardConfig.model_validate({"queues": {"sales": {"callback_target_s": 1800}}})
    rows = compute(
        pg, config, by="queue", now=T0 + timedelta(hours=2), start=T0, end=T0 + timedelta(hours=2)
    )["rows"]
    q = rows[0]
    assert (q["arrived"], q["answered"], q["abandoned"]) == (7, 2, 0)
    assert q["abandon_rate"] == 0
    assert (q["callbacks_requested"], q["callbacks_connected"], q["callbacks_failed"]) == (3, 1, 1)
    assert q["callback_target_rate"] == 0.5  # c1 within 30 min; c2 failed
    assert q["attempts_per_callback"] == 2.5

    live = compute(pg, config, by="queue", now=T0 + timedelta(minutes=40), window="today")
    q = live["rows"][0]
    assert (q["waiting_now"], q["callbacks_waiting_now"]) == (0, 2)  # c2 (failed later), c3
    assert q["oldest_callback_s"] == pytest.approx(39 * 60)


def test_the_line_hanging_up_after_a_request_is_not_an_abandon(
    pg: psycopg.Connection[Any],
) -> None:
    """Amazon Connect: the callback is queued in a callback queue, then the inbound contact
    disconnects from its queue (which a contact event reports as a disconnect in queue)."""
    events = [
        ev("call.queued", 0, "c9"),
        {**ev("callback.requested", 3, "c9"), "queue": "callbacks"},
        ev("call.abandoned", 3.1, "c9"),
        {**ev("call.abandoned", 4, "c9"), "queue": "callbacks", "id": "late"},
    ]
    assert ingest(pg, events).rejected == 0
    segs = pg.execute(
        "SELECT queue, channel, outcome, wait_s FROM contact_segments WHERE call_id = 'c9'"
        " ORDER BY segment"
    ).fetchall()
    assert segs == [("sales", "voice", "callback", 180.0), ("callbacks", "callback", None, None)]
