"""The contacts behind a number: the drill-down's last step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

COLUMNS = (
    "call_id",
    "segment",
    "queue",
    "queued_at",
    "outcome",
    "left_at",
    "wait_s",
    "agent",
    "answered_at",
    "talk_s",
    "hold_s",
    "acw_s",
    "handled_at",
    "transferred",
    "ended_by",
    "missed",
    "customer",
    "notes",
)


def contacts(
    conn: psycopg.Connection[Any],
    *,
    start: datetime,
    end: datetime,
    queue: str | None = None,
    agent: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Queue visits that arrived, left the queue or finished handling in [start, end),
    newest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT call_id, segment, queue, queued_at, outcome, left_at, wait_s, agent,"
            " answered_at, talk_s, hold_s, acw_s, handled_at, transferred, ended_by, missed,"
            " customer, notes FROM contact_segments s"
            " WHERE (s.queued_at >= %(start)s AND s.queued_at < %(end)s"
            "     OR s.left_at >= %(start)s AND s.left_at < %(end)s"
            "     OR s.handled_at >= %(start)s AND s.handled_at < %(end)s)"
            " AND (%(queue)s::text IS NULL OR s.queue = %(queue)s)"
            " AND (%(agent)s::text IS NULL OR s.agent = %(agent)s)"
            " ORDER BY coalesce(s.handled_at, s.left_at, s.queued_at) DESC LIMIT %(limit)s",
            {"start": start, "end": end, "queue": queue, "agent": agent, "limit": limit},
        ).fetchall()
    for r in rows:
        for k in ("queued_at", "left_at", "answered_at", "handled_at"):
            if r[k] is not None:
                r[k] = r[k].isoformat()
    return rows
