"""The three screens, served by Dash 4 on the FastAPI app itself.

Pages are FastAPI routes that check the token (401 without, 403 outside the role) before
serving Dash's page. Dash lays out one container; the screen's script (assets/, one file per
screen, the shared part in a_core.js) fetches the page's start from /api/v1/screens/page,
opens the live websocket and patches the DOM from the server's views. There are no Dash
callbacks: every read goes through the API's token rules (app/auth), and nothing rebuilds a
page on a timer."""

from __future__ import annotations

from collections.abc import Callable
from html import escape as html_escape
from pathlib import Path

from dash import Dash, html
from dash.backends._fastapi import reset_current_request, set_current_request
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from app.auth.deps import bearer, resolve_blocking
from app.auth.service import Principal, sees_agent_page
from app.auth.signin import login_link
from app.i18n import t
from dashboard import ids
from dashboard.pairing import admin_pair_page, pair_page

ASSETS = Path(__file__).parent / "assets"


def mount(app: FastAPI) -> Dash:
    @app.post("/_dash-update-component", include_in_schema=False)
    def no_callbacks() -> JSONResponse:
        # the screens have no server-side callbacks: data comes only through the API's routes
        # and their token rules (before Dash's own route, which would answer 500)
        return JSONResponse({"detail": "the screens have no server callbacks"}, 404)

    dash_app = Dash(
        __name__,
        server=app,
        assets_folder=str(ASSETS),
        title="callboard",
        suppress_callback_exceptions=True,
        update_title=None,
        serve_locally=True,
    )
    dash_app.layout = html.Div(id=ids.SCREEN)
    # Dash answers its shell on "/" and, from the app's start, on every unknown path: without
    # a token check (the page gate bypassed). The screens are the routes below, each with its
    # check; any other path is a 404, and "/" leads to the supervisor's screen.
    dash_app.backend._setup_catchall = lambda: None  # type: ignore[method-assign]
    app.router.routes[:] = [
        r
        for r in app.router.routes
        if getattr(r, "path", None) != dash_app.config.routes_pathname_prefix
    ]

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/sup", 303)

    _pages(app, dash_app)
    return dash_app


def page_principal(app: FastAPI, request: Request) -> Principal | None:
    """The one place a page finds and checks its token: ?token= and the cookie reach it as the
    Authorization header (app/auth/transport.py); the token pool and cache check it."""
    token = bearer(request)
    return resolve_blocking(app, token) if token else None


def _lang(app: FastAPI, request: Request) -> str:
    from app.screens.router import language

    asked = request.query_params.get("lang")
    return language(app.state.config, request, asked, None)


def _denied(
    status: int, text: str, hint: str, sign_in: tuple[str, str] | None = None
) -> HTMLResponse:
    # plain words, and a page that tries again by itself (a TV has no keyboard); where the
    # floor signs in ([oidc]), a person's way in: the sign-in link
    link = (
        f"<p><a id='sign-in' style='color:#93c5fd' href='{html_escape(sign_in[0])}'>"
        f"{html_escape(sign_in[1])}</a></p>"
        if sign_in
        else ""
    )
    body = (
        "<!doctype html><title>callboard</title><meta http-equiv='refresh' content='30'>"
        "<body style='background:#111827;color:#e5e7eb;font:3vmin sans-serif;padding:2em'>"
        f"<h1>{status}</h1><p>{html_escape(text)}</p>{link}<p>{html_escape(hint)}</p>"
    )
    return HTMLResponse(body, status)


def _sign_out(html_page: str, principal: Principal, lang: str) -> str:
    """A signed-in person's page carries its sign-out button (a POST: app/auth/signin.py)."""
    if principal.kind != "session":
        return html_page
    form = (
        "<form method='post' action='/logout' style='position:fixed;top:4px;right:8px;"
        "z-index:1000;margin:0;font:12px sans-serif'>"
        f"<span style='opacity:.7'>{html_escape(principal.name)}</span> "
        f"<button id='sign-out' type='submit'>{html_escape(t(lang, 'common.sign_out'))}"
        "</button></form>"
    )
    return html_page.replace("</body>", form + "</body>", 1)


