from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.clock import Clock
from app.config import CallboardConfig
from app.forecast import intraday
from app.forecast.history import INTERVAL
from app.forecast.router import LAST_DAY
from app.staffing.erlang import agents_required
from ingest.writer import ingest
from tests.app.conftest import anonymous, app, make_token
from tests.forecast.conftest import MONDAY, day_calls, write_month
from tests.metrics.scenario import state

__all__ = ["anonymous", "app", "make_token"]  # the API fixtures

CONFIG = CallboardConfig()
TODAY = MONDAY + timedelta(days=21)
NOW = datetime(TODAY.year, TODAY.month, TODAY.day, 9, 0, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return NOW.replace(hour=hour, minute=minute)


def morning(pg: psycopg.Connection[Any]) -> None:
    """Three weeks of history; today 12 calls in each quarter hour 08:00-09:00 (Mondays bring
    about 6); one agent planned productive 08:00-12:00."""
    write_month(pg, weeks=3)
    ingest(pg, day_calls("sales", TODAY, [12, 12, 12, 12], "today"))
    pg.execute(
        "INSERT INTO schedules (agent, starts_at, ends_at, activity) VALUES"
        " ('a1', %s, %s, 'productive'), ('a2', %s, %s, 'lunch')",
        (at(8), at(12), at(8), at(12)),
    )


def test_the_rest_of_the_day_is_reforecast_from_the_ratio_so_far(
    pg: psycopg.Connection[Any],
) -> None:
    morning(pg)
    day = intraday.queue_day(pg, CONFIG, queue="sales", day=TODAY, now=NOW)
    by = {iv.start: iv for iv in day.intervals}
    assert len(day.intervals) == 96 and day.method == "weekday_share"
    assert day.actual_so_far == 48
    assert day.forecast_so_far is not None and day.forecast_so_far > 0
    assert day.ratio == pytest.approx(48 / day.forecast_so_far, rel=1e-2)
    past, nine = by[at(8, 45)], by[at(9)]
    assert (past.actual, past.reforecast) == (12, None)
    assert nine.actual is None  # not begun at 09:00
    assert nine.forecast is not None and nine.reforecast is not None
    assert nine.reforecast == pytest.approx(nine.forecast * day.ratio, rel=1e-3)
    assert nine.aht_s == pytest.approx(130.0)
    traffic = nine.reforecast * 130.0 / INTERVAL.total_seconds()
    assert nine.required == agents_required(round(traffic, 6), aht_s=130.0, target=0.8, within_s=20)
    assert nine.scheduled == 1 and by[at(12)].scheduled == 0  # lunch is not on the phones
    assert nine.over_under == 1 - nine.required
    assert day.short is not None and day.short.start in (at(9), at(10), at(11))
    worst_hour = [iv for iv in day.intervals if day.short.start <= iv.start < day.short.end]
    assert day.short.agents == -min(iv.over_under or 0 for iv in worst_hour) > 0


def test_before_enough_contacts_the_forecast_stands(pg: psycopg.Connection[Any]) -> None:
    morning(pg)
    day = intraday.queue_day(pg, CONFIG, queue="sales", day=TODAY, now=at(8, 15))
    assert day.actual_so_far == 12 and day.ratio is None
    nine = next(iv for iv in day.intervals if iv.start == at(9))
    assert nine.reforecast == nine.forecast


def test_a_stored_forecast_is_the_one_used(pg: psycopg.Connection[Any]) -> None:
    from app.forecast.service import ForecastRow, store

    morning(pg)
    rows = [ForecastRow("sales", at(8) + i * INTERVAL, 10.0, 200.0, "import") for i in range(16)]
    store(pg, rows, now=NOW)
    day = intraday.queue_day(pg, CONFIG, queue="sales", day=TODAY, now=NOW)
    assert day.method == "import" and day.forecast_so_far == 40.0 and day.ratio == 1.2
    assert day.forecast_total == 160.0  # only the imported intervals
    assert day.reforecast_total == pytest.approx(48 + 12 * 12)


def test_a_queue_without_history_has_no_forecast_and_no_figures(
    pg: psycopg.Connection[Any],
) -> None:
    pg.execute("INSERT INTO queues (name) VALUES ('new')")
    day = intraday.queue_day(pg, CONFIG, queue="new", day=TODAY, now=NOW)
    assert day.method is None and day.forecast_total is None and day.short is None
    assert all(iv.required is None for iv in day.intervals)


def test_an_agent_scheduled_counts_for_the_queues_their_latest_state_lists(
    pg: psycopg.Connection[Any],
) -> None:
    morning(pg)  # a1 planned productive 08:00-12:00, no state: a1 counts for every queue
    assert ingest(pg, [state("a3", 0, "available", queues=["billing"])]).rejected == 0
    pg.execute(
        "INSERT INTO schedules (agent, starts_at, ends_at, activity)"
        " VALUES ('a3', %s, %s, 'productive')",
        (at(8), at(12)),
    )
    days = intraday.intraday(pg, CONFIG, queues=["billing", "sales"], day=TODAY, now=NOW)
    nine = {d.queue: next(iv.scheduled for iv in d.intervals if iv.start == at(9)) for d in days}
    assert nine == {"billing": 2, "sales": 1}
    alone = intraday.queue_day(pg, CONFIG, queue="billing", day=TODAY, now=NOW)
    assert [iv.scheduled for iv in alone.intervals] == [iv.scheduled for iv in days[0].intervals]


def test_the_api_answers_per_queue_and_in_total(
    app: FastAPI, pg: psycopg.Connection[Any], make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token('wallboard')}"}
    with TestClient(app, headers=headers) as client:
        # written after the start, which builds the rollups on a connection of its own (as a
        # server's start does): written before, they would be in the rows and not the rollups
        morning(pg)
        app.state.clock = Clock(NOW, time.time(), 1.0)
        body = client.get("/api/v1/forecast", params={"queue": "sales"}).json()
        assert body["day"] == TODAY.isoformat()
        assert body["total"]["actual_so_far"] == 48 and body["total"]["short_queue"] == "sales"
        q = body["queues"][0]
        assert q["queue"] == "sales" and len(q["intervals"]) == 96
        assert set(q["intervals"][0]) == {
            "start",
            "forecast",
            "aht_s",
            "actual",
            "reforecast",
            "required",
            "scheduled",
            "over_under",
        }
        fig = client.get("/api/v1/forecast/figure", params={"queue": "sales", "lang": "ru"})
        names = [trace["name"] for trace in fig.json()["data"]]
        assert len(names) == 5 and "прогноз" in names
        assert client.get("/api/v1/forecast", params={"queue": "nope"}).status_code == 404
        assert client.get("/api/v1/forecast", params={"day": "monday"}).status_code == 422
        assert client.get("/api/v1/forecast", params={"board": "nope"}).status_code == 404
    with TestClient(app) as anonymous_client:
        assert anonymous_client.get("/api/v1/forecast").status_code == 401


def test_a_day_far_away_is_forecast_from_the_history_s_last_weeks(
    app: FastAPI, pg: psycopg.Connection[Any], make_token: Callable[..., str]
) -> None:
    headers = {"Authorization": f"Bearer {make_token('wallboard')}"}
    far = LAST_DAY - timedelta(days=LAST_DAY.weekday())  # the last Monday the API takes
    with TestClient(app, headers=headers) as client:
        morning(pg)  # after the start, as in the test above
        app.state.clock = Clock(NOW, time.time(), 1.0)
        got = [
            client.get("/api/v1/forecast", params={"queue": "sales", "day": d.isoformat()})
            for d in (far, TODAY + timedelta(days=7))
        ]
        outside = [
            client.get("/api/v1/forecast", params={"queue": "sales", "day": d})
            for d in ("9999-12-31", "0001-01-01", "1969-12-31", str(LAST_DAY + timedelta(days=1)))
        ]
        figure = client.get(
            "/api/v1/forecast/figure", params={"queue": "sales", "day": "9999-12-31"}
        )
    assert [r.status_code for r in got] == [200, 200]
    far_day, next_monday = (r.json()["queues"][0] for r in got)
    assert far_day["forecast_total"] == next_monday["forecast_total"] > 0
    assert [r.status_code for r in [*outside, figure]] == [422] * 5
    assert f"must lie between 1970-01-01 and {LAST_DAY}" in outside[0].text
