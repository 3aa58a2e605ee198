"""Queue metrics on hand-computed scenarios (T = 20 s, S = 5 s unless said)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from app.config import CallboardConfig
from tests.metrics.scenario import call, ev, rows

HOUR = {"start": 0, "end": 3600}


def sl_mix() -> list[dict[str, Any]]:
    return [
        *call("c1", "q", 0, answered=10),  # in SL
        *call("c2", "q", 0, answered=20),  # exactly T: in SL
        *call("c3", "q", 0, answered=21),  # just over
        *call("c4", "q", 0, abandoned=5),  # exactly S: short
        *call("c5", "q", 0, abandoned=6),  # abandoned, within T
        *call("c6", "q", 0, abandoned=30),  # abandoned after T
        ev("call.queued", 0, call_id="c7", queue="q"),
        ev("call.overflowed", 40, call_id="c7", queue="q", reason="timeout"),
    ]


def test_counts_and_the_standard_service_level(pg: psycopg.Connection[Any]) -> None:
    q = rows(pg, sl_mix(), by="queue", **HOUR)["q"]
    assert (q["arrived"], q["answered"], q["answered_in_sl"]) == (7, 3, 2)
    assert (q["abandoned"], q["short_abandoned"], q["abandoned_in_sl"], q["overflowed"]) == (
        2,
        1,
        1,
        1,
    )
    assert q["service_level"] == 0.4  # 2 / (3 + 2)
    assert q["asa_s"] == 17.0  # (10 + 20 + 21) / 3
    assert q["abandon_rate"] == 0.4  # 2 / (3 + 2)
    assert q["avg_abandon_wait_s"] == 18.0  # (6 + 30) / 2, the short one left out
    assert (q["sl_formula"], q["sl_threshold_s"], q["short_abandon_s"]) == ("standard", 20, 5)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("standard", 0.4),  # 2 / 5
        ("answered_only", 0.6667),  # 2 / 3
        ("abandons_met", 0.6667),  # (2 + 1 + 1) / (3 + 2 + 1)
        ("with_overflow", 0.3333),  # 2 / (3 + 2 + 1)
    ],
)
def test_every_sl_formula(pg: psycopg.Connection[Any], formula: str, expected: float) -> None:
    config = CallboardConfig.model_validate({"queues": {"q": {"sl_formula": formula}}})
    assert rows(pg, sl_mix(), by="queue", config=config, **HOUR)["q"]["service_level"] == expected


def test_a_changed_threshold_applies_to_history_at_once(pg: psycopg.Connection[Any]) -> None:
    rows(pg, sl_mix(), by="queue", **HOUR)
    config = CallboardConfig.model_validate(
        {"queues": {"q": {"sl_threshold_s": 25, "short_abandon_s": 6}}}
    )
    q = rows(pg, [], by="queue", config=config, **HOUR)["q"]
    assert (q["answered_in_sl"], q["short_abandoned"], q["abandoned"]) == (3, 2, 1)
    assert q["service_level"] == 0.75  # 3 / (3 + 1)


def test_a_contact_belongs_to_the_window_it_left_the_queue_in(pg: psycopg.Connection[Any]) -> None:
    events = [
        *call("early", "q", -10, answered=10),  # queued before the window, answered inside
        *call("late", "q", 3590, answered=3605),  # queued inside, answered after
        *call("long", "q", 3000, answered=3010, ended=3480, wrapped=3620),  # wrap-up after
    ]
    q = rows(pg, events, by="queue", now=7200, **HOUR)["q"]
    assert (q["arrived"], q["answered"]) == (2, 2)  # "early" not arrived, "late" not answered
    assert q["handled"] == 0  # "long" ended inside, but its wrap-up finished in the next window
    nxt = rows(pg, [], by="queue", start=3600, end=7200, now=7200)["q"]
    assert (nxt["arrived"], nxt["answered"], nxt["handled"]) == (0, 1, 1)
    assert nxt["acw_s"] == 140.0


def test_transfer_counts_in_both_queues_and_once_for_the_center(
    pg: psycopg.Connection[Any],
) -> None:
    events = [
        *call("c", "sales", 0, answered=10, agent="a1"),
        ev("call.transferred", 100, call_id="c", queue="sales", agent="a1", to_queue="billing"),
        ev("call.ended", 100, call_id="c", queue="sales", agent="a1"),
        ev("call.queued", 100, call_id="c", queue="billing"),
        ev("call.answered", 130, call_id="c", queue="billing", agent="a2"),
        ev("call.ended", 400, call_id="c", queue="billing", agent="a2"),
    ]
    by_queue = rows(pg, events, by="queue", **HOUR)
    center = rows(pg, [], by="center", **HOUR)["center"]
    assert (by_queue["sales"]["answered"], by_queue["sales"]["transfer_rate"]) == (1, 1.0)
    assert (by_queue["billing"]["arrived"], by_queue["billing"]["answered"]) == (1, 1)
    assert by_queue["billing"]["asa_s"] == 30.0
    assert (center["arrived"], center["answered"], center["asa_s"]) == (1, 1, 10.0)
    assert center["handled"] == 2  # two handlings of one contact
    assert center["transfer_rate"] == 0.5


def test_overflow_is_one_contact_for_the_center_with_its_whole_wait(
    pg: psycopg.Connection[Any],
) -> None:
    events = [
        ev("call.queued", 0, call_id="c", queue="q1"),
        ev("call.overflowed", 60, call_id="c", queue="q1", reason="timeout", to_queue="q2"),
        ev("call.queued", 60, call_id="c", queue="q2"),
        ev("call.answered", 75, call_id="c", queue="q2", agent="a1"),
    ]
    by_queue = rows(pg, events, by="queue", **HOUR)
    center = rows(pg, [], by="center", **HOUR)["center"]
    assert (by_queue["q1"]["overflowed"], by_queue["q1"]["service_level"]) == (1, None)
    assert (by_queue["q2"]["answered"], by_queue["q2"]["asa_s"]) == (1, 15.0)
    assert (center["arrived"], center["answered"], center["overflowed"]) == (1, 1, 0)
    assert center["asa_s"] == 75.0  # the customer waited 60 + 15 s
    assert center["answered_in_sl"] == 0


def test_missing_durations_are_no_data_not_zero(pg: psycopg.Connection[Any]) -> None:
    # queue_log-like: no hold, no wrap-up, talk given by the source
    events = [*call("c", "q", 0, answered=5, ended=125, talk_s=118)]
    q = rows(pg, events, by="queue", **HOUR)["q"]
    assert (q["talk_s"], q["hold_s"], q["acw_s"]) == (118.0, None, None)
    assert q["aht_s"] == 118.0


def test_talk_defaults_to_the_timestamps_minus_hold(pg: psycopg.Connection[Any]) -> None:
    events = [*call("c", "q", 0, answered=5, ended=125, wrapped=155, hold_s=20)]
    q = rows(pg, events, by="queue", **HOUR)["q"]
    assert (q["talk_s"], q["hold_s"], q["acw_s"], q["aht_s"]) == (100.0, 20.0, 30.0, 150.0)


def test_surveys_count_when_they_arrive_for_the_last_answering_queue_and_agent(
    pg: psycopg.Connection[Any],
) -> None:
    events = [
        *call("c", "q", 0, answered=5, ended=300, agent="a7"),
        ev("survey.completed", 4000, call_id="c", csat=5, nps=10, resolved=True),
    ]
    first = rows(pg, events, by="queue", now=7200, **HOUR)["q"]
    second = rows(pg, [], by="agent", start=3600, end=7200, now=7200)["a7"]
    assert first["csat"] is None
    assert (second["csat"], second["nps"], second["survey_resolved_rate"]) == (1.0, 100.0, 1.0)


def test_csat_nps_and_qa(pg: psycopg.Connection[Any]) -> None:
    events = [*call("c", "q", 0, answered=5, ended=300)]
    events += [ev("survey.completed", 400, call_id="c", csat=v) for v in (5, 4, 3, 1)]
    events += [ev("survey.completed", 400, call_id="c", nps=v) for v in (10, 9, 8, 6, 0)]
    events += [
        ev("qa.scored", 500, call_id="c", agent="a1", score=s, evaluator="e") for s in (80, 90)
    ]
    q = rows(pg, events, by="queue", **HOUR)["q"]
    assert (q["csat"], q["csat_mean"]) == (0.5, 3.25)
    assert q["nps"] == 0.0  # 2 promoters, 2 detractors of 5
    assert q["qa_score"] == 85.0


def test_an_empty_window_has_counts_of_zero_and_ratios_of_no_data(
    pg: psycopg.Connection[Any],
) -> None:
    q = rows(pg, [*call("c", "q", 0, answered=5)], by="queue", start=7200, end=10800, now=10800)[
        "q"
    ]
    assert (q["arrived"], q["answered"], q["handled"]) == (0, 0, 0)
    assert (q["service_level"], q["asa_s"], q["abandon_rate"], q["aht_s"]) == (None,) * 4


def test_waiting_now_and_longest_wait(pg: psycopg.Connection[Any]) -> None:
    events = [
        ev("call.queued", 3000, call_id="w1", queue="q"),
        ev("call.queued", 3300, call_id="w2", queue="q"),
        *call("done", "q", 3100, answered=3200),
    ]
    q = rows(pg, events, by="queue", window="15m", now=3600)["q"]
    assert (q["waiting_now"], q["longest_wait_now_s"]) == (2, 600.0)
    # the same data seen at 08:55: w2 had not arrived, "done" was still waiting
    earlier = rows(pg, [], by="queue", window="15m", now=3180)["q"]
    assert (earlier["waiting_now"], earlier["longest_wait_now_s"]) == (2, 180.0)


def test_repeat_rate_and_its_window_apply_at_once(pg: psycopg.Connection[Any]) -> None:
    events = [
        *call("a", "q", 0, answered=5, ended=100, customer="k"),
        *call("b", "q", 1800, answered=1805, ended=1900, customer="k"),
        *call("c", "q", 1900, answered=1905, ended=2000, customer="m"),
        *call("d", "q", 2000, answered=2005, ended=2100),  # no customer: not in the ratio
    ]
    q = rows(pg, events, by="queue", **HOUR)["q"]
    assert q["repeat_rate"] == 0.3333  # b of (a, b, c)
    short = CallboardConfig.model_validate({"defaults": {"repeat_window_h": 0.25}})
    assert rows(pg, [], by="queue", config=short, **HOUR)["q"]["repeat_rate"] == 0.0


def test_today_starts_at_midnight_in_the_queues_time_zone(pg: psycopg.Connection[Any]) -> None:
    config = CallboardConfig.model_validate({"queues": {"ny": {"timezone": "America/New_York"}}})
    # 08:00Z is 03:00 in New York; local midnight there is 05:00Z
    events = [
        *call("yesterday", "ny", -3.5 * 3600, answered=-3.5 * 3600 + 5),  # 04:30Z
        *call("today", "ny", -2.5 * 3600, answered=-2.5 * 3600 + 5),  # 05:30Z
    ]
    by_queue = rows(pg, events, by="queue", window="today", now=0, config=config)
    center = rows(pg, [], by="center", window="today", now=0, config=config)["center"]
    assert by_queue["ny"]["answered"] == 1
    assert by_queue["ny"]["from"] == "2026-11-20T05:00:00Z"
    assert center["answered"] == 2  # the center's day (UTC here) began at 00:00Z


def test_interval_is_the_current_quarter_hour(pg: psycopg.Connection[Any]) -> None:
    events = [*call("before", "q", 800, answered=890), *call("inside", "q", 900, answered=910)]
    q = rows(pg, events, by="queue", window="interval", now=1200)["q"]
    assert q["answered"] == 1  # [08:15, 08:20)


def test_an_abandon_at_exactly_t_is_within_t(pg: psycopg.Connection[Any]) -> None:
    events = [
        *call("at_t", "q", 0, abandoned=20),
        *call("after_t", "q", 0, abandoned=21),
        *call("ok", "q", 0, answered=3),
    ]
    q = rows(pg, events, by="queue", **HOUR)["q"]
    assert (q["abandoned"], q["abandoned_in_sl"]) == (2, 1)
    amazon = CallboardConfig.model_validate({"defaults": {"sl_formula": "abandons_met"}})
    q = rows(pg, [], by="queue", config=amazon, **HOUR)["q"]
    assert q["service_level"] == 0.6667  # (1 + 1 + 0) / (1 + 2 + 0)
