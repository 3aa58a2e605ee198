"""Scorecards for agents, teams and queues over a window; the center's balances."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from app.config import CallboardConfig, KpiTarget
from app.metrics.registry import Level
from app.metrics.service import compute, compute_many
from app.rollups.read import window_parts
from app.scorecard.scoring import DEFAULT_CARD, balances, flags, score
from app.staffing.service import staffing_center


def card(config: CallboardConfig, name: str | None) -> dict[str, KpiTarget]:
    name = name or "default"
    return dict(config.scorecards.get(name) or DEFAULT_CARD)


def card_name(config: CallboardConfig, level: Level, key: str, team: str | None) -> str | None:
    if level == "agent" and team in config.teams:
        return config.teams[team].scorecard
    if level == "team" and key in config.teams:
        return config.teams[key].scorecard
    if level == "queue" and key in config.queues:
        return config.queues[key].scorecard
    return None


def scorecards(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    level: Level,
    now: datetime,
    window: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    result = _metrics(conn, config, level=level, now=now, window=window, start=start, end=end)
    rows = result["rows"]
    result["rows"] = rank(scored(config, level, rows))
    if level == "center" and rows:
        result["balances"] = center_balances(conn, config, rows[0], now=now)
    return result


def _metrics(
    conn: psycopg.Connection[Any],
    config: CallboardConfig,
    *,
    level: Level,
    now: datetime,
    window: str | None,
    start: datetime | None,
    end: datetime | None,
) -> dict[str, Any]:
    """The level's metric rows over the window, as `compute` gives them. A range (a week, a
    month) is read as the trends and reports read one: its whole 15-minute intervals from the
    rollups, at most two partial edges from the rows (app/rollups/read.py); a named window,
    or a range while the rollups do not serve, from the rows."""
    if window is None and start is not None and end is not None and start < end:
        found = window_parts(conn, config, by=level, start=start, end=end, now=now)
        if found is not None:
            given: dict[Level, dict[str, dict[str, Any]]] = {level: found}
            return compute_many(
                conn, config, levels=(level,), now=now, start=start, end=end, given=given
            )[level]
    return compute(conn, config, by=level, now=now, window=window, start=start, end=end)


def scored(
    config: CallboardConfig, level: Level, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Scores and flags of rows of one level (agents are judged against their team)."""
    out = []
    for row in rows:
        team = row.get("team") if level == "agent" else None
        peers = [r for r in rows if r.get("team") == team] if level == "agent" else rows
        chosen = card_name(config, level, row["key"], team)
        lines = card(config, chosen)
        s = score(row, lines, config.balance)
        s["scorecard"] = chosen or "default"
        s["flags"] = flags(
            row,
            peers,
            lines,
            config.balance,
            peer={"agent": "team", "team": "teams", "queue": "queues"}.get(level, "center"),
        )
        if level == "agent":
            s["team"] = team
        out.append(s)
    return out


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Highest score first; scores on too few contacts and no score after the rest."""
    return sorted(
        rows, key=lambda r: (not r["meaningful"], r["score"] is None, -(r["score"] or 0), r["key"])
    )


def center_balances(
    conn: psycopg.Connection[Any], config: CallboardConfig, center: dict[str, Any], *, now: datetime
) -> dict[str, Any]:
    queues = [r[0] for r in conn.execute("SELECT name FROM queues ORDER BY name").fetchall()]
    # distinct agents: a multi-skilled agent counts once (staffing_center)
    floor = staffing_center(conn, config, queues=queues, now=now)
    interval = compute(conn, config, by="center", now=now, window="interval")["rows"][0]
    return balances(
        center,
        required=floor["agents_required"],
        staffed=floor["agents_staffed"],
        projected_sl=floor["projected_sl"],
        interval_sl=interval.get("service_level"),
    )
