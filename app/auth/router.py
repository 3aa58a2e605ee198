from typing import Any

from fastapi import APIRouter, Request

from app.auth.deps import PrincipalDep

router = APIRouter(prefix="/api/v1", tags=["access"])


@router.get("/me", summary="What the token is, and the teams whose live topics it may read")
def me(request: Request, principal: PrincipalDep) -> dict[str, Any]:
    teams = (
        sorted(request.app.state.config.teams)
        if principal.role == "admin"
        else sorted(principal.teams)
        if principal.role == "supervisor"
        else []
    )
    return {"role": principal.role, "agent": principal.agent, "teams": teams}
