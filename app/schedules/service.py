from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from app.schedules.schemas import ScheduleEntry
from ingest.rollups import refresh_rollups


def replace(
    conn: psycopg.Connection[Any],
    *,
    start: datetime,
    end: datetime,
    entries: Sequence[ScheduleEntry],
) -> int:
    """Replace the named agents' plans over [start, end). Does not commit."""
    agents = sorted({e.agent for e in entries})
    conn.execute(
        "DELETE FROM schedules WHERE agent = ANY(%s) AND starts_at < %s AND ends_at > %s",
        (agents, end, start),
    )
    upsert(conn, entries)
    return len(entries)


def upsert(conn: psycopg.Connection[Any], entries: Sequence[ScheduleEntry]) -> None:
    if not entries:
        return
    conn.execute(
        "INSERT INTO schedules (agent, starts_at, ends_at, activity)"
        " SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::timestamptz[], %s::text[])"
        " ON CONFLICT (agent, starts_at) DO UPDATE"
        " SET ends_at = EXCLUDED.ends_at, activity = EXCLUDED.activity",
        (
            [e.agent for e in entries],
            [e.start for e in entries],
            [e.end for e in entries],
            [e.activity for e in entries],
        ),
    )
    refresh_rollups(conn)  # adherence's plans


def read(
    conn: psycopg.Connection[Any], *, start: datetime, end: datetime, agent: str | None = None
) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT agent, starts_at, ends_at, activity FROM schedules"
        " WHERE starts_at < %(end)s AND ends_at > %(start)s"
        " AND (%(agent)s::text IS NULL OR agent = %(agent)s) ORDER BY agent, starts_at",
        {"start": start, "end": end, "agent": agent},
    ).fetchall()
    return [{"agent": a, "start": s, "end": e, "activity": act} for a, s, e, act in rows]
