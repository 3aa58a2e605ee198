from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from app import migrate
from app.auth.deps import Admin

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness and readiness")
def healthz(request: Request) -> Response:
    """200 when the database answers and its schema is the one this code expects."""
    body: dict[str, Any] = {"status": "ok"}
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            revision = migrate.current_revision(conn)
    except Exception as exc:  # readiness: any database failure means not ready
        return JSONResponse({"status": "unavailable", "database": str(exc)[:200]}, 503)
    body["schema"] = revision
    hub = getattr(request.app.state, "hub", None)
    if hub is not None:
        body["live"] = hub.health()  # snapshot_age_s: the age of the newest live snapshot
    if revision != migrate.head_revision():
        body["status"] = "migration needed"
        body["expected_schema"] = migrate.head_revision()
        return JSONResponse(body, 503)
    return JSONResponse(body)


@router.get("/metrics", summary="Prometheus metrics of the service", include_in_schema=False)
def metrics(request: Request, _: Admin) -> Response:
    return Response(
        generate_latest(request.app.state.telemetry.registry), media_type=CONTENT_TYPE_LATEST
    )
