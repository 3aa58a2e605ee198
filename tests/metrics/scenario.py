"""Small hand-built scenarios: events at minutes:seconds after 08:00Z on 2026-11-20."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import psycopg

from app.config import CallboardConfig
from app.metrics.registry import Level
from app.metrics.service import compute
from ingest.writer import ingest

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
_ids = count()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ev(kind: str, seconds: float, **fields: Any) -> dict[str, Any]:
    ts = at(seconds).isoformat().replace("+00:00", "Z")
    return {"id": f"s{next(_ids)}", "ts": ts, "type": kind, **fields}


def call(
    cid: str,
    queue: str,
    queued: float,
    *,
    answered: float | None = None,
    agent: str = "a1",
    abandoned: float | None = None,
    ended: float | None = None,
    wrapped: float | None = None,
    customer: str | None = None,
    **extra: Any,
) -> list[dict[str, Any]]:
    out = [
        ev(
            "call.queued",
            queued,
            call_id=cid,
            queue=queue,
            **({"customer": customer} if customer else {}),
        )
    ]
    if answered is not None:
        out.append(ev("call.answered", answered, call_id=cid, queue=queue, agent=agent))
    if abandoned is not None:
        out.append(ev("call.abandoned", abandoned, call_id=cid, queue=queue))
    if ended is not None:
        out.append(ev("call.ended", ended, call_id=cid, queue=queue, agent=agent, **extra))
    if wrapped is not None:
        out.append(ev("call.wrapped", wrapped, call_id=cid, agent=agent))
    return out


def state(agent: str, seconds: float, st: str, **fields: Any) -> dict[str, Any]:
    return ev("agent.state", seconds, agent=agent, state=st, **fields)


def rows(
    conn: psycopg.Connection[Any],
    events: list[dict[str, Any]],
    *,
    by: Level,
    start: float | None = None,
    end: float | None = None,
    window: str | None = None,
    now: float = 3600,
    config: CallboardConfig | None = None,
) -> dict[str, dict[str, Any]]:
    if events:
        result = ingest(conn, events)
        assert result.rejected == 0, result.errors
    out = compute(
        conn,
        config or CallboardConfig(),
        by=by,
        now=at(now),
        window=window,
        start=None if start is None else at(start),
        end=None if end is None else at(end),
    )
    return {r["key"]: r for r in out["rows"]}
