"""The three screens, in Dash 4 on the FastAPI app itself.

Pages are FastAPI routes that check the token (401 without, 403 outside the role) before
serving Dash's page; the live numbers come over the websocket (assets/live.js) into a store and
are rendered in the browser by clientside callbacks (assets/render.js). The only server-side
callbacks answer a supervisor's clicks (trends, contacts); nothing polls."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, dcc, html
from dash.backends._fastapi import (
    get_current_request,
    reset_current_request,
    set_current_request,
)
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from app.auth.deps import bearer
from app.auth.service import Principal, team_of, visible
from app.contacts.service import contacts
from app.metrics.service import trends
from app.metrics.windows import resolve
from dashboard import agent as agent_page
from dashboard import ids
from dashboard import supervisor as sup_page
from dashboard import wall as wall_page
from dashboard.figures import empty_figure, trend_figure

ASSETS = Path(__file__).parent / "assets"


def mount(app: FastAPI) -> Dash:
    dash_app = Dash(
        __name__,
        server=app,
        assets_folder=str(ASSETS),
        title="callboard",
        suppress_callback_exceptions=True,
        update_title=None,
        serve_locally=True,
    )
    dash_app.layout = html.Div(
        [
            dcc.Location(id=ids.URL),
            dcc.Store(id=ids.LIVE, data=None),
            dcc.Interval(id=ids.TICK, interval=1000),
            html.Div(id=ids.PAGE),
        ]
    )
    _pages(app, dash_app)
    _callbacks(app, dash_app)
    return dash_app


def _principal(app: FastAPI, token: str | None) -> Principal | None:
    # the token pool and cache (app/auth/tokens.py); ?token= and the cookie arrive as the
    # Authorization header (app/auth/transport.py)
    return app.state.tokens.principal_blocking(token) if token else None


def _denied(status: int, text: str) -> HTMLResponse:
    body = (
        f"<!doctype html><title>callboard</title><body style='background:#111827;"
        f"color:#e5e7eb;font:24px sans-serif;padding:3em'><h1>{status}</h1><p>{text}</p>"
    )
    return HTMLResponse(body, status)


def _pages(app: FastAPI, dash_app: Dash) -> None:
    def page(request: Request, allowed: Any) -> HTMLResponse:
        principal = _principal(app, bearer(request))
        if principal is None:
            return _denied(401, "This screen needs a token: add ?token=... to the address.")
        if not allowed(principal):
            return _denied(403, f"A {principal.role} token may not open this screen.")
        # Dash renders its page for "the current request", which its middleware sets only on
        # its own paths; these routes set it as Dash's own catch-all route does.
        context = set_current_request(request)
        try:
            # Dash's first-request setup (it finds the assets/ scripts) runs from its own
            # routes' middleware; a screen can be the very first request, so run it here too
            # (it runs once).
            dash_app._setup_server()
            return HTMLResponse(dash_app.index())
        finally:
            reset_current_request(context)

    @app.get("/wall", include_in_schema=False)
    def wall(request: Request) -> HTMLResponse:
        return page(request, lambda p: p.role in ("wallboard", "supervisor", "admin"))

    @app.get("/sup", include_in_schema=False)
    def sup(request: Request) -> HTMLResponse:
        return page(request, lambda p: p.role in ("supervisor", "admin"))

    @app.get("/agent/{agent}", include_in_schema=False)
    def agent(request: Request, agent: str) -> HTMLResponse:
        def allowed(p: Principal) -> bool:  # the team is looked up only for a valid token
            with app.state.engine.connect() as conn:
                team = team_of(conn.connection.driver_connection, [agent]).get(agent)
            return p.sees_agent(agent, team)

        return page(request, allowed)


def _callbacks(app: FastAPI, dash_app: Dash) -> None:
    @dash_app.callback(Output(ids.PAGE, "children"), Input(ids.URL, "pathname"))
    def render_page(pathname: str | None) -> Any:
        path = pathname or "/"
        if path.startswith("/agent/"):
            return agent_page.layout(path.removeprefix("/agent/"))
        if path == "/sup":
            return sup_page.layout()
        return wall_page.layout()

    for output, name in ((ids.WALL, "wall"), (ids.AGENT, "agent"), (ids.SUP, "sup")):
        extra = [Input(ids.SELECTION, "data")] if name == "sup" else []
        dash_app.clientside_callback(
            ClientsideFunction(namespace="callboard", function_name=name),
            Output(output, "children"),
            Input(ids.LIVE, "data"),
            Input(ids.TICK, "n_intervals"),
            *extra,
        )
    dash_app.clientside_callback(
        ClientsideFunction(namespace="callboard", function_name="pick"),
        Output(ids.SELECTION, "data"),
        Input({"type": ids.PICK, "level": ALL, "key": ALL}, "n_clicks"),
        State(ids.SELECTION, "data"),
        prevent_initial_call=True,
    )
    dash_app.clientside_callback(
        ClientsideFunction(namespace="callboard", function_name="csv"),
        Output(ids.DOWNLOAD, "data"),
        Input({"type": ids.CSV, "table": ALL}, "n_clicks"),
        State(ids.LIVE, "data"),
        State(ids.CONTACTS_DATA, "data"),
        prevent_initial_call=True,
    )

    def token_of(search: str | None) -> Principal | None:
        return _principal(app, bearer(get_current_request()))

    @dash_app.callback(
        Output(ids.TREND, "figure"),
        Input(ids.SELECTION, "data"),
        State(ids.URL, "search"),
    )
    def trend(selection: dict[str, Any] | None, search: str | None) -> Any:
        principal = token_of(search)
        if principal is None or principal.role not in ("supervisor", "admin"):
            return empty_figure("not allowed")
        selection = selection or {}
        by, key = ("queue", selection["queue"]) if selection.get("queue") else ("center", "center")
        config = app.state.config
        now = app.state.clock.now()
        day = resolve("today", now=now, tz=config.defaults.timezone)
        with app.state.engine.connect() as conn:
            rows = trends(
                conn.connection.driver_connection,
                config,
                by=by,
                key=key,  # type: ignore[arg-type]
                start=day.start,
                end=now,
                now=now,
            )
        target = config.queue(key).targets.get("service_level") if by == "queue" else None
        tz = ZoneInfo(config.defaults.timezone)
        busy = [r for r in rows if r.get("answered") or r.get("abandoned") or r.get("handled")]
        if busy:
            rows = rows[rows.index(busy[0]) :]
        local = [
            {**r, "from": datetime.fromisoformat(r["from"]).astimezone(tz).strftime("%H:%M")}
            for r in rows
        ]
        return trend_figure(local, title=f"{key}: today by 15 minutes", target=target)

    @dash_app.callback(
        Output(ids.CONTACTS_DATA, "data"),
        Input(ids.SELECTION, "data"),
        State(ids.URL, "search"),
    )
    def drill(selection: dict[str, Any] | None, search: str | None) -> Any:
        principal = token_of(search)
        selection = selection or {}
        agent, queue = selection.get("agent"), selection.get("queue")
        if principal is None or not (agent or queue):
            return []
        now = app.state.clock.now()
        day = resolve("today", now=now, tz=app.state.config.defaults.timezone)
        with app.state.engine.connect() as conn:
            pg: Any = conn.connection.driver_connection
            if agent and not principal.sees_agent(agent, team_of(pg, [agent]).get(agent)):
                return []
            rows = contacts(
                pg, start=day.start, end=now, queue=None if agent else queue, agent=agent, limit=200
            )
            rows = visible(pg, principal, rows, agent_key="agent")
        return rows

    dash_app.clientside_callback(
        ClientsideFunction(namespace="callboard", function_name="contacts"),
        Output(ids.CONTACTS, "children"),
        Input(ids.CONTACTS_DATA, "data"),
        Input(ids.SELECTION, "data"),
    )
