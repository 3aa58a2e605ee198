"""Interval sums laid out as local days of 96 quarter hours, per queue: what the methods read.

A queue's days are in its own time zone (config `timezone`), so "Monday 09:00" means the
floor's Monday morning. On the day clocks go back, the repeated hour's contacts add into the
same quarter hours; on the day they go forward the skipped hour stays zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from app.forecast.history import INTERVAL, SLOTS_PER_DAY, IntervalSums
from app.forecast.methods import Grid, empty_day, same_weekdays

WEEKS = 4
# AHT of a quarter hour is pooled over its hour of the same weekdays, then drawn towards the
# queue's mean by this many contacts: a quiet hour's two calls do not make its AHT.
AHT_PRIOR_N = 20.0


@dataclass
class QueueDays:
    """One queue's history as local days."""

    offered: dict[date, Grid] = field(default_factory=dict)
    handle_sum: dict[date, Grid] = field(default_factory=dict)
    handle_n: dict[date, Grid] = field(default_factory=dict)


def slot_of(start: datetime, tz: ZoneInfo) -> tuple[date, int]:
    local = start.astimezone(tz)
    return local.date(), (local.hour * 60 + local.minute) // 15


def slot_start(day: date, slot: int, tz: ZoneInfo) -> datetime:
    """The UTC start of a local day's quarter hour."""
    minutes = slot * 15
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)
    return local.astimezone(UTC)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    return start, end


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def lay_out(
    rows: Iterable[IntervalSums], *, zones: dict[str, ZoneInfo], first: date, last: date
) -> dict[str, QueueDays]:
    """Every queue in `zones` (and any other in the rows, in UTC) gets every day from `first`
    to `last`, zeros where no contact came."""
    out: dict[str, QueueDays] = {}

    def queue_days(queue: str) -> QueueDays:
        if queue not in out:
            q = out[queue] = QueueDays()
            for d in days_between(first, last):
                q.offered[d], q.handle_sum[d], q.handle_n[d] = empty_day(), empty_day(), empty_day()
        return out[queue]

    for queue in zones:
        queue_days(queue)
    for r in rows:
        day, slot = slot_of(r.start, zones.get(r.queue, ZoneInfo("UTC")))
        q = queue_days(r.queue)
        if day not in q.offered:
            continue
        q.offered[day][slot] += r.offered
        q.handle_sum[day][slot] += r.handle_sum
        q.handle_n[day][slot] += r.handle_n
    return out


def aht_forecast(days: QueueDays, day: date) -> Grid | None:
    """AHT per quarter hour: the same hour of the last WEEKS same weekdays, drawn towards the
    queue's mean over all its history by AHT_PRIOR_N contacts. None when the queue never had a
    handled contact with a known talk time."""
    total_n = sum(float(g.sum()) for g in days.handle_n.values())
    if total_n == 0:
        return None
    mean = sum(float(g.sum()) for g in days.handle_sum.values()) / total_n
    sums = same_weekdays(days.handle_sum, day, WEEKS)
    counts = same_weekdays(days.handle_n, day, WEEKS)
    hourly_sum = np.zeros(SLOTS_PER_DAY // 4)
    hourly_n = np.zeros(SLOTS_PER_DAY // 4)
    for s, n in zip(sums, counts, strict=True):
        hourly_sum += s.reshape(-1, 4).sum(axis=1)
        hourly_n += n.reshape(-1, 4).sum(axis=1)
    hourly = (hourly_sum + AHT_PRIOR_N * mean) / (hourly_n + AHT_PRIOR_N)
    return np.repeat(hourly, 4)


def interval_starts(day: date, tz: ZoneInfo) -> list[datetime]:
    """The day's quarter-hour starts in UTC (92 or 100 on the days clocks change)."""
    start, end = day_bounds(day, tz)
    n = int((end - start) / INTERVAL)
    return [start + i * INTERVAL for i in range(n)]
