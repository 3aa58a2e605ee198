"""Trends: a group's metrics per bucket of `step` over [start, end).

A trend answers what `compute(..., start=t, end=t + step, only=key)` answers for every bucket
t, without reading every contact of the range: the buckets on whole 15-minute intervals that
ended before now are the interval rollups summed (app/rollups/read.py), the rest (the bucket
ending now, with what is true now) one statement over the rows (app/rollups/rows.py). Each
bucket's parts are then evaluated by the registry through `compute_many(given=...)`, as
`compute` would evaluate them (the same rows, the same extras).

Buckets are instants: [start + k * step, start + (k + 1) * step), the last one cut at `end`,
none starting at or after `now` (the same buckets in every time zone)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, overload

import psycopg

from app.config import CallboardConfig
from app.metrics.registry import Level
from app.rollups.read import metrics
from app.rollups.rows import STEP, buckets

__all__ = ["STEP", "buckets", "trends"]


@overload
def trends(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    key: str,
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta = STEP,
) -> list[dict[str, Any]]: ...


@overload
def trends(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    keys: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta = STEP,
) -> dict[str, list[dict[str, Any]]]: ...


def trends(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    key: str | None = None,
    keys: Sequence[str] | None = None,
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta = STEP,
) -> list[dict[str, Any]] | dict[str, list[dict[str, Any]]]:
    """One row per bucket of `step` in [start, end) (none from `now` on) for the group `key`
    of `by` (or, with `keys`, key -> rows for several groups of one level at once): "from",
    "to" and the row `compute(..., start=from, end=to, only=key)` gives."""
    if (key is None) == (keys is None):
        raise TypeError("give either key or keys")
    wanted = [key] if key is not None else list(dict.fromkeys(keys or []))
    found = metrics(conn, config, by=by, keys=wanted, start=start, end=end, now=now, step=step)
    return found[wanted[0]] if key is not None else found
