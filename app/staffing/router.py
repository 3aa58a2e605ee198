from typing import Any

from fastapi import APIRouter, Request

from app.auth.deps import Reader
from app.deps import ConnDep
from app.staffing.service import staffing_now

router = APIRouter(prefix="/api/v1", tags=["staffing"])


@router.get("/staffing", summary="Agents required now (Erlang C / A) against agents staffed")
def get_staffing(request: Request, _: Reader, conn: ConnDep, queue: str) -> dict[str, Any]:
    return staffing_now(
        conn, request.app.state.config, queue=queue, now=request.app.state.clock.now()
    )
