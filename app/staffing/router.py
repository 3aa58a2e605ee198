from typing import Any

from fastapi import APIRouter, Request

from app.auth.deps import Reader
from app.deps import ConnDep
from app.staffing.schemas import CenterStaffing, QueueStaffing
from app.staffing.service import staffing_center, staffing_now

router = APIRouter(prefix="/api/v1", tags=["staffing"])


@router.get(
    "/staffing",
    summary="Agents required now (Erlang C / A) against agents staffed: one queue, or the center",
    response_model=CenterStaffing | QueueStaffing,
    response_model_exclude_unset=True,
)
def get_staffing(
    request: Request, _: Reader, conn: ConnDep, queue: str | None = None
) -> dict[str, Any]:
    """With `queue`: that queue. Without: the center (distinct agents logged in and staffed,
    the queues' requirements summed, the projected SL) and every queue."""
    config, now = request.app.state.config, request.app.state.clock.now()
    if queue is None:
        queues = [r[0] for r in conn.execute("SELECT name FROM queues ORDER BY name").fetchall()]
        return staffing_center(conn, config, queues=queues, now=now)
    return staffing_now(conn, config, queue=queue, now=now)
