from typing import Any

from fastapi import APIRouter, HTTPException, Request

from app.auth.deps import Reader
from app.auth.service import visible
from app.deps import ConnDep
from app.metrics.registry import Level
from app.metrics.windows import WindowError, default_name
from app.ops.params import From, To
from app.scorecard.schemas import ScorecardsOut
from app.scorecard.service import scorecards
from app.screens.words import flag_text

router = APIRouter(prefix="/api/v1", tags=["scorecards"])


@router.get(
    "/scorecards",
    summary="Balanced scorecards with strong/weak flags",
    response_model=ScorecardsOut,
    response_model_exclude_unset=True,
)
def get_scorecards(
    request: Request,
    principal: Reader,
    conn: ConnDep,
    level: Level = "agent",
    window: str | None = None,
    start: From = None,
    to: To = None,
) -> dict[str, Any]:
    if level == "agent" and principal.role == "wallboard":
        raise HTTPException(403, "the wallboard role sees aggregates only")
    try:
        result = scorecards(
            conn,
            request.app.state.config,
            level=level,
            now=request.app.state.clock.now(),
            window=default_name(window, start, to),
            start=start,
            end=to,
        )
    except WindowError as exc:
        raise HTTPException(422, str(exc)) from exc
    if level == "agent":
        result["rows"] = visible(conn, principal, result["rows"])
    elif level == "team":
        result["rows"] = [r for r in result["rows"] if principal.sees_team(r["key"])]
    for row in result["rows"]:
        # codes with parameters for programs; the words (English) for people
        row["flags"] = [{**f, "text": flag_text(f)} for f in row["flags"]]
    return result
