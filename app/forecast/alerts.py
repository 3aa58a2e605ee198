"""The forecast kinds of alert rules (app/alerts/config.py FORECAST_METRICS), read on the
alerts' tick against today's *stored* forecast (`callboard forecast build` or an import): the
tick reads no history.

- `above_forecast`: contacts offered in the last closed quarter hour over its forecast, minus 1
  (0.12: 12 % above); with `for_s = (N - 1) x 900` the rule holds for N intervals in a row.
- `short_next_hour`: the most agents short (required - scheduled) in a quarter hour from the
  current one to an hour ahead.

A queue's scope reads that queue; `center` adds the queues' contacts and takes the largest
shortage of any queue (an agent may serve several: shortages do not add up).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from app.alerts.config import AlertRule
from app.config import CallboardConfig
from app.forecast.grids import interval_starts
from app.forecast.history import INTERVAL
from app.forecast.intraday import QueueDay, day_of, queue_day, scheduled_agents

Found = dict[tuple[str, str], tuple[float | None, dict[str, Any]]]


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def above(days: Iterable[QueueDay], now: datetime) -> tuple[float | None, dict[str, Any]]:
    forecast = actual = 0.0
    start: datetime | None = None
    for d in days:
        closed = [iv for iv in d.intervals if iv.start + INTERVAL <= now and iv.forecast]
        if not closed:
            continue
        last = closed[-1]
        if start is None or last.start > start:
            start = last.start
    if start is None:
        return None, {}
    for d in days:
        for iv in d.intervals:
            if iv.start == start and iv.forecast is not None:
                forecast += iv.forecast
                actual += iv.actual or 0
    if forecast <= 0:
        return None, {}
    return actual / forecast - 1, {
        "at": _iso(start),
        "actual": int(actual),
        "forecast": round(forecast, 1),
    }


def short(days: Iterable[QueueDay], now: datetime) -> tuple[float | None, dict[str, Any]]:
    horizon = now + timedelta(hours=1)
    worst: tuple[int, datetime] | None = None
    for d in days:
        for iv in d.intervals:
            if iv.over_under is None or iv.start + INTERVAL <= now or iv.start >= horizon:
                continue
            if worst is None or -iv.over_under > worst[0]:
                worst = (-iv.over_under, iv.start)
    if worst is None:
        return None, {}
    return float(worst[0]), {"at": _iso(worst[1]), "agents": worst[0]}


def forecast_readings(
    conn: psycopg.Connection[Any], config: CallboardConfig, rules: list[AlertRule], now: datetime
) -> Found:
    from app.alerts.config import FORECAST_METRICS

    wanted = [r for r in rules if r.metric in FORECAST_METRICS]
    queues: set[str] = set()
    for r in wanted:
        if r.scope == "center":
            queues.update(x[0] for x in conn.execute("SELECT name FROM queues").fetchall())
        else:
            queues.add(r.scope.partition(":")[2])
    which = {q: day_of(config, q, now) for q in sorted(queues)}
    scheduled = scheduled_agents(
        conn, {q: interval_starts(d, ZoneInfo(config.queue(q).timezone)) for q, d in which.items()}
    )
    days = {
        q: queue_day(
            conn, config, queue=q, day=d, now=now, scheduled=scheduled[q], stored_only=True
        )
        for q, d in which.items()
    }
    out: Found = {}
    for r in wanted:
        scope_days = (
            list(days.values()) if r.scope == "center" else [days[r.scope.partition(":")[2]]]
        )
        read = above if r.metric == "above_forecast" else short
        out[(r.metric, r.scope)] = read(scope_days, now)
    return out
