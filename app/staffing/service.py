"""Staffing now and for the next interval: Erlang C from the last 30 minutes' arrivals and
AHT, Erlang A with the customers' patience estimated from the data's abandons."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from app.config import CallboardConfig
from app.staffing.erlang import (
    Level,
    OutOfRange,
    agents_required,
    erlang_a_level,
    erlang_c_level,
    scheduled_required,
)

log = logging.getLogger(__name__)

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

_AGENTS_NOW = """
SELECT DISTINCT ON (a.agent) a.agent, a.state, coalesce(a.queues, '{}')
FROM agent_states a
WHERE a.started_at <= %(now)s AND (a.ended_at IS NULL OR a.ended_at > %(now)s)
ORDER BY a.agent, a.started_at DESC
"""

STAFFED_STATES = frozenset({"available", "on_call", "wrap_up"})
ASSUMES = (
    "arrivals and AHT stay as in the last 30 minutes; an agent serving several queues gives "
    "each a share of their time in proportion to its traffic (equal shares while none has "
    "traffic); the projection uses the whole agents so available to the queue (rounded down)"
)


@dataclass(frozen=True)
class Floor:
    """Who is on the floor now: distinct agents, and each queue's agents (whole and shared)."""

    logged_in: int
    staffed: int
    serving: dict[str, int]
    available_to: dict[str, float]


def _floor(conn: psycopg.Connection[Any], now: datetime, traffic: dict[str, float]) -> Floor:
    rows = conn.execute(_AGENTS_NOW, {"now": now}).fetchall()
    logged_in = staffed = 0
    serving: dict[str, int] = defaultdict(int)
    share: dict[str, float] = defaultdict(float)
    for _agent, state, queues in rows:
        if state == "logged_out":
            continue
        logged_in += 1
        if state not in STAFFED_STATES:
            continue
        staffed += 1
        served = sorted(set(queues))
        for q in served:
            serving[q] += 1
        load = {q: traffic.get(q, 0.0) for q in served}
        total = sum(load.values())
        for q in served:
            share[q] += load[q] / total if total > 0 else 1 / len(served)
    return Floor(logged_in, staffed, dict(serving), dict(share))


def _observed(
    conn: psycopg.Connection[Any], now: datetime, queue: str | None
) -> tuple[dict[str, tuple[Any, ...]], Floor]:
    """Per queue (one queue, or all): the last half hour's traffic; and who is on the floor.
    Shares need every queue's traffic (an agent of this queue may serve others too)."""
    params = {
        "queue": None,
        "now": now,
        "rate_from": now - RATE_WINDOW,
        "aht_from": now - AHT_WINDOW,
    }
    traffic = {r[0]: tuple(r[1:]) for r in conn.execute(_OBSERVED, params).fetchall()}
    erlangs = {
        q: arrivals * float(aht) / RATE_WINDOW.total_seconds()
        for q, (arrivals, aht, _, _) in traffic.items()
        if arrivals and aht is not None and aht > 0
    }
    if queue is not None:
        traffic = {queue: traffic[queue]} if queue in traffic else {}
    return traffic, _floor(conn, now, erlangs)


def staffing_all(
    conn: psycopg.Connection[Any], config: CallboardConfig, *, queues: list[str], now: datetime
) -> list[dict[str, Any]]:
    """staffing_now for many queues, in two queries. One queue's failure makes that queue's
    figures unavailable (with the reason), never the others'."""
    traffic, floor = _observed(conn, now, None)
    return [_plan_safely(config, q, now, traffic.get(q), floor) for q in queues]


def staffing_now(
    conn: psycopg.Connection[Any], config: CallboardConfig, *, queue: str, now: datetime
) -> dict[str, Any]:
    traffic, floor = _observed(conn, now, queue)
    return _plan_safely(config, queue, now, traffic.get(queue), floor)


