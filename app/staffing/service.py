"""Staffing now and for the next interval: Erlang C from the last 30 minutes' arrivals and
AHT, Erlang A with the customers' patience estimated from the data's abandons."""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import psycopg

from app.config import CallboardConfig
from app.staffing.erlang import (
    Level,
    agents_required,
    erlang_a_level,
    erlang_c_level,
    scheduled_required,
)

RATE_WINDOW = timedelta(minutes=30)
AHT_WINDOW = timedelta(hours=2)  # fewer handled contacts than arrivals in 30 min: look further
DEFAULT_TARGET = 0.8


def plan(
    *,
    arrivals: float,
    per_s: float,
    aht_s: float,
    target: float,
    within_s: float,
    shrinkage: float = 0.0,
    spread: int = 3,
) -> dict[str, Any]:
    """`callboard staffing`: agents required and each staffing level around it."""
    if arrivals < 0 or per_s <= 0 or aht_s <= 0:
        raise ValueError("arrivals must be >= 0, the period and AHT > 0")
    if not 0 < target < 1:
        raise ValueError("target must be between 0 and 1")
    traffic = arrivals * aht_s / per_s
    required = agents_required(traffic, aht_s=aht_s, target=target, within_s=within_s)
    low = max(math.floor(traffic) + 1, required - spread)
    levels = [
        _level(erlang_c_level(traffic, n, aht_s=aht_s, within_s=within_s))
        for n in range(low, required + spread + 1)
    ]
    return {
        "traffic_erlangs": round(traffic, 4),
        "agents_required": required,
        "scheduled_required": scheduled_required(required, shrinkage),
        "shrinkage": shrinkage,
        "target": target,
        "within_s": within_s,
        "levels": levels,
    }


def _level(level: Level) -> dict[str, Any]:
    out = asdict(level)
    for k, v in out.items():
        if isinstance(v, float):
            out[k] = None if math.isinf(v) else round(v, 7)
    return out


_OBSERVED = """
SELECT s.queue,
  count(*) FILTER (WHERE s.queued_at >= %(rate_from)s AND s.queued_at < %(now)s) AS arrivals,
  avg(s.talk_s + coalesce(s.hold_s, 0) + coalesce(s.acw_s, 0))
    FILTER (WHERE s.handled_at >= %(aht_from)s AND s.handled_at < %(now)s) AS aht_s,
  count(*) FILTER (WHERE s.outcome = 'abandoned' AND s.left_at >= %(aht_from)s
                     AND s.left_at < %(now)s) AS abandons,
  sum(s.wait_s) FILTER (WHERE s.outcome IN ('answered', 'abandoned')
                          AND s.left_at >= %(aht_from)s AND s.left_at < %(now)s) AS waited_s
FROM contact_segments s
WHERE (%(queue)s::text IS NULL OR s.queue = %(queue)s)
  AND (s.queued_at >= %(aht_from)s OR s.handled_at >= %(aht_from)s OR s.left_at >= %(aht_from)s)
GROUP BY s.queue
"""

_STAFFED = """
SELECT q.name, count(*)
FROM agent_states a CROSS JOIN LATERAL unnest(a.queues) AS q(name)
WHERE a.started_at <= %(now)s AND (a.ended_at IS NULL OR a.ended_at > %(now)s)
  AND a.state IN ('available', 'on_call', 'wrap_up')
  AND (%(queue)s::text IS NULL OR q.name = %(queue)s)
GROUP BY q.name
"""


def _observed(
    conn: psycopg.Connection[Any], now: datetime, queue: str | None
) -> tuple[dict[str, tuple[Any, ...]], dict[str, int]]:
    """Per queue (one queue, or all): the last half hour's traffic, and agents staffed now."""
    params = {
        "queue": queue,
        "now": now,
        "rate_from": now - RATE_WINDOW,
        "aht_from": now - AHT_WINDOW,
    }
    traffic = {r[0]: tuple(r[1:]) for r in conn.execute(_OBSERVED, params).fetchall()}
    staffed = {r[0]: int(r[1]) for r in conn.execute(_STAFFED, params).fetchall()}
    return traffic, staffed


def staffing_all(
    conn: psycopg.Connection[Any], config: CallboardConfig, *, queues: list[str], now: datetime
) -> list[dict[str, Any]]:
    """staffing_now for many queues, in two queries."""
    traffic, staffed = _observed(conn, now, None)
    return [_plan_queue(config, q, now, traffic.get(q), staffed.get(q, 0)) for q in queues]


def staffing_now(
    conn: psycopg.Connection[Any], config: CallboardConfig, *, queue: str, now: datetime
) -> dict[str, Any]:
    traffic, staffed = _observed(conn, now, queue)
    return _plan_queue(config, queue, now, traffic.get(queue), staffed.get(queue, 0))


def _plan_queue(
    config: CallboardConfig,
    queue: str,
    now: datetime,
    observed: tuple[Any, ...] | None,
    staffed: int,
) -> dict[str, Any]:
    q = config.queue(queue)
    arrivals, aht, abandons, waited = observed if observed else (0, None, 0, None)
    target = q.targets.get("service_level", DEFAULT_TARGET)
    out: dict[str, Any] = {
        "queue": queue,
        "now": now.isoformat(),
        "arrivals_last_30m": arrivals,
        "aht_s": None if aht is None else round(float(aht), 1),
        "target": target,
        "within_s": q.sl_threshold_s,
        "agents_staffed": staffed,
        # exponential patience, MLE with answered waits as censored: abandons / time waited
        "patience_s": round(float(waited) / abandons, 1) if abandons and waited else None,
    }
    if not arrivals or aht is None or aht <= 0:
        out.update(traffic_erlangs=None, agents_required=None, erlang_c=None, erlang_a=None)
        return out
    per_s = RATE_WINDOW.total_seconds()
    traffic = arrivals * float(aht) / per_s
    out["traffic_erlangs"] = round(traffic, 4)
    out["agents_required"] = agents_required(
        traffic, aht_s=float(aht), target=target, within_s=q.sl_threshold_s
    )
    # projected for the next interval if arrivals and AHT stay as in the last 30 minutes
    out["erlang_c"] = (
        _level(erlang_c_level(traffic, staffed, aht_s=float(aht), within_s=q.sl_threshold_s))
        if staffed
        else None
    )
    out["erlang_a"] = (
        _level(
            erlang_a_level(
                arrivals / per_s,
                staffed,
                aht_s=float(aht),
                patience_s=out["patience_s"],
                within_s=q.sl_threshold_s,
            )
        )
        if staffed and out["patience_s"]
        else None
    )
    return out
