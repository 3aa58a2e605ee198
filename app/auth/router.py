from fastapi import APIRouter, Request
from pydantic import BaseModel

from app.auth.deps import PrincipalDep

router = APIRouter(prefix="/api/v1", tags=["access"])


class Me(BaseModel):
    role: str
    agent: str | None
    teams: list[str]


@router.get("/me", summary="What the token is, and the teams whose live topics it may read")
def me(request: Request, principal: PrincipalDep) -> Me:
    teams = (
        sorted(request.app.state.config.teams)
        if principal.role == "admin"
        else sorted(principal.teams)
        if principal.role == "supervisor"
        else []
    )
    return Me(role=principal.role, agent=principal.agent, teams=teams)
