"""The simulated floor as the metrics engine sees it, and the live feed."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import datetime
from typing import Any

import psycopg

from app.clock import Clock
from app.config import CallboardConfig, store_config
from app.metrics.service import compute
from ingest.sim.center import demo_center
from ingest.sim.engine import Simulation
from ingest.sim.live import feed, store, write_config

START = datetime.fromisoformat("2026-11-20T07:00:00+01:00")


def test_the_rushing_agents_show_in_the_numbers(pg: psycopg.Connection[Any], tmp_path: Any) -> None:
    center = demo_center(agents=40)
    body = write_config(center, START.date(), tmp_path / "callboard.toml")
    config = CallboardConfig.model_validate(body)
    store_config(pg, config, origin="test")
    store(pg, list(Simulation(center, start=START, hours=11.5, seed=4).run()))
    agents = compute(
        pg,
        config,
        by="agent",
        now=datetime.fromisoformat("2026-11-20T20:00:00+01:00"),
        start=START,
        end=datetime.fromisoformat("2026-11-20T20:00:00+01:00"),
    )
    rows = {r["key"]: r for r in agents["rows"]}
    rushers = [rows[a.id] for a in center.agents if a.style == "rusher"]
    steady = [rows[a.id] for a in center.agents if a.style == "steady"]
    median_aht = statistics.median(r["aht_s"] for r in steady)
    for r in rushers:
        assert r["aht_s"] < 0.8 * median_aht
        assert r["short_call_rate"] > 0.05
        assert r["agent_hangup_rate"] > statistics.median(s["agent_hangup_rate"] for s in steady)
    # the scorecard finds them: flagged, and ranked below the steady agents' median
    from app.scorecard.service import rank, scored

    cards = rank(scored(config, "agent", agents["rows"]))
    order = [c["key"] for c in cards]
    steady_median = statistics.median(
        order.index(a.id) for a in center.agents if a.style == "steady"
    )
    for a in center.agents:
        if a.style == "rusher":
            card = next(c for c in cards if c["key"] == a.id)
            # flagged as speed bought with quality (flags are codes with parameters)
            codes = [f["code"] for f in card["flags"]]
            assert any(c.startswith(("aht_s_but_", "calls_per_hour_but_")) for c in codes), codes
            assert order.index(a.id) > steady_median
    # adherence is measurable: the plan is in the config, the states follow it, not perfectly
    adherence = [r["adherence"] for r in rows.values() if r["adherence"] is not None]
    assert len(adherence) == 40
    assert 0.8 < statistics.mean(adherence) < 1.0
    center_row = compute(
        pg,
        config,
        by="center",
        start=START,
        end=datetime.fromisoformat("2026-11-20T20:00:00+01:00"),
        now=datetime.fromisoformat("2026-11-20T20:00:00+01:00"),
    )["rows"][0]
    assert 0.6 < center_row["service_level"] < 0.97
    assert 0.5 < center_row["occupancy"] < 0.95
    assert center_row["fcr"] is not None and 0.4 < center_row["fcr"] < 0.95


def test_the_live_feed_stores_what_the_clock_has_passed(engine: Any, fresh_db: str) -> None:
    import sqlalchemy as sa

    from app import migrate
    from tests.conftest import libpq

    e = sa.create_engine(fresh_db)
    with e.begin() as c:
        migrate.upgrade(c)
    e.dispose()
    center = demo_center(agents=10)
    sim = Simulation(center, start=START, hours=4, seed=2, prefix="live-")
    # 600 simulated seconds per wall second, from 09:00
    clock = Clock(datetime.fromisoformat("2026-11-20T09:00:00+01:00"), time.time(), 600)
    stop = threading.Event()
    thread = threading.Thread(
        target=feed,
        args=(lambda: psycopg.connect(libpq(fresh_db)), sim, clock),
        kwargs={"stop": stop, "interval_s": 0.1},
    )
    thread.start()
    time.sleep(1.5)
    stop.set()
    thread.join(timeout=10)
    with psycopg.connect(libpq(fresh_db)) as conn:
        n, last = conn.execute("SELECT count(*), max(ts) FROM events").fetchone() or (0, None)
    assert n > 100
    assert last is not None and last <= clock.now()
