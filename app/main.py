"""The ASGI application: API, operations routes and (later) the Dash screens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from app import db
from app.alerts.router import router as alerts_router
from app.alerts.runner import running as alerts_running
from app.audit.router import router as audit_router
from app.audit.service import prune as prune_audit
from app.auth.attempts import Attempts
from app.auth.pairing_router import router as pairing_router
from app.auth.renewal import Renewals, renew_watched
from app.auth.router import router as auth_router
from app.auth.signin import router as signin_router
from app.auth.tokens import TokenCache, engine_known, engine_lookup
from app.auth.transport import TokenTransport
from app.config import CallboardConfig, current_config, load_config, store_config
from app.contacts.router import router as contacts_router
from app.events.router import EVENTS_SCHEMA
from app.events.router import router as events_router
from app.forecast.router import router as forecast_router
from app.live.hub import Hub
from app.live.router import router as live_router
from app.metrics.router import router as metrics_router
from app.ops import docs, logs
from app.ops.guard import InputGuard, SecurityHeaders, install_errors
from app.ops.loops import PerLoop
from app.ops.router import router as ops_router
from app.ops.telemetry import Telemetry, install
from app.reports.router import router as reports_router
from app.reports.runner import running as reports_running
from app.rollups.service import rebuild_if_outdated
from app.schedules.router import router as schedules_router
from app.scorecard.router import router as scorecard_router
from app.screens.router import router as screens_router
from app.settings import Settings, get_settings
from app.sources.health import install as install_source_gauges
from app.sources.router import router as sources_router
from app.staffing.router import router as staffing_router


def _startup_config(engine: Engine, settings: Settings) -> tuple[int, CallboardConfig]:
    """The file when CALLBOARD_CONFIG names one (stored as a new version if it changed);
    otherwise the newest stored version, so a restart without the file loses nothing."""
    with engine.begin() as conn:
        pg: Any = conn.connection.driver_connection
        if settings.config is None:
            stored = current_config(pg)
            if stored is not None:
                rebuild_if_outdated(pg, stored[1])
                return stored
        config = load_config(settings.config)
        version = store_config(pg, config, origin=str(settings.config or "defaults"))
        # the interval rollups for the thresholds in force (built once, kept by every write)
        rebuild_if_outdated(pg, config)
        return version, config


async def _prune_audit(app: FastAPI) -> None:
    """The audit trail keeps `[audit] keep_days`: pruned at start and hourly."""
    import logging

    def prune() -> None:
        with app.state.engine.begin() as conn:
            prune_audit(
                conn.connection.driver_connection, keep_days=app.state.config.audit.keep_days
            )

    while True:
        try:
            await anyio.to_thread.run_sync(prune)
        except Exception:  # the database away: the next hour tries again
            logging.getLogger(__name__).exception("pruning the audit trail failed")
        await anyio.sleep(3600)


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """`engine` is for tests and embedding: when given, the app uses it and does not own it."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if engine is None:
                url = stack.enter_context(db.database_url(settings))
                app.state.engine = db.server_engine(url)
                stack.callback(app.state.engine.dispose)
            else:
                app.state.engine = engine
            app.state.side_engine = db.side_engine(
                app.state.engine.url.render_as_string(hide_password=False)
            )
            stack.callback(app.state.side_engine.dispose)
            app.state.tokens = TokenCache(
                engine_lookup(app.state.side_engine), known=engine_known(app.state.side_engine)
            )
            app.state.db_slots = PerLoop(lambda: anyio.Semaphore(db.REQUEST_SLOTS))
            app.state.health_limiter = PerLoop(lambda: anyio.CapacityLimiter(2))
            app.state.config_version, app.state.config = _startup_config(app.state.engine, settings)
            app.state.hub = Hub(
                engine=app.state.engine,
                listen_url=db.libpq_url(app.state.engine.url.render_as_string(hide_password=False)),
                clock=app.state.clock,
                config=lambda: (app.state.config, app.state.config_version),
                tick_s=settings.tick_s,
                tick_seconds=app.state.telemetry.live_tick,
            )
            app.state.hub.start()
            stack.push_async_callback(app.state.hub.stop)
            await stack.enter_async_context(alerts_running(app))  # outbox drain, evaluation
            await stack.enter_async_context(reports_running(app))  # scheduled reports
            async with anyio.create_task_group() as tg:
                tg.start_soon(_prune_audit, app)
                tg.start_soon(renew_watched, app)  # signed-in screens that only watch
                yield
                tg.cancel_scope.cancel()

    app = FastAPI(
        title="callboard",
        version="0.1.0",
        summary="Real-time KPIs for contact centers",
        lifespan=lifespan,
        docs_url=None,  # served from local files by app/ops/docs.py (offline floors)
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = settings.clock()
    app.state.telemetry = Telemetry()
    app.state.signin_attempts = Attempts()  # sign-in attempts per address (app/auth/signin.py)
    app.state.renewals = Renewals()  # signed-in sessions renewed while in use
    install(app, app.state.telemetry)
    logs.install()
    install_errors(app)
    docs.install(app)
    install_source_gauges(app)
    app.include_router(ops_router)
    app.include_router(events_router)
    app.include_router(metrics_router)
    app.include_router(staffing_router)
    app.include_router(forecast_router)
    app.include_router(schedules_router)
    app.include_router(live_router)
    app.include_router(contacts_router)
    app.include_router(auth_router)
    app.include_router(signin_router)  # /login, /logout: sign-in with [oidc]
    app.include_router(scorecard_router)
    app.include_router(screens_router)
    app.include_router(sources_router)  # the platform adapters over HTTP
    app.include_router(alerts_router)
    app.include_router(audit_router)
    app.include_router(pairing_router)
    app.include_router(reports_router)

    @app.api_route(
        "/api/{path:path}",
        methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
        include_in_schema=False,
    )
    async def api_not_found(path: str) -> JSONResponse:
        # before the screens' catch-all page route: an unknown API path is a 404, not a page
        return JSONResponse({"detail": f"no API route /api/{path}"}, 404)

    def openapi() -> dict[str, Any]:
        # The events body is read raw (so one bad item cannot reject the batch); its schema is
        # documented here, with the contract's models.
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                EVENTS_SCHEMA.get("$defs", {})
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    from dashboard.app import mount  # the screens: the last routes before Dash's catch-all

    mount(app)
    # after Dash's own middleware, so that these run before it (the last added runs first):
    # Dash's callbacks see the token where every route does, and bad input never reaches Dash
    app.add_middleware(TokenTransport)
    app.add_middleware(InputGuard)
    app.add_middleware(SecurityHeaders)
    return app
