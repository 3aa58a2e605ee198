from typing import Any, cast

from fastapi import APIRouter, HTTPException, Request

from app.auth.deps import Supervisor
from app.auth.service import team_of, visible
from app.contacts.schemas import Contact
from app.contacts.service import contacts
from app.deps import ConnDep
from app.metrics.registry import Level
from app.metrics.schemas import MetricRow
from app.metrics.trends import trends
from app.metrics.windows import WindowError, default_name, resolve
from app.ops.params import From, To

router = APIRouter(prefix="/api/v1", tags=["drill-down"])


@router.get(
    "/contacts",
    summary="The contacts behind a queue's or an agent's numbers",
    response_model=list[Contact],
)
def get_contacts(
    request: Request,
    principal: Supervisor,
    conn: ConnDep,
    queue: str | None = None,
    agent: str | None = None,
    window: str | None = None,
    start: From = None,
    to: To = None,
) -> list[dict[str, Any]]:
    if agent is not None and not principal.sees_agent(agent, team_of(conn, [agent]).get(agent)):
        raise HTTPException(403, f"the token may not see agent {agent!r}")
    now = request.app.state.clock.now()
    try:
        w = resolve(
            default_name(window, start, to),
            start,
            to,
            now=now,
            tz=request.app.state.config.defaults.timezone,
        )
    except WindowError as exc:
        raise HTTPException(422, str(exc)) from exc
    rows = contacts(conn, start=w.start, end=w.end, queue=queue, agent=agent)
    rows = visible(conn, principal, rows, agent_key="agent")
    return rows


@router.get(
    "/trends",
    summary="Metrics per 15-minute interval of today (or from/to)",
    response_model=list[MetricRow],
    response_model_exclude_unset=True,
)
def get_trends(
    request: Request,
    principal: Supervisor,
    conn: ConnDep,
    key: str,
    by: str = "queue",
) -> list[dict[str, Any]]:
    if by not in ("center", "queue", "team"):
        raise HTTPException(422, "by must be center, queue or team")
    if by == "team" and not principal.sees_team(key):
        raise HTTPException(403, f"the token may not see team {key!r}")
    now = request.app.state.clock.now()
    config = request.app.state.config
    day = resolve("today", now=now, tz=config.defaults.timezone)
    level = cast(Level, by)
    return trends(conn, config, by=level, key=key, start=day.start, end=now, now=now)
