"""Today against its forecast in a real browser: the /sup chart (Plotly) and the wall's line,
on a server whose clock stands at 10:30 of a Monday with three weeks of history behind it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright.sync_api import expect

from ingest.writer import ingest
from tests.conftest import libpq
from tests.e2e.conftest import Server, shot
from tests.forecast.conftest import MONDAY, day_calls, write_month

TODAY = MONDAY + timedelta(days=21)
NOW = datetime(TODAY.year, TODAY.month, TODAY.day, 10, 30, tzinfo=UTC)


@pytest.fixture
def forecast_server(
    live_db: tuple[str, dict[str, str]], tmp_path: Path
) -> Iterator[tuple[Server, dict[str, str]]]:
    url, tokens = live_db
    with psycopg.connect(libpq(url)) as conn:
        write_month(conn, weeks=3)
        # a busy morning: 10 calls a quarter hour from 08:00 (Mondays bring about 6)
        ingest(conn, day_calls("sales", TODAY, [10] * 10, "today"))
        start = NOW.replace(hour=8, minute=0)
        for a in ("a1", "a2"):
            conn.execute(
                "INSERT INTO schedules (agent, starts_at, ends_at, activity)"
                " VALUES (%s, %s, %s, 'productive')",
                (a, start, start + timedelta(hours=8)),
            )
        conn.commit()
    srv = Server(url, tmp_path)
    srv.env["CALLBOARD_CLOCK_ORIGIN"] = NOW.isoformat()
    srv.env["CALLBOARD_CLOCK_WALL0"] = str(time.time())
    srv.start()
    try:
        yield srv, tokens
    finally:
        srv.stop()


def test_the_supervisor_sees_the_day_against_its_forecast(
    forecast_server: tuple[Server, dict[str, str]], browser: Any
) -> None:
    srv, tokens = forecast_server
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{srv.base}/sup?token={tokens['admin']}")
    chart = page.locator("#forecast-chart .main-svg").first
    expect(chart).to_be_visible(timeout=30000)
    # billing (no history: a forecast of none) comes first; a click on sales shows its day
    page.locator('#table-queues tr[data-key="sales"]').click()
    expect(page.locator("#r-forecast .fc-queue")).to_have_text("sales", timeout=10000)
    line = page.locator("#r-forecast .fc-line")
    expect(line).to_contain_text("calls forecast", timeout=10000)
    expect(line).to_contain_text("above so far")
    expect(line).to_contain_text("short")
    # the five series, in the legend
    for name in ("forecast", "offered", "reforecast", "agents required", "agents scheduled"):
        expect(page.locator("#forecast-chart .legendtext", has_text=name).first).to_be_visible()
    shot(page, "sup-forecast")
    page.close()


def test_the_wall_says_the_day_in_one_line_in_each_language(
    forecast_server: tuple[Server, dict[str, str]], browser: Any
) -> None:
    srv, tokens = forecast_server
    expected = {
        "en": "calls forecast",
        "zh-CN": "今日预测进线",
        "zh-TW": "今日預測進線",
        "ru": "прогноз вызовов на сегодня",
    }
    for lang, words in expected.items():
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{srv.base}/wall?lang={lang}&token={tokens['wallboard']}")
        line = page.locator("#wall-forecast")
        expect(line).to_contain_text(words, timeout=30000)
        box = line.bounding_box()
        assert box is not None and box["width"] <= 1920
        shot(page, f"wall-forecast-{lang}")
        page.close()
