"""Sign-in with the floor's OpenID Connect provider: `/login` (to the provider, with `state`,
`nonce` and a PKCE challenge), `/login/callback` (the provider's answer: a session, as the
screens' cookie), `/logout` (a page with a button; the button POSTs, so no link from another
site can sign anyone out). Every outcome is in the audit trail (`signin`, ok or not, with the
reason; `signout`); attempts are limited per address (app/auth/attempts.py).

Failures answer a page that says what went wrong, with the status (never a 500), and keep
their audit entry. Each step commits in its own transaction before its answer is sent: the
browser follows a redirect at once, and the next step must find the state, or the session,
already there."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from html import escape
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.audit.service import record
from app.auth import oidc, sessions
from app.auth.deps import bearer
from app.auth.oidc_config import OidcConfig
from app.auth.service import digest
from app.auth.transport import COOKIE, from_our_pages, secure_scope

router = APIRouter(include_in_schema=False)

LOGIN_COOKIE = "callboard_login"
HOME = "/sup"


def provider_for(app: object) -> oidc.Provider:
    """The provider of the `[oidc]` in force (kept on the app: discovery and keys are read
    once, not per request)."""
    state = app.state  # type: ignore[attr-defined]
    config: OidcConfig = state.config.oidc
    current: oidc.Provider | None = getattr(state, "oidc_provider", None)
    if current is None or current.config is not config:
        current = oidc.Provider(config)
        state.oidc_provider = current
    return current


def _page(
    status: int, title: str, text: str, *, link: tuple[str, str] | None = None
) -> HTMLResponse:
    more = f"<p><a href='{escape(link[0])}'>{escape(link[1])}</a></p>" if link else ""
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>callboard</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
        "<body style='background:#111827;color:#e5e7eb;font:18px sans-serif;padding:2em'>"
        f"<h1>{escape(title)}</h1><p>{escape(text)}</p>{more}</body></html>"
    )
    return HTMLResponse(body, status)


@contextmanager
def _transaction(request: Request) -> Iterator[Any]:
    with request.app.state.engine.begin() as conn:
        yield conn.connection.driver_connection


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _not_configured() -> HTMLResponse:
    return _page(
        404,
        "Sign-in is not configured",
        "This server has no [oidc] section in callboard.toml, so nobody signs in here: "
        "open the link with a token your administrator made, or ask them to set up sign-in "
        "(docs/SECURITY.md).",
    )


def _too_many(wait_s: int) -> HTMLResponse:
    page = _page(429, "Too many sign-in attempts", f"Try again in {wait_s} s.")
    page.headers["Retry-After"] = str(wait_s)
    return page


def _local(path: str | None) -> str:
    """Where to go after the sign-in: a path of this server, never another site."""
    if not path or not path.startswith("/") or len(path) > 512:
        return HOME
    # a browser drops tabs and line breaks from an address and reads \ as /: "/\t/evil.example"
    # would leave the site
    if any(c.isspace() or c == "\\" or ord(c) < 32 for c in path) or path.startswith("//"):
        return HOME
    return path


def _redirect_uri(request: Request, config: OidcConfig) -> str:
    return config.redirect_uri or f"{str(request.base_url).rstrip('/')}/login/callback"


def _failed(
    request: Request, status: int, reason: str, text: str, *, who: str = "?"
) -> HTMLResponse:
    with _transaction(request) as conn:
        record(
            conn,
            action="signin",
            actor=who,
            address=_address(request),
            ok=False,
            detail={"reason": reason, "said": text[:300]},
        )
    return _page(status, "Sign-in failed", text, link=("/login", "Try again"))


@router.get("/login")
def login(
    request: Request,
    next_: Annotated[str | None, Query(alias="next", max_length=512)] = None,
) -> Response:
    config: OidcConfig | None = request.app.state.config.oidc
    if config is None:
        return _not_configured()
    wait = request.app.state.signin_attempts.wait_s(
        _address(request) or "?", limit=config.attempts_per_min
    )
    if wait:
        return _too_many(wait)
    browser = secrets.token_urlsafe(32)
    provider = provider_for(request.app)
    try:
        provider.endpoints()  # discovery first: a provider away is said before any state
        config.secret()
        with _transaction(request) as conn:
            state, nonce, verifier = sessions.begin(conn, browser=browser, return_to=_local(next_))
        url = provider.authorization_url(
            redirect_uri=_redirect_uri(request, config),
            state=state,
            nonce=nonce,
            verifier=verifier,
        )
    except sessions.TooMany:
        return _too_many(60)
    except (oidc.Unreachable, ValueError) as exc:
        return _failed(request, 502, "provider", f"The sign-in provider: {exc}")
    response = RedirectResponse(url, 303)
    response.set_cookie(
        LOGIN_COOKIE,
        browser,
        max_age=sessions.LOGIN_TTL_MIN * 60,
        path="/login",
        httponly=True,
        samesite="lax",  # the provider's redirect back is a top-level navigation: it is sent
        secure=secure_scope(request.scope),
    )
    return response


@router.get("/login/callback")
def callback(
    request: Request,
    state: Annotated[str | None, Query(max_length=512)] = None,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    error_description: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response:
    config: OidcConfig | None = request.app.state.config.oidc
    if config is None:
        return _not_configured()
    wait = request.app.state.signin_attempts.wait_s(
        _address(request) or "?", limit=config.attempts_per_min
    )
    if wait:
        return _too_many(wait)
    with _transaction(request) as conn:  # used up, whatever follows
        login = sessions.take(conn, state=state or "", browser=request.cookies.get(LOGIN_COOKIE))
    if login is None:
        return _failed(
            request,
            400,
            "state",
            "This sign-in is unknown, expired, already used or was started in another "
            "browser (its state does not match). Start again.",
        )
    nonce, verifier, return_to = login
    if error or not code:
        said = f"{error or 'no code'}: {error_description or ''}".strip(": ")
        return _failed(request, 400, "provider", f"The provider refused: {said}")
    provider = provider_for(request.app)
    try:
        token = provider.exchange(
            code=code, redirect_uri=_redirect_uri(request, config), verifier=verifier
        )
        claims = provider.claims(token["id_token"], nonce=nonce)
    except oidc.Refused as exc:
        return _failed(request, 401, "token", str(exc))
    except (oidc.Unreachable, ValueError) as exc:
        return _failed(request, 502, "provider", f"The sign-in provider: {exc}")
    name = sessions.person(config, claims)
    granted = sessions.grant(config, claims)
    if granted is None:
        return _failed(
            request,
            403,
            "role",
            f"Signed in as {name}, but none of your {config.claim} is given a role in "
            "callboard ([oidc] roles): ask your administrator.",
            who=name,
        )
    role, teams = granted
    with _transaction(request) as conn:
        cookie = sessions.open_session(
            conn,
            config=config,
            role=role,
            teams=teams,
            subject=str(claims["sub"]),
            name=name,
            refresh_token=token.get("refresh_token"),
            id_token=token["id_token"],
        )
        record(
            conn,
            action="signin",
            actor=name,
            role=role,
            address=_address(request),
            target=str(claims["sub"])[:200],
            detail={"teams": sorted(teams), "issuer": config.issuer},
        )
    response = RedirectResponse(return_to, 303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=config.max_hours * 3600,  # the server ends it sooner when unused (idle_min)
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_scope(request.scope),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.get("/logout")
def logout_page(request: Request) -> HTMLResponse:
    """A page, not the act: the button below POSTs (a link or an image from another site
    cannot sign anyone out)."""
    if bearer(request) is None:
        return _page(200, "Signed out", "You are not signed in.", link=("/login", "Sign in"))
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>callboard</title>"
        "</head><body style='background:#111827;color:#e5e7eb;font:18px sans-serif;"
        "padding:2em'><h1>Sign out</h1><form method='post' action='/logout'>"
        "<button id='signout' type='submit'>Sign out</button></form></body></html>"
    )
    return HTMLResponse(body)


@router.post("/logout")
def logout(request: Request) -> Response:
    # the session cookie rides along with any site's form: only our own pages may post here
    # (Sec-Fetch-Site or Origin; SameSite=Lax keeps the cookie off cross-site posts besides)
    if not from_our_pages(request.scope):
        return _page(403, "Not signed out", "A sign-out must come from callboard's own page.")
    token = bearer(request)
    with _transaction(request) as conn:
        ended = sessions.end(conn, token=token) if token else None
        if ended is not None:
            record(
                conn,
                action="signout",
                actor=ended["name"] or f"session {ended['id']}",
                role=ended["role"],
                address=_address(request),
                target=f"session {ended['id']}",
            )
    back = f"{str(request.base_url).rstrip('/')}/logout"
    location = back
    if ended is not None:
        request.app.state.tokens.forget(digest(token or ""))
        config: OidcConfig | None = request.app.state.config.oidc
        if config is not None and config.provider_logout:
            location = (
                provider_for(request.app).logout_url(id_token=ended["id_token"], back_to=back)
                or back
            )
    response = RedirectResponse(location, 303)
    response.delete_cookie(COOKIE, path="/")
    return response


def login_link(path: str) -> str:
    return f"/login?next={quote(path, safe='/')}"
