from __future__ import annotations

from typing import Any

import psycopg

from app.config import CallboardConfig
from app.staffing.service import staffing_now
from ingest.writer import ingest
from tests.metrics.scenario import at, call, state


def test_required_against_staffed_from_the_last_half_hour(pg: psycopg.Connection[Any]) -> None:
    events = [state(f"a{i}", 0, "available", queues=["q"]) for i in range(3)]
    events.append(state("a9", 0, "away", reason="break", queues=["q"]))  # not staffed
    # 20 contacts in the last 30 minutes, each handled in 180 s, 2 abandons after 30 s
    for i in range(20):
        t = 1800 + i * 90
        if i % 10 == 9:
            events += call(f"c{i}", "q", t, abandoned=t + 30)
        else:
            events += call(
                f"c{i}", "q", t, answered=t + 10, ended=t + 190, wrapped=t + 190, agent=f"a{i % 3}"
            )
    ingest(pg, events)
    config = CallboardConfig.model_validate({"queues": {"q": {"targets": {"service_level": 0.9}}}})
    out = staffing_now(pg, config, queue="q", now=at(3600))
    assert out["arrivals_last_30m"] == 20
    assert out["aht_s"] == 180.0
    assert out["agents_staffed"] == 3
    assert out["traffic_erlangs"] == 2.0  # 20 × 180 s / 1800 s
    assert out["agents_required"] >= 4
    # patience: 2 abandons over 18 × 10 s + 2 × 30 s waited
    assert out["patience_s"] == 120.0
    assert out["erlang_c"]["agents"] == 3 and out["erlang_a"]["p_abandon"] > 0


def test_no_traffic_means_no_requirement(pg: psycopg.Connection[Any]) -> None:
    out = staffing_now(pg, CallboardConfig(), queue="empty", now=at(0))
    assert out["agents_required"] is None and out["erlang_c"] is None


def test_all_queues_at_once_equal_each_queue_alone(pg: psycopg.Connection[Any]) -> None:
    from app.staffing.service import staffing_all

    events = [
        state(f"a{i}", 0, "available", queues=["q", "r"] if i % 2 else ["q"]) for i in range(4)
    ]
    for i in range(12):
        t = 1800 + i * 120
        queue = "q" if i % 3 else "r"
        events += call(f"m{i}", queue, t, answered=t + 8, ended=t + 200, agent=f"a{i % 4}")
    events += call("gone", "r", 3000, abandoned=3040)
    ingest(pg, events)
    config = CallboardConfig()
    together = staffing_all(pg, config, queues=["q", "r", "empty"], now=at(3600))
    alone = [staffing_now(pg, config, queue=q, now=at(3600)) for q in ("q", "r", "empty")]
    assert together == alone
    assert [s["agents_staffed"] for s in together] == [4, 2, 0]
