"""Today against its forecast, per queue and quarter hour: the forecast, what came so far, a
reforecast of the intervals still to come, the agents they require (Erlang C at the queue's
service-level target with the forecast AHT) against the agents scheduled, and over/under.

The reforecast scales the remaining intervals by the ratio of contacts offered to the forecast
over the closed intervals of the day, as the WFM suites' intraday views do; it waits for
REFORECAST_MIN_CONTACTS forecast contacts so that the day's first two calls do not double the
afternoon.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from app.config import CallboardConfig
from app.forecast import service
from app.forecast.grids import day_bounds, interval_starts
from app.forecast.history import INTERVAL, interval_history
from app.forecast.methods import DEFAULT_METHOD
from app.staffing.erlang import OutOfRange, agents_required

REFORECAST_MIN_CONTACTS = 20.0
DEFAULT_TARGET = 0.8


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    forecast: float | None
    aht_s: float | None
    actual: int | None  # None: not begun yet
    reforecast: float | None  # the intervals not closed yet
    required: int | None
    scheduled: int
    over_under: int | None  # scheduled - required: negative is short


@dataclass(frozen=True, slots=True)
class Shortage:
    start: datetime
    end: datetime
    agents: int


@dataclass(frozen=True, slots=True)
class QueueDay:
    queue: str
    method: str | None  # how the forecast was made: a method, "import", or None (no forecast)
    forecast_total: float | None
    forecast_so_far: float | None
    actual_so_far: int
    ratio: float | None  # actual / forecast over the closed intervals
    reforecast_total: float | None
    short: Shortage | None  # the hour still to come that is shortest of agents
    intervals: list[Interval]


_SCHEDULED = """
SELECT s.agent, s.starts_at, s.ends_at FROM schedules s
WHERE s.activity = 'productive' AND s.starts_at < %(end)s AND s.ends_at > %(start)s
"""
_SERVES = """
SELECT DISTINCT ON (agent) agent, queues FROM agent_states
WHERE queues IS NOT NULL AND cardinality(queues) > 0 ORDER BY agent, started_at DESC
"""


def scheduled_agents(
    conn: psycopg.Connection[Any], starts_of: Mapping[str, list[datetime]]
) -> dict[str, list[int]]:
    """Agents planned `productive` over each interval's middle, per queue (`starts_of`: each
    queue's interval starts): an agent counts for the queues their latest state lists, and
    for every queue when it lists none. The plans and the agents' queues are read once for
    all the queues."""
    spans = [s for s in starts_of.values() if s]
    if not spans:
        return {q: [] for q in starts_of}
    span = {"start": min(s[0] for s in spans), "end": max(s[-1] for s in spans) + INTERVAL}
    plans = conn.execute(_SCHEDULED, span).fetchall()
    serves = {a: set(qs) for a, qs in conn.execute(_SERVES).fetchall()}
    out = {q: [0] * len(starts) for q, starts in starts_of.items()}
    for agent, begin, end in plans:
        for q, starts in starts_of.items():
            if agent in serves and q not in serves[agent]:
                continue
            for i, s in enumerate(starts):
                if begin <= s + INTERVAL / 2 < end:
                    out[q][i] += 1
    return out


def _forecast_of(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    queue: str,
    day: date,
    starts: list[datetime],
    *,
    stored_only: bool = False,
) -> tuple[str | None, dict[datetime, tuple[float, float | None]]]:
    """The stored forecast of the day; made from history now when none is stored."""
    rows = service.stored(conn, since=starts[0], until=starts[-1] + INTERVAL, queue=queue)
    if rows:
        return rows[0].method, {r.start: (r.offered, r.aht_s) for r in rows}
    if stored_only:
        return None, {}
    days, zones = service.load_days(conn, config, until_day=day)
    if queue not in days:
        return None, {}
    made = service.forecast_day(days[queue], zones[queue], day)
    if made is None:
        return None, {}
    return DEFAULT_METHOD, {s: (o, a) for s, o, a in made}


def queue_day(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    queue: str,
    day: date,
    now: datetime,
    scheduled: list[int] | None = None,
    stored_only: bool = False,
) -> QueueDay:
    """`scheduled`: the day's agents scheduled (`scheduled_agents`, read once for several
    queues); `stored_only`: the stored forecast or none (the alerts' tick reads no history)."""
    params = config.queue(queue)
    tz = ZoneInfo(params.timezone)
    begin, end = day_bounds(day, tz)
    starts = interval_starts(day, tz)
    method, fc = _forecast_of(conn, config, queue, day, starts, stored_only=stored_only)
    actual: dict[datetime, int] = defaultdict(int)
    if now > begin:
        for r in interval_history(conn, config, since=begin, until=min(now, end), queue=queue):
            actual[r.start] += r.offered
    if scheduled is None:
        scheduled = scheduled_agents(conn, {queue: starts})[queue]
    closed = [s for s in starts if s + INTERVAL <= now]
    fc_so_far = sum(fc[s][0] for s in closed if s in fc) if fc else None
    so_far = sum(actual[s] for s in closed)
    ratio = (
        so_far / fc_so_far
        if fc_so_far is not None and fc_so_far >= REFORECAST_MIN_CONTACTS
        else None
    )
    target = params.targets.get("service_level", DEFAULT_TARGET)
    intervals: list[Interval] = []
    for i, s in enumerate(starts):
        f, aht = fc.get(s, (None, None))
        is_closed = s + INTERVAL <= now
        re = None if is_closed or f is None else f * (ratio if ratio is not None else 1.0)
        load = re if re is not None else f
        required = _required(load, aht, target=target, within_s=params.sl_threshold_s)
        intervals.append(
            Interval(
                start=s,
                forecast=None if f is None else round(f, 2),
                aht_s=None if aht is None else round(aht, 1),
                actual=actual[s] if s < now else None,
                reforecast=None if re is None else round(re, 2),
                required=required,
                scheduled=scheduled[i],
                over_under=None if required is None else scheduled[i] - required,
            )
        )
    total = sum(v[0] for v in fc.values()) if fc else None
    re_total = (
        None
        if total is None
        else so_far + sum(iv.reforecast or 0.0 for iv in intervals if iv.reforecast is not None)
    )
    return QueueDay(
        queue=queue,
        method=method,
        forecast_total=None if total is None else round(total, 1),
        forecast_so_far=None if fc_so_far is None else round(fc_so_far, 1),
        actual_so_far=so_far,
        ratio=None if ratio is None else round(ratio, 4),
        reforecast_total=None if re_total is None else round(re_total, 1),
        short=shortest_hour(intervals, now),
        intervals=intervals,
    )


def _required(
    offered: float | None, aht_s: float | None, *, target: float, within_s: float
) -> int | None:
    if offered is None or aht_s is None or aht_s <= 0:
        return None
    if offered <= 0:
        return 0
    traffic = offered * aht_s / INTERVAL.total_seconds()
    try:
        return agents_required(round(traffic, 6), aht_s=aht_s, target=target, within_s=within_s)
    except OutOfRange:
        return None


def shortest_hour(intervals: list[Interval], now: datetime) -> Shortage | None:
    """The whole hour still to come (the current one included) whose worst quarter hour is
    shortest of agents; the earliest of equals. None when no hour to come is short."""
    by_hour: dict[datetime, int] = {}
    for iv in intervals:
        if iv.over_under is None or iv.start + INTERVAL <= now:
            continue
        hour = iv.start.replace(minute=0)
        by_hour[hour] = min(by_hour.get(hour, 0), iv.over_under)
    worst = min(by_hour.items(), key=lambda kv: (kv[1], kv[0]), default=None)
    if worst is None or worst[1] >= 0:
        return None
    return Shortage(worst[0], worst[0] + timedelta(hours=1), -worst[1])


def day_of(config: CallboardConfig, queue: str | None, now: datetime) -> date:
    """Today in the queue's time zone (the defaults' without a queue)."""
    zone = config.queue(queue).timezone if queue else config.defaults.timezone
    return now.astimezone(ZoneInfo(zone)).date()


def intraday(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    queues: list[str],
    day: date,
    now: datetime,
) -> list[QueueDay]:
    starts = {q: interval_starts(day, ZoneInfo(config.queue(q).timezone)) for q in queues}
    scheduled = scheduled_agents(conn, starts)
    return [
        queue_day(conn, config, queue=q, day=day, now=now, scheduled=scheduled[q]) for q in queues
    ]
