"""Issue 10, defects 1 and 15: durations beyond a day are rejected per item with the reason;
queues and agents created by events are capped ([limits]); over-cap events are rejected per
item, everything else is stored."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from app.config import CallboardConfig, store_config
from ingest.writer import ingest
from tests.helpers import count

TS = "2026-11-20T08:00:00Z"


def _ev(i: int, type_: str, **fields: Any) -> dict[str, Any]:
    return {"id": f"e{i}", "ts": TS, "type": type_, **fields}


@pytest.mark.parametrize(
    ("type_", "fields", "field"),
    [
        ("call.ended", {"call_id": "c", "queue": "q", "agent": "a", "talk_s": 100000}, "talk_s"),
        ("call.abandoned", {"call_id": "c", "queue": "q", "wait_s": 31_000_000}, "wait_s"),
        ("call.ended", {"call_id": "c", "queue": "q", "agent": "a", "hold_s": 86401}, "hold_s"),
        ("call.wrapped", {"call_id": "c", "agent": "a", "acw_s": 1e300}, "acw_s"),
        ("call.missed", {"call_id": "c", "queue": "q", "agent": "a", "ring_s": 90000}, "ring_s"),
        ("call.answered", {"call_id": "c", "queue": "q", "agent": "a", "wait_s": 2**63}, "wait_s"),
    ],
)
def test_durations_over_a_day_are_rejected_with_the_reason(
    pg: psycopg.Connection[Any], type_: str, fields: dict[str, Any], field: str
) -> None:
    ok = _ev(0, "call.queued", call_id="c", queue="q")
    result = ingest(pg, [ok, _ev(1, type_, **fields)])
    assert (result.inserted, result.rejected) == (1, 1)
    [error] = result.errors
    assert error.index == 1 and error.message.startswith(f"{field}: must be at most 86400")


def test_a_day_exactly_is_accepted(pg: psycopg.Connection[Any]) -> None:
    result = ingest(pg, [_ev(0, "call.abandoned", call_id="c", queue="q", wait_s=86400)])
    assert result.rejected == 0


def _limits(pg: psycopg.Connection[Any], **limits: int) -> None:
    store_config(pg, CallboardConfig.model_validate({"limits": limits}), origin="test")


def test_queues_created_by_events_are_capped(pg: psycopg.Connection[Any]) -> None:
    _limits(pg, max_queues=3)
    before = count(pg, "queues")
    events = [_ev(i, "call.queued", call_id=f"c{i}", queue=f"q{i % 5}") for i in range(10)]
    result = ingest(pg, events)
    # q0, q1, q2 are admitted (first seen first); every event naming q3 or q4 is refused
    assert (result.inserted, result.rejected) == (6, 4)
    assert {e.index for e in result.errors} == {3, 4, 8, 9}
    assert all("max_queues (3" in e.message for e in result.errors)
    assert count(pg, "queues") == before + 3
    # existing queues still take events; a new one is still refused, next batch too
    again = ingest(pg, [_ev(20, "call.queued", call_id="x", queue="q1")])
    assert again.rejected == 0
    more = ingest(pg, [_ev(21, "call.queued", call_id="y", queue="q9")])
    assert more.rejected == 1 and "'q9'" in more.errors[0].message


def test_agents_and_queue_lists_count_too(pg: psycopg.Connection[Any]) -> None:
    _limits(pg, max_queues=50, max_agents=2)
    events = [
        _ev(i, "agent.state", agent=f"a{i}", state="available", queues=["q1"]) for i in range(4)
    ]
    events.append(
        _ev(9, "agent.state", agent="a0", state="away", queues=[f"x{i}" for i in range(60)])
    )
    result = ingest(pg, events)
    assert {e.index for e in result.errors} == {2, 3, 4}
    assert "max_agents (2" in result.errors[0].message
    assert "max_queues (50" in result.errors[2].message


def test_configured_queues_do_not_count(pg: psycopg.Connection[Any]) -> None:
    store_config(
        pg,
        CallboardConfig.model_validate(
            {"limits": {"max_queues": 1}, "queues": {"a": {}, "b": {}, "c": {}}}
        ),
        origin="test",
    )
    events = [_ev(i, "call.queued", call_id=f"c{i}", queue=q) for i, q in enumerate("abcde")]
    result = ingest(pg, events)
    assert result.inserted == 4 and [e.index for e in result.errors] == [4]