def _pages(app: FastAPI, dash_app: Dash) -> None:
    def refused(request: Request, allowed: Callable[[Principal], bool]) -> HTMLResponse | None:
        """The one page gate: 401 without a working token, 403 for a principal the page is not
        for; None when the page may be served."""
        principal = page_principal(app, request)
        lang = _lang(app, request)
        hint = t(lang, "common.page_retry")
        if principal is None:
            sign_in = None
            if app.state.config.oidc is not None:
                sign_in = (login_link(request.url.path), t(lang, "common.sign_in"))
            return _denied(401, t(lang, "common.page_401"), hint, sign_in)
        if not allowed(principal):
            return _denied(403, t(lang, "common.page_403", role=principal.role), hint)
        return None

    def page(request: Request, allowed: Callable[[Principal], bool]) -> HTMLResponse:
        denied = refused(request, allowed)
        if denied is not None:
            return denied
        # Dash renders its page for "the current request", which its middleware sets only on
        # its own paths; these routes set it as Dash's own catch-all route does.
        context = set_current_request(request)
        try:
            # Dash's first-request setup (it finds the assets/ scripts) runs from its own
            # routes' middleware; a screen can be the very first request, so run it here too
            # (it runs once).
            dash_app._setup_server()
            principal = page_principal(app, request)
            shell = dash_app.index()
            if principal is not None:
                shell = _sign_out(shell, principal, _lang(app, request))
            return HTMLResponse(shell)
        finally:
            reset_current_request(context)

    def wallboard(name: str) -> Callable[[Principal], bool]:
        # a paired TV shows its own wallboard only
        return lambda p: p.role in ("wallboard", "supervisor", "admin") and p.shows_board(name)

    def wall_page(request: Request, name: str) -> HTMLResponse:
        if page_principal(app, request) is None:
            return pair_page(app, request, name, _lang(app, request))  # a TV without one: pair it
        return page(request, wallboard(name))

    @app.get("/wall", include_in_schema=False)
    def wall(request: Request) -> HTMLResponse:
        return wall_page(request, "default")

    @app.get("/wall/{name}", include_in_schema=False)
    def wall_named(request: Request, name: str) -> HTMLResponse:
        if name != "default" and name not in app.state.config.wallboards:
            return _denied(404, t(_lang(app, request), "common.page_404"), "")
        return wall_page(request, name)

    @app.get("/sup/pair", include_in_schema=False)
    def sup_pair(request: Request) -> HTMLResponse:
        denied = refused(request, lambda p: p.role == "admin")
        if denied is not None:
            return denied
        boards = ["default", *sorted(app.state.config.wallboards)]
        return admin_pair_page(_lang(app, request), boards)

    @app.get("/sup", include_in_schema=False)
    def sup(request: Request) -> HTMLResponse:
        return page(request, lambda p: p.role in ("supervisor", "admin"))

    @app.get("/agent/{agent}", include_in_schema=False)
    def agent(request: Request, agent: str) -> HTMLResponse:
        return page(request, lambda p: sees_agent_page(app.state.engine, p, agent))

    @app.get("/reports", include_in_schema=False)
    def reports(request: Request) -> HTMLResponse:
        """Reports of the past: not a live screen (no websocket), its own page; its script
        (assets/g_reports.js) reads the reports API with the page's cookie."""
        denied = refused(request, lambda p: p.role in ("supervisor", "admin"))
        if denied is not None:
            return denied
        lang = _lang(app, request)
        body = (
            f"<!doctype html><html lang='{html_escape(lang)}'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>callboard · {html_escape(t(lang, 'report.page.title'))}</title>"
            "<link rel='stylesheet' href='/assets/style.css'>"
            "<link rel='stylesheet' href='/assets/g_reports.css'></head>"
            f"<body class='reports' data-page='reports' data-lang='{html_escape(lang)}'"
            f" data-timezone='{html_escape(app.state.config.defaults.timezone)}'>"
            f"<div id='{ids.REPORTS}'></div>"
            # f_charts.js: the one loader of Plotly (the trends' and the forecast's too)
            "<script src='/assets/f_charts.js'></script>"
            "<script src='/assets/g_reports.js'></script></body></html>"
        )
        return HTMLResponse(body)
