"""Agent metrics on hand-computed scenarios, and the center / queue / team consistency checks."""

from __future__ import annotations

import random
from typing import Any

import psycopg

from app.config import CallboardConfig
from tests.metrics.scenario import at, call, ev, rows, state
from tests.streams import day_of_events

HOUR = {"start": 0, "end": 3600}


def test_agent_time_is_split_at_the_window_edges_and_stops_at_logout(
    pg: psycopg.Connection[Any],
) -> None:
    events = [
        state("a1", -1800, "available"),  # since 07:30: clipped at 08:00
        *call("c", "q", 595, answered=600, ended=1200, wrapped=1500),
        state("a1", 2400, "logged_out"),  # logged out mid-window
    ]
    a = rows(pg, events, by="agent", **HOUR)["a1"]
    assert a["logged_in_s"] == 2400
    # on_call 600 s, wrap_up 300 s, available 600 + 900 s
    assert a["occupancy"] == 0.375  # 900 / 2400
    assert a["utilization"] == 1.0
    assert a["calls_per_hour"] == 1.5  # 1 handled / (2400 s / 3600)


def test_time_away_counts_against_utilization_not_occupancy(pg: psycopg.Connection[Any]) -> None:
    events = [
        state("a1", 0, "available"),
        *call("c", "q", 0, answered=600, ended=1500, wrapped=1800),
        state("a1", 1800, "away", reason="break"),
        state("a1", 2700, "available"),
    ]
    a = rows(pg, events, by="agent", **HOUR)["a1"]
    # on_call 900, wrap 300, available 600 + 900, away 900; logged in all hour
    assert a["occupancy"] == 0.4444  # 1200 / 2700
    assert a["utilization"] == 0.75  # 2700 / 3600
    assert a["break_s"] == 900


def test_adherence_compares_state_class_with_the_schedule(pg: psycopg.Connection[Any]) -> None:
    for start, end, activity in (
        (0, 1800, "productive"),
        (1800, 2700, "break"),
        (2700, 3600, "productive"),
    ):
        pg.execute(
            "INSERT INTO schedules VALUES ('a1', %s, %s, %s)", (at(start), at(end), activity)
        )
    events = [
        state("a1", 0, "available"),
        state("a1", 2100, "away", reason="break"),  # 5 minutes late for the break
        state("a1", 3000, "available"),  # 5 minutes late back
    ]
    a = rows(pg, events, by="agent", **HOUR)["a1"]
    assert a["adherence"] == 0.8333  # (30 + 10 + 10) / 60 minutes
    # half-way through the hour only the scheduled time so far counts
    assert rows(pg, [], by="agent", start=0, end=3600, now=1800)["a1"]["adherence"] == 1.0


def test_fcr_counts_a_repeat_against_the_first_contact_and_marks_pending(
    pg: psycopg.Connection[Any],
) -> None:
    events = [
        *call("first", "q", 0, answered=5, ended=300, customer="k", agent="a1"),
        *call("other", "q", 600, answered=605, ended=900, customer="m", agent="a1"),
        *call("anon", "q", 900, answered=905, ended=1000, agent="a1"),
        *call("again", "q", 7200, answered=7205, ended=7500, customer="k", agent="a2"),
    ]
    a1 = rows(pg, events, by="agent", now=9000, **HOUR)["a1"]
    assert a1["fcr"] == 0.5  # "first" came back; "other" did not (yet); "anon" has no customer
    assert a1["fcr_pending"] == 1  # "other" is still inside its 72 h
    short = CallboardConfig.model_validate({"defaults": {"repeat_window_h": 1}})
    a1 = rows(pg, [], by="agent", now=9000, config=short, **HOUR)["a1"]
    assert (a1["fcr"], a1["fcr_pending"]) == (1.0, 0)  # 2 h later is not a repeat in 1 h


def test_missed_short_calls_and_agent_hangups(pg: psycopg.Connection[Any]) -> None:
    events = [
        ev("call.queued", 0, call_id="c1", queue="q"),
        ev("call.missed", 15, call_id="c1", queue="q", agent="a1", ring_s=15),
        ev("call.missed", 30, call_id="c1", queue="q", agent="a1", ring_s=15),
        ev("call.answered", 40, call_id="c1", queue="q", agent="a2"),
        ev("call.ended", 45, call_id="c1", queue="q", agent="a2", ended_by="agent"),
        *call("c2", "q", 100, answered=110, ended=400, agent="a2", ended_by="customer"),
    ]
    by_agent = rows(pg, events, by="agent", **HOUR)
    assert by_agent["a1"]["missed"] == 2
    a2 = by_agent["a2"]
    assert (a2["handled"], a2["short_call_rate"], a2["agent_hangup_rate"]) == (2, 0.5, 0.5)


