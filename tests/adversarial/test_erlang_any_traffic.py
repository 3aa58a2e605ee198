"""Issue 10, defect 1: no traffic can hang or overflow Erlang C / A; what is beyond the
model's range is an OutOfRange with a reason, and one queue's failure is that queue's only."""

from __future__ import annotations

import math
import time
from typing import Any

import psycopg
import pytest

from app.config import CallboardConfig
from app.staffing import erlang
from app.staffing.erlang import OutOfRange, agents_required, erlang_a_level, erlang_c_level
from app.staffing.service import staffing_all, staffing_center
from ingest.writer import ingest
from tests.metrics.scenario import at, call, state


def test_the_reported_hang_returns_and_agrees_with_erlang_c() -> None:
    # A = 720 erlangs, N = 740, AHT 300 s, patience 120 s: hung for ever before (weights → inf)
    a = erlang_a_level(720 / 300, 740, aht_s=300, patience_s=120, within_s=20)
    c = erlang_c_level(720.0, 740, aht_s=300, within_s=20)
    assert 0 < a.p_wait < c.p_wait < 1  # impatient callers leave: fewer wait
    assert 0 < a.p_abandon < 0.05 and c.service_level < a.service_level <= 1
    # and with (nearly) infinite patience Erlang A is Erlang C, at this size too
    patient = erlang_a_level(720 / 300, 740, aht_s=300, patience_s=1e9, within_s=20)
    assert patient.p_wait == pytest.approx(c.p_wait, rel=1e-4)
    assert patient.service_level == pytest.approx(c.service_level, rel=1e-4)


@pytest.mark.parametrize(
    ("lam", "agents", "aht", "patience", "within"),
    [
        (1e4 / 1800, 2, 86400 * 3, 86400, 20),  # talk of days: far beyond the agents
        (720 / 300, 740, 300, 120, 86400),  # a threshold of a day
        (50.0, 10_000, 300, 0.5, 60),  # huge floor, callers who hang up at once
        (10.0, 100, 300, 86400, 20),  # overloaded, patient callers: a queue of ~850 000
        (1e-12, 1, 86400, 1e-3, 86400),  # almost nothing, tiny patience
        (3.0, 1, 1e-3, 1e6, 0),
    ],
)
def test_erlang_a_is_bounded_for_any_input(
    lam: float, agents: int, aht: float, patience: float, within: float
) -> None:
    start = time.monotonic()
    try:
        level = erlang_a_level(lam, agents, aht_s=aht, patience_s=patience, within_s=within)
    except OutOfRange as exc:
        assert str(exc)
    else:
        for value in (level.p_wait, level.service_level, level.p_abandon, level.occupancy):
            assert math.isfinite(value) and 0 <= value <= 1
        assert math.isfinite(level.asa_s) and level.asa_s >= 0
    assert time.monotonic() - start < 10  # bounded (timings are measured in bench/, not here)


def test_an_overloaded_patient_queue_gets_its_fluid_limit() -> None:
    level = erlang_a_level(10.0, 100, aht_s=300, patience_s=86400, within_s=20)
    assert level.method == "fluid"
    assert level.p_abandon == pytest.approx(1 - (100 / 300) / 10)
    assert level.service_level == 0.0


@pytest.mark.parametrize(
    ("traffic", "target", "within"),
    [(1e6, 0.8, 20), (10.0, 1.0, 20), (10.0, 1.5, 0), (math.inf, 0.8, 20), (math.nan, 0.8, 20)],
)
def test_agents_required_never_loops_for_ever(traffic: float, target: float, within: float) -> None:
    with pytest.raises(OutOfRange):
        agents_required(traffic, aht_s=300, target=target, within_s=within)


def test_erlang_c_holds_at_the_edge_of_its_range() -> None:
    n = agents_required(40_000.0, aht_s=300, target=0.8, within_s=20)
    assert 40_000 < n < 40_200
    level = erlang_c_level(40_000.0, n, aht_s=300, within_s=20)
    assert 0.8 <= level.service_level < 1 and 0 < level.p_wait < 1


def _center(pg: psycopg.Connection[Any]) -> None:
    # three agents on q and r, one on q only; q: 30 calls of 20 minutes in the last half hour
    events = [state(f"a{i}", 0, "available", queues=["q", "r"]) for i in range(3)]
    events.append(state("solo", 0, "available", queues=["q"]))
    for i in range(30):
        t = 1800 + i * 20
        events += call(f"c{i}", "q", t, answered=t + 5, ended=t + 1200, agent=f"a{i % 3}")
    events += call("r1", "r", 3000, answered=3010, ended=3190, agent="a0")
    result = ingest(pg, events)
    assert result.rejected == 0, result.errors


def test_one_queue_beyond_range_leaves_the_others_computed(
    pg: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _center(pg)
    config = CallboardConfig()
    # q carries 20 erlangs, r 0.1: put q beyond the computed range
    monkeypatch.setattr(erlang, "MAX_AGENTS", 10)
    erlang.agents_required.cache_clear()
    erlang.erlang_c_level.cache_clear()
    q, r = staffing_all(pg, config, queues=["q", "r"], now=at(3600))
    assert q["agents_required"] is None and "agents_required" in q["unavailable"]
    assert r["agents_required"] is not None and r["unavailable"] == {}
    erlang.agents_required.cache_clear()
    erlang.erlang_c_level.cache_clear()


def test_a_crash_in_one_queue_is_that_queues_unavailable(
    pg: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _center(pg)
    from app.staffing import service

    real = service._plan_queue

    def broken(config: Any, queue: str, *args: Any) -> dict[str, Any]:
        if queue == "q":
            raise ZeroDivisionError("boom")
        return real(config, queue, *args)

    monkeypatch.setattr(service, "_plan_queue", broken)
    q, r = staffing_all(pg, CallboardConfig(), queues=["q", "r"], now=at(3600))
    assert q["agents_required"] is None and q["unavailable"] == {
        "staffing": "could not be computed: ZeroDivisionError"
    }
    assert r["agents_required"] is not None


def test_the_center_counts_each_agent_once_and_shares_them(pg: psycopg.Connection[Any]) -> None:
    _center(pg)
    center = staffing_center(pg, CallboardConfig(), queues=["q", "r"], now=at(3600))
    assert center["agents_staffed"] == 4 == center["agents_logged_in"]  # not 3 + 4 = 7
    q, r = center["queues"]
    assert (q["agents_serving"], r["agents_serving"]) == (4, 3)
    # the three shared agents give q nearly all their time (q's traffic dwarfs r's)
    assert q["agents_available"] + r["agents_available"] == pytest.approx(4.0)
    assert q["agents_available"] > 3.9 and r["agents_available"] < 0.1
    assert r["projected_with"] == 0 and r["erlang_c"] is None
    assert "in proportion to its traffic" in q["assumes"]
