"""Forecasts: built from the stored history, imported from a WFM tool, read back per queue and
day, and back-tested (docs/FORECAST.md). Plain functions; the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from app.config import CallboardConfig
from app.forecast.backtest import backtest, ordered_methods
from app.forecast.grids import (
    WEEKS,
    QueueDays,
    aht_forecast,
    day_bounds,
    lay_out,
    slot_start,
)
from app.forecast.history import SLOTS_PER_DAY, history_span, interval_history
from app.forecast.methods import DEFAULT_METHOD, METHODS

# The history a forecast reads: enough weeks for every method, with a spare week.
HISTORY_DAYS = 7 * (WEEKS + 1)


@dataclass(frozen=True, slots=True)
class ForecastRow:
    queue: str
    start: datetime
    offered: float
    aht_s: float | None
    method: str


def queue_zones(conn: psycopg.Connection[Any], config: CallboardConfig) -> dict[str, ZoneInfo]:
    """Every known queue (configured or seen in events) and its time zone."""
    names = {r[0] for r in conn.execute("SELECT name FROM queues").fetchall()} | set(config.queues)
    return {q: ZoneInfo(config.queue(q).timezone) for q in sorted(names)}


def load_days(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    until_day: date,
    since_day: date | None = None,
) -> tuple[dict[str, QueueDays], dict[str, ZoneInfo]]:
    """Every queue's local days before `until_day` that the stored history covers, from
    `since_day` (default: HISTORY_DAYS before the last of them) to the day of its latest
    contact. What is laid out is bounded by what the methods read, never by the distance to
    the day asked: a day far past the history lays out its last weeks (the methods step back
    from the day to the latest history they are given), a day before it nothing."""
    zones = queue_zones(conn, config)
    default = ZoneInfo(config.defaults.timezone)
    until = day_bounds(until_day, default)[0] + timedelta(days=1)  # past every zone's midnight
    span = history_span(conn, until=until)
    if span is None:
        return {}, zones
    began, latest = span
    # the latest contact's day in the zone where that day is latest: no contact lies after it
    latest_day = max(latest.astimezone(z).date() for z in (default, *zones.values()))
    last = min(until_day - timedelta(days=1), latest_day)
    first = max(
        began.astimezone(default).date(),
        last - timedelta(days=HISTORY_DAYS - 1) if since_day is None else since_day,
    )
    since = day_bounds(first, default)[0] - timedelta(days=1)
    rows = interval_history(conn, config, since=since, until=until)
    days = lay_out(rows, zones=zones, first=first, last=last)
    return days, zones


def forecast_day(
    days: QueueDays, tz: ZoneInfo, day: date, method: str = DEFAULT_METHOD
) -> list[tuple[datetime, float, float | None]] | None:
    """A queue's quarter hours of one coming day (start, offered, AHT) from its history."""
    offered = METHODS[method](days.offered, day)
    if offered is None:
        return None
    aht = aht_forecast(days, day)
    return [
        (
            slot_start(day, slot, tz),
            float(offered[slot]),
            None if aht is None else float(aht[slot]),
        )
        for slot in range(SLOTS_PER_DAY)
    ]


_UPSERT = """
INSERT INTO forecast_intervals (queue, starts_at, offered, aht_s, method, made_at)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (queue, starts_at) DO UPDATE SET offered = EXCLUDED.offered,
  aht_s = EXCLUDED.aht_s, method = EXCLUDED.method, made_at = EXCLUDED.made_at
"""


def store(conn: psycopg.Connection[Any], rows: list[ForecastRow], *, now: datetime) -> int:
    with conn.cursor() as cur:
        cur.executemany(
            _UPSERT, [(r.queue, r.start, r.offered, r.aht_s, r.method, now) for r in rows]
        )
    return len(rows)


def build(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    today: date,
    days: int = 7,
    method: str = DEFAULT_METHOD,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Forecast `today` and the days after it for every queue with history; store it."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    if not 1 <= days <= 62:
        raise ValueError("--days must be between 1 and 62")
    history, zones = load_days(conn, config, until_day=today)
    rows: list[ForecastRow] = []
    built: dict[str, int] = {}
    without: list[str] = []
    for queue, qd in history.items():
        tz = zones.get(queue, ZoneInfo("UTC"))
        n = 0
        for i in range(days):
            made = forecast_day(qd, tz, today + timedelta(days=i), method)
            if made is None:
                continue
            rows += [ForecastRow(queue, s, o, a, method) for s, o, a in made]
            n += 1
        if n:
            built[queue] = n
        else:
            without.append(queue)
    store(conn, rows, now=now or datetime.now(UTC))
    return {
        "method": method,
        "from": today.isoformat(),
        "days": days,
        "intervals": len(rows),
        "queues": built,
        "without_history": without,
    }


_READ = """
SELECT queue, starts_at, offered, aht_s, method FROM forecast_intervals
WHERE starts_at >= %(since)s AND starts_at < %(until)s
  AND (%(queue)s::text IS NULL OR queue = %(queue)s)
ORDER BY queue, starts_at
"""


def stored(
    conn: psycopg.Connection[Any], *, since: datetime, until: datetime, queue: str | None = None
) -> list[ForecastRow]:
    rows = conn.execute(_READ, {"since": since, "until": until, "queue": queue}).fetchall()
    return [ForecastRow(q, s, float(o), a, m) for q, s, o, a, m in rows]


def run_backtest(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    first: date,
    last: date,
    method: str = DEFAULT_METHOD,
) -> dict[str, Any]:
    """`callboard forecast backtest`: the HISTORY_DAYS before `first` train (what a build on
    `first` reads), `first`..`last` test."""
    if last < first:
        raise ValueError("--to must not be before --from")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    days, zones = load_days(
        conn,
        config,
        until_day=last + timedelta(days=1),
        since_day=first - timedelta(days=HISTORY_DAYS),
    )
    result = backtest(days, zones, first=first, last=last, methods=ordered_methods(method))
    result["default"] = method
    return result
