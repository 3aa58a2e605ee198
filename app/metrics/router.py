"""GET /api/v1/metrics and GET /api/v1/agents/{agent}: the rows of `callboard metrics --json`."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from app.deps import ConnDep
from app.metrics.registry import Level
from app.metrics.service import compute
from app.metrics.windows import WindowError

router = APIRouter(prefix="/api/v1", tags=["metrics"])

WindowName = Annotated[
    str | None,
    Query(description="15m, 30m, 60m, today or interval (default today unless from/to)"),
]
From = Annotated[datetime | None, Query(alias="from", description="RFC 3339, inclusive")]
To = Annotated[datetime | None, Query(description="RFC 3339, exclusive")]


def _window(window: str | None, start: datetime | None, end: datetime | None) -> str | None:
    if window is None and start is None and end is None:
        return "today"
    return window


@router.get("/metrics", summary="Metrics by center, queue, team or agent over a window")
def get_metrics(
    request: Request,
    conn: ConnDep,
    by: Level = "center",
    window: WindowName = None,
    start: From = None,
    to: To = None,
) -> dict[str, Any]:
    try:
        return compute(
            conn,
            request.app.state.config,
            by=by,
            now=request.app.state.clock.now(),
            window=_window(window, start, to),
            start=start,
            end=to,
            config_version=request.app.state.config_version,
        )
    except WindowError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/agents/{agent}", summary="One agent's state and metrics, next to their team's")
def get_agent(
    request: Request,
    conn: ConnDep,
    agent: str,
    window: WindowName = None,
    start: From = None,
    to: To = None,
) -> dict[str, Any]:
    row = conn.execute(
        "SELECT id, display_name, team FROM agents WHERE id = %s", (agent,)
    ).fetchone()
    if row is None:
        raise HTTPException(404, f"no agent {agent!r}")
    config = request.app.state.config
    args: dict[str, Any] = {
        "now": request.app.state.clock.now(),
        "window": _window(window, start, to),
        "start": start,
        "end": to,
        "config_version": request.app.state.config_version,
    }
    try:
        own = compute(conn, config, by="agent", only=agent, **args)
        team = compute(conn, config, by="team", only=row[2], **args) if row[2] else None
    except WindowError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {
        "agent": agent,
        "name": row[1],
        "team": row[2],
        "from": own["from"],
        "to": own["to"],
        "window": own["window"],
        "config_version": own["config_version"],
        "metrics": own["rows"][0],
        "team_metrics": team["rows"][0] if team else None,
    }