def staffing_center(
    conn: psycopg.Connection[Any], config: CallboardConfig, *, queues: list[str], now: datetime
) -> dict[str, Any]:
    """The center's headline: distinct agents (a multi-skilled agent counts once), the sum of
    the queues' requirements, and the projected SL weighted by each queue's arrivals."""
    traffic, floor = _observed(conn, now, None)
    per_queue = [_plan_safely(config, q, now, traffic.get(q), floor) for q in queues]
    required = 0
    projected_num = projected_den = 0.0
    unavailable = [q["queue"] for q in per_queue if q["unavailable"]]
    for q in per_queue:
        required += q.get("agents_required") or 0
        level = q.get("erlang_c")
        if level and q.get("arrivals_last_30m") and level["service_level"] is not None:
            projected_num += level["service_level"] * q["arrivals_last_30m"]
            projected_den += q["arrivals_last_30m"]
    return {
        "now": now.isoformat(),
        "agents_logged_in": floor.logged_in,
        "agents_staffed": floor.staffed,
        "agents_required": required,
        "projected_sl": round(projected_num / projected_den, 4) if projected_den else None,
        "queues_unavailable": unavailable,
        "assumes": "required is the sum of each queue's Erlang C requirement (no pooling "
        "between queues); " + ASSUMES,
        "queues": per_queue,
    }


def _plan_safely(
    config: CallboardConfig,
    queue: str,
    now: datetime,
    observed: tuple[Any, ...] | None,
    floor: Floor,
) -> dict[str, Any]:
    try:
        return _plan_queue(config, queue, now, observed, floor)
    except Exception as exc:  # one queue's bad figure must not take the tick or the route down
        log.exception("staffing of queue %r failed", queue)
        return {
            "queue": queue,
            "now": now.isoformat(),
            "agents_serving": floor.serving.get(queue, 0),
            "agents_staffed": floor.serving.get(queue, 0),
            "agents_available": None,
            "traffic_erlangs": None,
            "agents_required": None,
            "erlang_c": None,
            "erlang_a": None,
            "assumes": ASSUMES,
            "unavailable": {"staffing": f"could not be computed: {type(exc).__name__}"},
        }


def _attempt(unavailable: dict[str, str], figure: str, compute: Callable[[], Any]) -> Any:
    try:
        return compute()
    except OutOfRange as exc:
        unavailable[figure] = str(exc)
        return None


def _plan_queue(
    config: CallboardConfig,
    queue: str,
    now: datetime,
    observed: tuple[Any, ...] | None,
    floor: Floor,
) -> dict[str, Any]:
    q = config.queue(queue)
    arrivals, aht, abandons, waited = observed if observed else (0, None, 0, None)
    target = q.targets.get("service_level", DEFAULT_TARGET)
    share = floor.available_to.get(queue, 0.0)
    available = math.floor(share + 1e-9)
    unavailable: dict[str, str] = {}
    out: dict[str, Any] = {
        "queue": queue,
        "now": now.isoformat(),
        "arrivals_last_30m": arrivals,
        "aht_s": None if aht is None else round(float(aht), 1),
        "target": target,
        "within_s": q.sl_threshold_s,
        # agents in a staffed state whose queues name this one (each counted in every queue)
        "agents_serving": floor.serving.get(queue, 0),
        "agents_staffed": floor.serving.get(queue, 0),  # the older name of agents_serving
        # their time for this queue, shared among their queues by traffic
        "agents_available": round(share, 2),
        "projected_with": available,
        "assumes": ASSUMES,
        # exponential patience, MLE with answered waits as censored: abandons / time waited
        "patience_s": round(float(waited) / abandons, 1) if abandons and waited else None,
        "unavailable": unavailable,
    }
    if not arrivals or aht is None or aht <= 0:
        out.update(traffic_erlangs=None, agents_required=None, erlang_c=None, erlang_a=None)
        return out
    per_s = RATE_WINDOW.total_seconds()
    aht_s = float(aht)
    traffic = arrivals * aht_s / per_s
    within = q.sl_threshold_s
    out["traffic_erlangs"] = round(traffic, 4)
    out["agents_required"] = _attempt(
        unavailable,
        "agents_required",
        lambda: agents_required(traffic, aht_s=aht_s, target=target, within_s=within),
    )
    # projected for the next interval if arrivals and AHT stay as in the last 30 minutes
    out["erlang_c"] = (
        _attempt(
            unavailable,
            "erlang_c",
            lambda: _level(erlang_c_level(traffic, available, aht_s=aht_s, within_s=within)),
        )
        if available
        else None
    )
    patience = out["patience_s"]
    out["erlang_a"] = (
        _attempt(
            unavailable,
            "erlang_a",
            lambda: _level(
                erlang_a_level(
                    arrivals / per_s,
                    available,
                    aht_s=aht_s,
                    patience_s=patience,
                    within_s=within,
                )
            ),
        )
        if available and patience
        else None
    )
    return out
