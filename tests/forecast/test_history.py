"""The forecast's history read through the interval rollups equals the history read from the
contact segments, on two weeks of a simulated center in queues 30 and 45 minutes off the hour
(Asia/Kolkata, Asia/Kathmandu) whose days cross local midnight, stored in batches with late
and redelivered events; and the forecasts made from either are the same."""

from __future__ import annotations

import dataclasses
import math
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
import pytest

from app.config import CallboardConfig
from app.forecast import service
from app.forecast.grids import day_bounds, lay_out
from app.forecast.history import IntervalSums, interval_history
from app.forecast.methods import METHODS
from app.rollups.service import is_current, rebuild
from ingest.sim.center import demo_center, local
from ingest.sim.engine import Simulation
from ingest.writer import ingest

FIRST = date(2026, 11, 2)  # a Monday
DAYS = 15
CONFIG = CallboardConfig.model_validate(
    {
        "defaults": {"timezone": "Asia/Kathmandu"},  # +05:45; `support` keeps it
        "queues": {"billing": {"timezone": "Asia/Kolkata"}, "sales": {"timezone": "UTC"}},
    }
)


@pytest.fixture(scope="module")
def floor() -> list[dict[str, Any]]:
    """Two weeks and a day of 10:00-01:00 Kathmandu time, in batches of 200: a fifth of the
    events arrive a few batches late, a tenth twice."""
    center = dataclasses.replace(demo_center(agents=6, queues=3, seed=3), timezone="Asia/Kathmandu")
    events: list[dict[str, Any]] = []
    for i in range(DAYS):
        day = FIRST + timedelta(days=i)
        start = local(day, 10.0, center.timezone)
        events += Simulation(center, start=start, hours=15, seed=i, prefix=f"d{i}-").run()
    rng = random.Random(26)
    late = [e for e in events if rng.random() < 0.2]
    events = [e for e in events if e not in late] + late
    events += rng.sample(events, len(events) // 10)
    return events


def store(conn: psycopg.Connection[Any], events: list[dict[str, Any]]) -> None:
    rebuild(conn, CONFIG)  # built (empty) first: the writer keeps them from here on
    for k in range(0, len(events), 200):
        result = ingest(conn, events[k : k + 200])
        assert result.rejected == 0, result.errors[:3]
    assert is_current(conn, CONFIG)


def equal(a: list[IntervalSums], b: list[IntervalSums]) -> bool:
    """The same intervals and counts; handle time summed in another order may differ in its
    last bits."""
    if [(r.queue, r.start, r.offered, r.handle_n) for r in a] != [
        (r.queue, r.start, r.offered, r.handle_n) for r in b
    ]:
        return False
    return all(
        math.isclose(x.handle_sum, y.handle_sum, rel_tol=1e-12) for x, y in zip(a, b, strict=True)
    )


def test_the_history_from_rollups_equals_the_rows_and_so_does_the_forecast(
    pg: psycopg.Connection[Any], floor: list[dict[str, Any]]
) -> None:
    store(pg, floor)
    since = day_bounds(FIRST, UTC)[0] - timedelta(days=1)
    until = since + timedelta(days=DAYS + 2)
    odd = timedelta(minutes=7, seconds=31)  # partial edges, read from rows
    for lo, hi, queue in (
        (since, until, None),
        (since + odd, until - timedelta(days=3) - odd, None),
        (since + timedelta(days=4) + odd, until - odd, "billing"),
        (since + odd, since + 2 * odd, None),  # inside one quarter hour: rows alone
    ):
        rows = interval_history(pg, CONFIG, since=lo, until=hi, queue=queue, rows_only=True)
        rolled = interval_history(pg, CONFIG, since=lo, until=hi, queue=queue)
        assert equal(rolled, rows), (lo, hi, queue)
    rows = interval_history(pg, CONFIG, since=since, until=until, rows_only=True)
    assert len(rows) > 1000 and {r.queue for r in rows} == {"billing", "sales", "support"}

    # the forecasts of the two days after the history, every method, from either source
    zones = service.queue_zones(pg, CONFIG)
    last = FIRST + timedelta(days=DAYS - 1)
    laid = {
        name: lay_out(found, zones=zones, first=FIRST, last=last)
        for name, found in (
            ("rows", rows),
            ("rollups", interval_history(pg, CONFIG, since=since, until=until)),
        )
    }
    made = 0
    for queue, days in laid["rows"].items():
        other = laid["rollups"][queue]
        assert days.offered.keys() == other.offered.keys()
        for day in (last + timedelta(days=1), last + timedelta(days=2)):
            for method in METHODS:
                a = service.forecast_day(days, zones[queue], day, method)
                b = service.forecast_day(other, zones[queue], day, method)
                assert a is not None and b is not None
                assert [(s, o) for s, o, _ in a] == [(s, o) for s, o, _ in b]  # identical
                aht_a, aht_b = np.array([x for *_, x in a]), np.array([x for *_, x in b])
                np.testing.assert_allclose(aht_a, aht_b, rtol=1e-12)
                made += 1
    assert made == 3 * 2 * len(METHODS)
    # what a build reads: the rollups' layout
    loaded, _ = service.load_days(pg, CONFIG, until_day=last + timedelta(days=1))
    for queue, days in loaded.items():
        for day, grid in days.offered.items():
            assert np.array_equal(grid, laid["rollups"][queue].offered[day]), (queue, day)


def test_the_history_is_read_from_the_rollups_and_from_rows_while_they_do_not_serve(
    pg: psycopg.Connection[Any], floor: list[dict[str, Any]]
) -> None:
    store(pg, floor)
    since = datetime(2026, 11, 4, 6, tzinfo=UTC)
    until = since + timedelta(hours=4, minutes=5)  # its last 5 minutes from rows
    before = interval_history(pg, CONFIG, since=since, until=until, queue="billing")
    pg.execute(
        "UPDATE rollup_contacts SET arrived = arrived + 1000"
        " WHERE level = 'queue' AND key = 'billing' AND bucket >= %s AND bucket < %s",
        (since, until),
    )
    after = interval_history(pg, CONFIG, since=since, until=until, queue="billing")
    was = {r.start: r.offered for r in before}
    now = {r.start: r.offered for r in after}
    edge = until - timedelta(minutes=5)
    assert len(was) == 17 and now[edge] == was[edge]  # busy hours: a row every quarter hour
    assert all(now[s] == was[s] + 1000 for s in was if s < edge)
    # other thresholds than the rollups': the rows
    other = CONFIG.model_copy(
        update={"defaults": CONFIG.defaults.model_copy(update={"sl_threshold_s": 7})}
    )
    assert not is_current(pg, other)
    assert equal(interval_history(pg, other, since=since, until=until, queue="billing"), before)
