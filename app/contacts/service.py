"""The contacts behind a number: the drill-down's last step, and one contact's timeline."""

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
    "csat",
    "nps",
)


def contacts(
    conn: psycopg.Connection[Any],
    *,
    start: datetime,
    end: datetime,
    queue: str | None = None,
    agent: str | None = None,
    agents: list[str] | None = None,
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Queue visits that arrived, left the queue or finished handling in [start, end),
    newest first (by arrival); `agents` limits them to those agents' contacts (a team)."""
    params = {
        "start": start,
        "end": end,
        "queue": queue,
        "agent": agent,
        "agents": agents,
        "limit": limit,
        "offset": offset,
    }
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT call_id, segment, queue, queued_at, outcome, left_at, wait_s, agent,"
            " answered_at, talk_s, hold_s, acw_s, handled_at, transferred, ended_by, missed,"
            " customer, notes, fb.csat, fb.nps FROM contact_segments s"
            " LEFT JOIN LATERAL (SELECT avg(f.csat)::float AS csat, avg(f.nps)::float AS nps"
            "   FROM feedback f WHERE f.call_id = s.call_id AND f.kind = 'survey') fb ON true"
            " WHERE (s.queued_at >= %(start)s AND s.queued_at < %(end)s"
            "     OR s.left_at >= %(start)s AND s.left_at < %(end)s"
            "     OR s.handled_at >= %(start)s AND s.handled_at < %(end)s)"
            " AND (%(queue)s::text IS NULL OR s.queue = %(queue)s)"
            " AND (%(agent)s::text IS NULL OR s.agent = %(agent)s)"
            " AND (%(agents)s::text[] IS NULL OR s.agent = ANY(%(agents)s))"
            " ORDER BY coalesce(s.queued_at, s.left_at, s.handled_at) DESC, s.call_id,"
            " s.segment LIMIT %(limit)s OFFSET %(offset)s",
            params,
        ).fetchall()
    for r in rows:
        for k in ("queued_at", "left_at", "answered_at", "handled_at"):
            if r[k] is not None:
                r[k] = r[k].isoformat()
    return rows


def count(
    conn: psycopg.Connection[Any],
    *,
    start: datetime,
    end: datetime,
    queue: str | None = None,
    agent: str | None = None,
    agents: list[str] | None = None,
) -> int:
    row = conn.execute(
        "SELECT count(*) FROM contact_segments s"
        " WHERE (s.queued_at >= %(start)s AND s.queued_at < %(end)s"
        "     OR s.left_at >= %(start)s AND s.left_at < %(end)s"
        "     OR s.handled_at >= %(start)s AND s.handled_at < %(end)s)"
        " AND (%(queue)s::text IS NULL OR s.queue = %(queue)s)"
        " AND (%(agent)s::text IS NULL OR s.agent = %(agent)s)"
        " AND (%(agents)s::text[] IS NULL OR s.agent = ANY(%(agents)s))",
        {"start": start, "end": end, "queue": queue, "agent": agent, "agents": agents},
    ).fetchone()
    return int(row[0]) if row else 0


def timeline(conn: psycopg.Connection[Any], call_id: str) -> list[dict[str, Any]]:
    """Every stored event of one contact, in the order they happened."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT ts, type, queue, agent, data FROM events WHERE call_id = %s ORDER BY ts, seq",
            (call_id,),
        ).fetchall()
