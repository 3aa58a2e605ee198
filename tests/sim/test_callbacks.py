"""The simulator offers callbacks when the wait is long (on by default): a busy morning has
some, each ends connected, failed or still waiting, and they reach the metrics."""

from __future__ import annotations

import collections
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from app.config import CallboardConfig
from app.metrics.service import compute
from ingest.contract import validate_items
from ingest.sim.center import demo_center
from ingest.sim.engine import Simulation
from ingest.writer import ingest

START = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # 07:00 on the demo floor (Berlin)


def morning() -> list[dict[str, Any]]:
    """The demo floor's morning, its peak and first breaks included."""
    sim = Simulation(demo_center(), start=START, hours=6, seed=1)
    return list(sim.run(drain_h=2))


def test_a_busy_morning_has_callbacks_and_each_ends_once() -> None:
    events = morning()
    _, errors = validate_items(events)
    assert errors == []
    by_call: dict[str, list[str]] = collections.defaultdict(list)
    for e in events:
        if e["type"].startswith("callback."):
            by_call[e["call_id"]].append(e["type"])
    assert len(by_call) >= 5, len(by_call)
    for kinds in by_call.values():
        assert kinds[0] == "callback.requested" and kinds.count("callback.requested") == 1
        ends = [k for k in kinds if k in ("callback.connected", "callback.failed")]
        assert len(ends) <= 1
        assert kinds.count("callback.attempted") >= len(ends)
    # a callback is never an abandon: no call.abandoned after its request
    requested = {c for c, kinds in by_call.items()}
    abandoned_after = [
        e
        for e in events
        if e["type"] == "call.abandoned"
        and e["call_id"] in requested
        and any(
            x["type"] == "callback.requested"
            and x["call_id"] == e["call_id"]
            and x["ts"] <= e["ts"]
            for x in events
        )
    ]
    assert abandoned_after == []


def test_simulated_callbacks_reach_the_metrics(pg: psycopg.Connection[Any]) -> None:
    events = morning()
    assert ingest(pg, events).rejected == 0
    config = CallboardConfig()
    # by queue: a callback after a transfer counts in its queue, not again for the center
    rows = compute(
        pg,
        config,
        by="queue",
        now=START + timedelta(hours=8),
        start=START,
        end=START + timedelta(hours=8),
    )["rows"]
    c = {k: sum(r[k] or 0 for r in rows) for k in ("callbacks_connected", "callbacks_failed")}
    requested = sum(1 for e in events if e["type"] == "callback.requested")
    connected = sum(1 for e in events if e["type"] == "callback.connected")
    failed = sum(1 for e in events if e["type"] == "callback.failed")
    assert (c["callbacks_connected"], c["callbacks_failed"]) == (connected, failed)
    assert connected > 0 and requested >= connected + failed
    assert all(r["attempts_per_callback"] >= 1 for r in rows if r["callbacks_connected"])