def test_current_state_and_agents_by_state(pg: psycopg.Connection[Any]) -> None:
    config = CallboardConfig.model_validate(
        {"teams": {"north": {"agents": ["a1", "a2"]}, "south": {"agents": ["a3"]}}}
    )
    from app.config import store_config

    store_config(pg, config, origin="test")
    events = [
        state("a1", 0, "available", queues=["q"]),
        state("a2", 0, "available", queues=["q", "r"]),
        state("a3", 0, "available", queues=["r"]),
        *call("c", "q", 3000, answered=3010, agent="a1"),
        state("a2", 3300, "away", reason="lunch"),
    ]
    agents = rows(pg, events, by="agent", window="15m", config=config)
    assert (agents["a1"]["state"], agents["a1"]["time_in_state_s"]) == ("on_call", 590.0)
    assert (agents["a2"]["state"], agents["a2"]["reason"]) == ("away", "lunch")
    queues = rows(pg, [], by="queue", window="15m", config=config)
    assert queues["q"]["agents_by_state"] == {
        "away": 1,
        "away:lunch": 1,
        "logged_in": 2,
        "on_call": 1,
    }
    assert queues["r"]["agents_by_state"] == {
        "available": 1,
        "away": 1,
        "away:lunch": 1,
        "logged_in": 2,
    }
    teams = rows(pg, [], by="team", window="15m", config=config)
    assert teams["north"]["agents_by_state"]["logged_in"] == 2
    assert teams["south"]["agents_by_state"] == {"available": 1, "logged_in": 1}
    assert teams["north"]["handled"] == 0 and teams["north"]["answered"] == 1


def _simple_day() -> list[dict[str, Any]]:
    """A day without transfers and overflows: each contact visits one queue."""
    events = day_of_events(calls=300, agents=8, seed=21)
    multi = {e["call_id"] for e in events if e["type"] in ("call.transferred", "call.overflowed")}
    return [e for e in events if e.get("call_id") not in multi]


ADDITIVE = (
    "arrived",
    "answered",
    "answered_in_sl",
    "abandoned",
    "short_abandoned",
    "overflowed",
    "handled",
    "missed",
    "waiting_now",
)


def test_queues_add_up_to_the_center(pg: psycopg.Connection[Any]) -> None:
    events = _simple_day()
    window = {"start": 0, "end": 4 * 3600, "now": 4 * 3600}
    by_queue = rows(pg, events, by="queue", **window)
    center = rows(pg, [], by="center", **window)["center"]
    for name in ADDITIVE:
        assert center[name] == sum(q[name] or 0 for q in by_queue.values()), name
    # and ratios are ratios of the sums, not means of the queues' ratios
    answered = sum(q["answered"] for q in by_queue.values())
    abandoned = sum(q["abandoned"] for q in by_queue.values())
    in_sl = sum(q["answered_in_sl"] for q in by_queue.values())
    assert center["service_level"] == round(in_sl / (answered + abandoned), 4)


def test_teams_add_up_to_the_center_for_handling(pg: psycopg.Connection[Any]) -> None:
    events = day_of_events(calls=200, agents=6, seed=22)
    window = {"start": 0, "end": 4 * 3600, "now": 4 * 3600}
    by_agent = rows(pg, events, by="agent", **window)
    center = rows(pg, [], by="center", **window)["center"]
    assert center["handled"] == sum(a["handled"] for a in by_agent.values())
    assert center["logged_in_s"] == sum(a["logged_in_s"] or 0 for a in by_agent.values())


def test_delivery_order_never_changes_a_metric(pg: psycopg.Connection[Any]) -> None:
    events = day_of_events(calls=120, agents=5, seed=23)
    window = {"start": 0, "end": 3 * 3600, "now": 3 * 3600}
    with pg.transaction(force_rollback=True):
        expected = {by: rows(pg, events, by=by, **window) for by in ("center", "queue", "agent")}
    rng = random.Random(5)
    for _ in range(3):
        shuffled = events + rng.sample(events, 40)
        rng.shuffle(shuffled)
        with pg.transaction(force_rollback=True):
            for i in range(0, len(shuffled), 37):
                rows(pg, shuffled[i : i + 37], by="center", **window)
            for by in ("center", "queue", "agent"):
                assert rows(pg, [], by=by, **window) == expected[by]
