"""The history a forecast learns from: per queue and 15-minute interval, contacts offered
(METRICS.md `arrived`: segments entering the queue, dated when they entered) and the handle
time of the contacts whose handling finished in the interval (`aht_s`'s parts).

Every reader of history goes through `interval_history`: the whole quarter hours come from the
interval rollups (app/rollups/read.py, the parts `arrived`, `handle_sum`, `handle_n` of level
queue), so a build reads a few thousand rollup rows a queue, not every contact of five weeks;
the partial edges of a range (the quarter hour now is in, for the intraday actuals) and any
range while the rollups do not serve (never built, other thresholds) come from the contact
segments. tests/forecast/test_history.py holds both sources equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from app.config import CallboardConfig
from app.rollups.read import interval_sums

INTERVAL = timedelta(minutes=15)
SLOTS_PER_DAY = 96
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # the bins' origin (a quarter hour)

# Bins start at whole quarter hours in UTC, which are whole quarter hours in every time zone
# whose offset is a multiple of 15 minutes (all of today's zones).
_HISTORY = """
WITH offered AS (
  SELECT s.queue, date_bin('15 minutes', s.queued_at, TIMESTAMPTZ '2000-01-01 00:00Z') AS start,
         count(*) AS offered
  FROM contact_segments s
  WHERE s.queued_at >= %(since)s AND s.queued_at < %(until)s
    AND (%(queue)s::text IS NULL OR s.queue = %(queue)s)
  GROUP BY 1, 2),
handled AS (
  SELECT s.queue, date_bin('15 minutes', s.handled_at, TIMESTAMPTZ '2000-01-01 00:00Z') AS start,
         sum(s.talk_s + coalesce(s.hold_s, 0) + coalesce(s.acw_s, 0)) AS handle_sum,
         count(s.talk_s) AS handle_n
  FROM contact_segments s
  WHERE s.handled_at >= %(since)s AND s.handled_at < %(until)s AND s.talk_s IS NOT NULL
    AND (%(queue)s::text IS NULL OR s.queue = %(queue)s)
  GROUP BY 1, 2)
SELECT coalesce(o.queue, h.queue), coalesce(o.start, h.start),
       coalesce(o.offered, 0), coalesce(h.handle_sum, 0), coalesce(h.handle_n, 0)
FROM offered o FULL JOIN handled h ON h.queue = o.queue AND h.start = o.start
ORDER BY 1, 2
"""

_SPAN = "SELECT min(queued_at), max(queued_at) FROM contact_segments WHERE queued_at < %(until)s"


@dataclass(frozen=True, slots=True)
class IntervalSums:
    queue: str
    start: datetime
    offered: int
    handle_sum: float
    handle_n: int


def interval_history(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    since: datetime,
    until: datetime,
    queue: str | None = None,
    rows_only: bool = False,
) -> list[IntervalSums]:
    """The intervals in [since, until) that had any contact, per queue, oldest first: the
    whole quarter hours from the rollups when they serve `config`, the rest from the rows
    (`rows_only`: everything from the rows)."""
    lo, hi = _ceil(since), _floor(until)
    found = None
    if not rows_only and lo < hi:
        keys = None if queue is None else [queue]
        found = interval_sums(
            conn, config, level="queue", columns=_PARTS, start=lo, end=hi, keys=keys
        )
    if found is None:
        return _from_rows(conn, since=since, until=until, queue=queue)
    # an interval with other parts only (outcomes, surveys; or whose contacts a late event
    # moved) has a rollup row of zeros here, and no row in _HISTORY
    out = [IntervalSums(q, s, o or 0, hs or 0.0, hn or 0) for q, s, o, hs, hn in found if o or hn]
    edges = [
        r
        for a, b in ((since, lo), (hi, until))  # partial quarter hours, at most one each
        if a < b
        for r in _from_rows(conn, since=a, until=b, queue=queue)
    ]
    return sorted(out + edges, key=lambda r: (r.queue, r.start)) if edges else out


_PARTS = ("arrived", "handle_sum", "handle_n")


def _from_rows(
    conn: psycopg.Connection[Any], *, since: datetime, until: datetime, queue: str | None
) -> list[IntervalSums]:
    rows = conn.execute(_HISTORY, {"since": since, "until": until, "queue": queue}).fetchall()
    return [IntervalSums(q, s, int(o), float(hs), int(hn)) for q, s, o, hs, hn in rows]


def _floor(t: datetime) -> datetime:
    return _EPOCH + ((t - _EPOCH) // INTERVAL) * INTERVAL


def _ceil(t: datetime) -> datetime:
    down = _floor(t)
    return down if down == t else down + INTERVAL


def history_span(
    conn: psycopg.Connection[Any], *, until: datetime
) -> tuple[datetime, datetime] | None:
    """The first and the latest contact stored before `until` (None: none is): days between
    them without contacts are zeros, days outside them are not history."""
    row = conn.execute(_SPAN, {"until": until}).fetchone()
    return None if row is None or row[0] is None else (row[0], row[1])
