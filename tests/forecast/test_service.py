from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from app.config import CallboardConfig
from app.forecast import service
from app.forecast.grids import day_bounds
from app.forecast.methods import DEFAULT_METHOD
from app.metrics.service import compute
from ingest.writer import ingest
from tests.forecast.conftest import MONDAY, day_calls, write_month

CONFIG = CallboardConfig()
TEST_WEEK = (MONDAY + timedelta(days=21), MONDAY + timedelta(days=27))


def test_backtest_rows_hold_the_offered_metric_and_the_default_beats_seasonal_naive(
    pg: psycopg.Connection[Any],
) -> None:
    calls = write_month(pg)
    result = service.run_backtest(pg, CONFIG, first=TEST_WEEK[0], last=TEST_WEEK[1])
    rows = result["rows"]
    assert len(rows) == 7 * 96 and {r["queue"] for r in rows} == {"sales"}
    # `actual` is METRICS.md's arrived, interval by interval
    row = next(r for r in rows if r["start"] == f"{TEST_WEEK[0]}T09:15:00Z")
    start = datetime.fromisoformat(row["start"])
    metric = compute(
        pg,
        CONFIG,
        by="queue",
        now=start + timedelta(days=1),
        start=start,
        end=start + timedelta(minutes=15),
    )
    assert row["actual"] == metric["rows"][0]["arrived"] > 0
    summary = result["summary"]
    default, naive = summary[result["default"]], summary["seasonal_naive"]
    assert default["offered"] == naive["offered"] == sum(r["actual"] for r in rows) < calls
    assert default["interval"]["wape"] < naive["interval"]["wape"]
    assert default["day"]["wape"] <= naive["day"]["wape"] + 0.02
    assert result["aht"]["wape"] == pytest.approx(0.0, abs=1e-6)  # every call 130 s


def test_the_backtest_learns_nothing_from_the_test_days(pg: psycopg.Connection[Any]) -> None:
    write_month(pg)
    before = service.run_backtest(pg, CONFIG, first=TEST_WEEK[0], last=TEST_WEEK[1])
    ingest(pg, day_calls("sales", TEST_WEEK[0] + timedelta(days=1), [40] * 16, "spike"))
    after = service.run_backtest(pg, CONFIG, first=TEST_WEEK[0], last=TEST_WEEK[1])
    assert [r["forecast"] for r in after["rows"]] == [r["forecast"] for r in before["rows"]]
    assert (
        sum(r["actual"] for r in after["rows"])
        == sum(r["actual"] for r in before["rows"]) + 40 * 16
    )


def test_build_stores_quarter_hours_with_aht_in_the_queues_time_zone(
    pg: psycopg.Connection[Any],
) -> None:
    write_month(pg, weeks=3)
    config = CallboardConfig.model_validate({"queues": {"sales": {"timezone": "Europe/Berlin"}}})
    today = MONDAY + timedelta(days=21)
    made = service.build(pg, config, today=today, days=2, now=datetime(2026, 11, 23, tzinfo=UTC))
    assert made["queues"] == {"sales": 2} and made["intervals"] == 2 * 96
    since, _ = day_bounds(today, ZoneInfo("Europe/Berlin"))
    rows = service.stored(pg, since=since, until=since + timedelta(days=2), queue="sales")
    assert len(rows) == 192 and rows[0].start == datetime(2026, 11, 22, 23, tzinfo=UTC)
    assert {r.method for r in rows} == {DEFAULT_METHOD}
    assert all(r.aht_s == pytest.approx(130.0) for r in rows)
    monday_morning = [r.offered for r in rows if r.start.date() == today and r.start.hour in (8, 9)]
    assert sum(monday_morning) > 30  # the Mondays' busy 08:00-10:00 UTC
    # a second build replaces the first, interval by interval
    service.build(pg, config, today=today, days=2)
    assert len(service.stored(pg, since=since, until=since + timedelta(days=2))) == 192


def test_build_without_history_stores_nothing_and_says_so(pg: psycopg.Connection[Any]) -> None:
    pg.execute("INSERT INTO queues (name) VALUES ('new')")
    made = service.build(pg, CONFIG, today=date(2026, 12, 7), days=1)
    assert made["intervals"] == 0
    with pytest.raises(ValueError, match="unknown method"):
        service.build(pg, CONFIG, today=date(2026, 12, 7), method="magic")


def test_a_day_far_past_the_history_lays_out_only_the_history(
    pg: psycopg.Connection[Any],
) -> None:
    write_month(pg, weeks=3)
    after = MONDAY + timedelta(days=21)  # the day after the history
    far = after + timedelta(weeks=52 * 7000)  # a Monday some 7,000 years on
    history, zones = service.load_days(pg, CONFIG, until_day=far)
    near, _ = service.load_days(pg, CONFIG, until_day=after)
    assert list(history["sales"].offered) == list(near["sales"].offered)
    assert min(history["sales"].offered) == MONDAY and len(history["sales"].offered) == 21
    # the methods step back from the day to the history's last weeks
    made, expected = (
        service.forecast_day(h["sales"], zones["sales"], d)
        for h, d in ((history, far), (near, after))
    )
    assert made is not None and expected is not None
    assert [o for _, o, _ in made] == [o for _, o, _ in expected]
    # a back-test to the end of the calendar tests the days the history has
    result = service.run_backtest(
        pg, CONFIG, first=MONDAY + timedelta(days=14), last=date(9999, 12, 1)
    )
    assert len(result["rows"]) == 7 * 96


def test_the_days_laid_out_are_what_the_methods_read_whatever_the_day_asked(
    pg: psycopg.Connection[Any],
) -> None:
    write_month(pg, weeks=6)
    latest = MONDAY + timedelta(days=41)
    for until in (latest + timedelta(days=1), latest + timedelta(days=1000), date(9999, 12, 30)):
        days, _ = service.load_days(pg, CONFIG, until_day=until)
        laid = list(days["sales"].offered)
        assert len(laid) == service.HISTORY_DAYS and laid[-1] == latest, until
    # a back-test trains on what a build on its first day reads
    first = MONDAY + timedelta(days=40)
    days, _ = service.load_days(
        pg, CONFIG, until_day=date(9999, 12, 30), since_day=first - timedelta(service.HISTORY_DAYS)
    )
    assert min(days["sales"].offered) == first - timedelta(service.HISTORY_DAYS)
    assert max(days["sales"].offered) == latest
