"""GET /api/v1/alerts, POST /api/v1/alerts/{id}/ack, GET /api/v1/alerts/{id}/deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Query, Request

from app.alerts import service
from app.alerts.schemas import AckIn, AlertOut, AlertsOut, DeliveryOut
from app.audit.service import record_by
from app.auth.deps import Reader, Supervisor
from app.deps import ConnDep

router = APIRouter(prefix="/api/v1", tags=["alerts"])


@router.get("/alerts", response_model=AlertsOut, summary="Active alerts (and, with all, cleared)")
def get_alerts(
    request: Request,
    principal: Reader,
    conn: ConnDep,
    all: Annotated[bool, Query(description="also the newest cleared alerts")] = False,
    scope: Annotated[str | None, Query(description="one scope; team:T includes its agents")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AlertsOut:
    now = request.app.state.clock.now()
    items = service.listing(conn, principal=principal, scope=scope, cleared=all, limit=limit)
    active = [AlertOut(**i) for i in items if i["cleared_at"] is None]
    cleared = [AlertOut(**i) for i in items if i["cleared_at"] is not None] if all else None
    return AlertsOut.model_validate(
        {"active": active, "cleared": cleared, "meta": {"computed_at": service.iso(now)}}
    )


@router.post(
    "/alerts/{alert_id}/ack", response_model=AlertOut, summary="Acknowledge an alert (who, when)"
)
def ack(
    request: Request,
    principal: Supervisor,
    conn: ConnDep,
    alert_id: int,
    body: Annotated[AckIn | None, Body()] = None,
) -> AlertOut:
    # who acknowledged is who is signed in (a person, or the token's label): never a word
    # from the body, which anyone could write (issue 25, finding 9)
    who = principal.name or principal.role
    if body is not None and body.by is not None and body.by != who:
        raise HTTPException(
            422, f"by: the acknowledger is who is signed in ({who!r}); leave `by` out"
        )
    try:
        done = service.acknowledge(
            conn, alert_id, by=who, now=request.app.state.clock.now(), principal=principal
        )
    except service.AckError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    record_by(
        conn,
        principal,
        action="alert.ack",
        address=request.client.host if request.client else None,
        target=f"alert {alert_id} ({done['scope']})",
    )
    return AlertOut(**done)


@router.get(
    "/alerts/{alert_id}/deliveries",
    response_model=list[DeliveryOut],
    summary="Each notification of an alert and every delivery attempt",
)
def get_deliveries(principal: Supervisor, conn: ConnDep, alert_id: int) -> list[DeliveryOut]:
    found = service.listing_one(conn, alert_id)
    if found is None:
        raise HTTPException(404, f"no alert {alert_id}")
    if not service.may_see(principal, found["scope"], service.teams_for(conn, [found])):
        raise HTTPException(403, f"the token may not see alert {alert_id}")
    return [DeliveryOut.model_validate(d) for d in service.deliveries(conn, alert_id)]
