"""GET /api/v1/audit: the audit trail, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from app.audit import service
from app.audit.schemas import AuditEntryOut
from app.auth.deps import Admin
from app.deps import ConnDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", response_model=list[AuditEntryOut], summary="Who did what, when, from where")
def get_audit(
    _: Admin,
    conn: ConnDep,
    since: Annotated[datetime | None, Query(description="ISO time; entries from then on")] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="an action (or its group: wall, token)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[AuditEntryOut]:
    return [
        AuditEntryOut.model_validate(e)
        for e in service.entries(conn, since=since, action=action, limit=limit)
    ]
