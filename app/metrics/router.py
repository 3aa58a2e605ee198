"""GET /api/v1/metrics and GET /api/v1/agents/{agent}: the rows of `callboard metrics --json`."""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from app.auth.deps import Reader
from app.auth.service import visible
from app.deps import ConnDep
from app.metrics.registry import Level
from app.metrics.schemas import AgentOut, MetricsOut
from app.metrics.service import compute
from app.metrics.windows import WindowError, default_name
from app.ops.params import From, To

router = APIRouter(prefix="/api/v1", tags=["metrics"])

WindowName = Annotated[
    str | None,
    Query(description="15m, 30m, 60m, today or interval (default today unless from/to)"),
]


@router.get(
    "/metrics",
    summary="Metrics by center, queue, team or agent over a window",
    response_model=MetricsOut,
    response_model_exclude_unset=True,
)
def get_metrics(
    request: Request,
    principal: Reader,
    conn: ConnDep,
    by: Level = "center",
    window: WindowName = None,
    start: From = None,
    to: To = None,
) -> dict[str, Any]:
    if by == "agent" and principal.role == "wallboard":
        raise HTTPException(403, "the wallboard role sees aggregates only")
    try:
        result = compute(
            conn,
            request.app.state.config,
            by=by,
            now=request.app.state.clock.now(),
            window=default_name(window, start, to),
            start=start,
            end=to,
            config_version=request.app.state.config_version,
        )
    except WindowError as exc:
        raise HTTPException(422, str(exc)) from exc
    # rows outside what the token may see are left out, not refused
    if by == "team":
        result["rows"] = [r for r in result["rows"] if principal.sees_team(r["key"])]
    elif by == "agent":
        result["rows"] = visible(conn, principal, result["rows"])
    return result


@router.get(
    "/agents/{agent}",
    summary="One agent's state and metrics, next to their team's",
    response_model=AgentOut,
    response_model_exclude_unset=True,
)
def get_agent(
    request: Request,
    principal: Reader,
    conn: ConnDep,
    agent: str,
    window: WindowName = None,
    start: From = None,
    to: To = None,
) -> dict[str, Any]:
    row = conn.execute(
        "SELECT id, display_name, team FROM agents WHERE id = %s", (agent,)
    ).fetchone()
    if row is None or not principal.sees_agent(agent, row[2]):
        # the same answer for "no such agent" and "not yours": an agent id is not a secret
        # worth guarding, but other agents' existence is not the caller's business either
        if row is None or principal.role == "admin":
            raise HTTPException(404, f"no agent {agent!r}")
        raise HTTPException(403, f"the token may not see agent {agent!r}")
    config = request.app.state.config
    args: dict[str, Any] = {
        "now": request.app.state.clock.now(),
        "window": default_name(window, start, to),
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
