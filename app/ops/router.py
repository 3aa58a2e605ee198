import functools
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app import migrate
from app.auth.deps import Admin
from app.ops.postmaster import read_status
from app.ops.schemas import Health

router = APIRouter(tags=["operations"])


HEALTH_WAIT_S = 0.8


# the code's own head: read from the migration files once, not on every probe
_head_revision = functools.cache(migrate.head_revision)


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
            return None
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if version is None else str(version)


@router.get(
    "/healthz",
    summary="Liveness and readiness",
    response_model=None,
    responses={
        200: {"model": Health, "description": "ready"},
        503: {"model": Health, "description": "not ready: the database, or its schema"},
    },
)
async def healthz(request: Request) -> Response:
    """200 when the database answers and its schema is the one this code expects; 503 with
    the reason otherwise. Answers within a second whatever the load: its connection comes
    from a pool of its own and it waits at most HEALTH_WAIT_S for it."""
    state = request.app.state
    body: dict[str, Any] = {"status": "ok"}
    status_file = state.settings.embedded_status
    if status_file is not None:
        body["database"] = "embedded"
        body["postmaster"] = read_status(status_file)
    else:
        body["database"] = "external"
    revision: str | None = None
    try:
        with anyio.fail_after(HEALTH_WAIT_S):
            revision = await anyio.to_thread.run_sync(
                _revision,
                state.side_engine,
                limiter=state.health_limiter.get(),
                abandon_on_cancel=True,
            )
    except TimeoutError:
        body.update(status="unavailable", error=f"no answer within {HEALTH_WAIT_S} s")
        return JSONResponse(body, 503, headers={"Retry-After": "2"})
    except Exception as exc:  # readiness: any database failure means not ready
        body.update(status="unavailable", error=str(exc)[:200])
        return JSONResponse(body, 503, headers={"Retry-After": "2"})
    body["schema"] = revision
    hub = getattr(request.app.state, "hub", None)
    if hub is not None:
        body["live"] = hub.health()  # snapshot_age_s: the age of the newest live snapshot
    if revision != _head_revision():
        body["status"] = "migration needed"
        body["expected_schema"] = _head_revision()
        return JSONResponse(body, 503)
    return JSONResponse(body)


@router.get("/metrics", summary="Prometheus metrics of the service", include_in_schema=False)
def metrics(request: Request, _: Admin) -> Response:
    return Response(
        generate_latest(request.app.state.telemetry.registry), media_type=CONTENT_TYPE_LATEST
    )
