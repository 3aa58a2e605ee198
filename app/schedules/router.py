"""Schedules for adherence: what each agent was planned to do, when."""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from app.auth.deps import Admin, Supervisor
from app.auth.service import team_of
from app.deps import ConnDep
from app.ops.params import Instant
from app.schedules import service
from app.schedules.schemas import Planned, SchedulePut, Stored, overlaps

router = APIRouter(prefix="/api/v1", tags=["schedules"])


@router.put("/schedules", summary="Replace agents' plans over a range")
def put_schedules(body: SchedulePut, _: Admin, conn: ConnDep) -> Stored:
    problem = overlaps(body.entries)
    if problem:
        raise HTTPException(422, problem)
    n = service.replace(conn, start=body.start, end=body.end, entries=body.entries)
    return Stored(stored=n)


@router.get(
    "/schedules",
    summary="Planned activities overlapping [from, to)",
    response_model=list[Planned],
)
def get_schedules(
    principal: Supervisor,
    conn: ConnDep,
    start: Annotated[Instant, Query(alias="from")],
    to: Instant,
    agent: str | None = None,
) -> list[dict[str, Any]]:
    if start.tzinfo is None or to.tzinfo is None:
        raise HTTPException(422, "from and to need a UTC offset (RFC 3339)")
    rows = service.read(conn, start=start, end=to, agent=agent)
    teams = team_of(conn, sorted({r["agent"] for r in rows}))
    return [r for r in rows if principal.sees_agent(r["agent"], teams.get(r["agent"]))]
