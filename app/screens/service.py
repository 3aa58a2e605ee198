"""What the screens read besides the live topics: trends, contacts, a contact's timeline,
adherence now, a break's plan. Plain functions over a connection; views from app/screens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from app.config import CallboardConfig
from app.contacts import service as contacts_service
from app.metrics.registry import Level
from app.metrics.trends import trends
from app.metrics.windows import local_midnight
from app.screens.levels import cell, timer
from app.screens.schemas import (
    AdherenceRow,
    Cell,
    ContactRow,
    Contacts,
    Timeline,
    TimelineEvent,
    Trend,
    TrendPoint,
)

STEP = timedelta(minutes=15)


def day_trends(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    by: Level,
    keys: list[str],
    now: datetime,
) -> dict[str, Trend]:
    """Service level, answered and abandoned per 15 minutes of today, for several keys of one
    level at once (one statement for all of them: app/metrics/trends.py). Starts at the first
    busy interval of each."""
    tz = config.defaults.timezone
    zone = ZoneInfo(tz)
    midnight = local_midnight(now, tz)
    found = trends(conn, config, by=by, keys=keys, start=midnight, end=now, now=now, step=STEP)
    per_key: dict[str, list[TrendPoint]] = {}
    for key in keys:
        targets = config.queue(key).targets if by == "queue" else config.defaults.targets
        per_key[key] = [
            TrendPoint(
                start=datetime.fromisoformat(r["from"]).astimezone(zone).strftime("%H:%M"),
                service_level=cell(
                    config.screens, "service_level", r.get("service_level"), "percent", targets
                ),
                answered=int(r.get("answered") or r.get("handled") or 0),
                abandoned=int(r.get("abandoned") or 0),
            )
            for r in found[key]
        ]
    out = {}
    for key, points in per_key.items():
        busy = [i for i, p in enumerate(points) if p.answered or p.abandoned]
        target = config.queue(key).targets.get("service_level") if by == "queue" else None
        out[key] = Trend(key=key, by=by, target=target, points=points[busy[0] :] if busy else [])
    return out


def local(iso: str | None, tz: str) -> str | None:
    if iso is None:
        return None
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(tz)).strftime("%H:%M:%S")


def contact_page(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    start: datetime,
    end: datetime,
    queue: str | None,
    agent: str | None,
    agents: list[str] | None,
    page: int,
    size: int,
) -> tuple[Contacts, list[dict[str, Any]]]:
    """One page of contacts, newest first, times in the center's zone; also the raw rows
    (the caller filters them by what the token may see)."""
    total = contacts_service.count(
        conn, start=start, end=end, queue=queue, agent=agent, agents=agents
    )
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    raw = contacts_service.contacts(
        conn,
        start=start,
        end=end,
        queue=queue,
        agent=agent,
        agents=agents,
        limit=size,
        offset=(page - 1) * size,
    )
    tz = config.defaults.timezone
    return Contacts(rows=[], page=page, pages=pages, total=total, timezone=tz), raw


def contact_rows(config: CallboardConfig, raw: list[dict[str, Any]]) -> list[ContactRow]:
    tz = config.defaults.timezone
    s = config.screens
    out = []
    for r in raw:
        targets = config.queue(r["queue"]).targets if r.get("queue") else None
        out.append(
            ContactRow(
                call_id=r["call_id"],
                segment=r["segment"],
                queue=r.get("queue"),
                queued_at=local(r.get("queued_at"), tz),
                outcome=r.get("outcome"),
                wait=cell(s, "asa_s", r.get("wait_s"), "seconds", targets),
                agent=r.get("agent"),
                talk=Cell(value=r.get("talk_s"), unit="seconds"),
                acw=Cell(value=r.get("acw_s"), unit="seconds"),
                transferred=bool(r.get("transferred")),
                ended_by=r.get("ended_by"),
                csat=cell(s, "csat_score", r.get("csat"), "score"),
                nps=Cell(value=r.get("nps"), unit="score"),
                notes="; ".join(r.get("notes") or []) or None,
            )
        )
    return out


# an event's particulars a timeline shows (in words: sup.event.detail.<name>)
TIMELINE_DETAILS = ("ended_by", "reason", "to_queue", "to_agent", "csat", "nps", "score")


def contact_timeline(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    call_id: str,
    *,
    until: datetime | None = None,
) -> tuple[Timeline, list[str]]:
    """The contact's events (up to `until`) and the agents they name (the caller checks it
    may see them)."""
    tz = config.defaults.timezone
    zone = ZoneInfo(tz)
    events = contacts_service.timeline(conn, call_id)
    if until is not None:
        events = [e for e in events if e["ts"] <= until]
    out = []
    agents = sorted({e["agent"] for e in events if e.get("agent")})
    for e in events:
        data = e.get("data") or {}
        shown = {k: v for k, v in sorted(data.items()) if k in TIMELINE_DETAILS}
        detail = ", ".join(f"{k}: {v}" for k, v in shown.items())
        out.append(
            TimelineEvent(
                at=e["ts"].astimezone(zone).strftime("%H:%M:%S"),
                type=e["type"],
                queue=e.get("queue"),
                agent=e.get("agent"),
                detail=detail or None,
                data=shown,
            )
        )
    return Timeline(call_id=call_id, events=out, timezone=tz), agents


PRODUCTIVE_STATES = ("available", "on_call", "wrap_up")


def adherence_now(
    conn: psycopg.Connection[Any], config: CallboardConfig, *, now: datetime
) -> list[AdherenceRow]:
    """Agents whose state now is not what their schedule plans now (productive <-> on the
    phones; anything else <-> away)."""
    rows = conn.execute(
        "SELECT sc.agent, sc.activity, sc.ends_at, a.state, a.started_at FROM schedules sc"
        " LEFT JOIN agent_states a ON a.agent = sc.agent AND a.ended_at IS NULL"
        " WHERE sc.starts_at <= %(now)s AND sc.ends_at > %(now)s ORDER BY sc.agent",
        {"now": now},
    ).fetchall()
    tz = config.defaults.timezone
    out = []
    for agent, activity, ends_at, state, since in rows:
        on_phones = state in PRODUCTIVE_STATES
        if (activity == "productive") == on_phones and state is not None:
            continue
        if activity == "productive" and state in (None, "logged_out"):
            pass  # planned on the phones, not logged in: out of adherence
        out.append(
            AdherenceRow(
                agent=agent,
                planned=activity,
                state=state,
                since=timer(since.isoformat() if since else None, 120, 600),
                planned_until=local(ends_at.isoformat(), tz) if ends_at else None,
            )
        )
    return out


def planned_now(
    conn: psycopg.Connection[Any], *, agent: str, now: datetime
) -> dict[str, Any] | None:
    """The agent's planned activity now; for an agent still away after a planned break has
    ended, that break (its end is in the past: the widget counts how far it runs over)."""
    row = conn.execute(
        "SELECT activity, starts_at, ends_at FROM schedules"
        " WHERE agent = %s AND starts_at <= %s AND ends_at > %s",
        (agent, now, now),
    ).fetchone()
    if row is None or row[0] == "productive":
        over = conn.execute(
            "SELECT sc.activity, sc.starts_at, sc.ends_at FROM schedules sc"
            " JOIN agent_states a ON a.agent = sc.agent AND a.ended_at IS NULL"
            " AND a.state = 'away'"
            " WHERE sc.agent = %s AND sc.activity <> 'productive' AND sc.ends_at <= %s"
            " AND sc.ends_at > a.started_at ORDER BY sc.ends_at DESC LIMIT 1",
            (agent, now),
        ).fetchone()
        row = over or row
    if row is None:
        return None
    return {"activity": row[0], "start": row[1].isoformat(), "end": row[2].isoformat()}
