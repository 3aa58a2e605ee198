"""Where a token may travel, decided once, before any route runs (an ASGI middleware).

- `Authorization: Bearer` works everywhere.
- `?token=` works on pages and the websocket only. A page trades it for an HttpOnly cookie and
  redirects to the same address without it, so the token leaves the address bar, the history
  and every later log line; on an API route it is refused (400), because API clients can send
  a header and an address is copied, logged and shared.
- The cookie (a token, a paired TV's credential or a signed-in session) stands for the token
  on pages, the websocket, Dash's callbacks and reads (GET) of the API (the screens' own
  scripts); on API writes only with the `X-Callboard-Screen` header the screens' scripts send,
  so no other site can post with it. Any write riding the cookie must also come from a page
  of the served host (its Origin; SameSite=Lax besides), or it is refused (403).
- A signed-in session riding the cookie is renewed before the request runs
  (app/auth/renewal.py).

A page sets the cookie only for a token that works, only when the browser holds no working
one already, and never on a link from another site (Sec-Fetch-Site): a link can neither log a
TV out nor log a supervisor's browser in as someone else.

A websocket handshake from a browser page of another origin is refused (4403) before any
route runs: the cookie rides along with any page's socket, so the Origin header decides
(the served host, or one of `[security] allowed_origins` for an embedding CRM's own page).

Downstream code sees one thing: the Authorization header."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.auth.tokens import Busy

COOKIE = "callboard_token"
COOKIE_MAX_AGE_S = 30 * 86400  # a wallboard TV keeps its token across reloads for a month
_NOT_PAGES = ("/api/", "/_dash-", "/assets/", "/static/")
_NOT_PAGE_PATHS = frozenset({"/healthz", "/metrics", "/openapi.json"})
_SAFE = frozenset({"GET", "HEAD"})
SCREEN_HEADER = b"x-callboard-screen"
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_.~-]{1,256}")  # ours are cb_ + URL-safe base64


def is_page(scope: Scope) -> bool:
    path: str = scope["path"]
    return (
        scope.get("method") in _SAFE
        and not path.startswith(_NOT_PAGES)
        and path not in _NOT_PAGE_PATHS
    )


def _split_token(query: bytes) -> tuple[str | None, bytes]:
    """The last `token=` of the query string, and the query string without any."""
    token = None
    kept = []
    for part in query.split(b"&"):
        key, _, value = part.partition(b"=")
        if unquote_plus(key.decode("latin-1")) == "token":
            token = unquote_plus(value.decode("latin-1"), encoding="utf-8", errors="replace")
        elif part:
            kept.append(part)
    return token, b"&".join(kept)


def _cookie_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    for key, value in headers:
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header carries no token of ours
                continue
            if COOKIE in jar and jar[COOKIE].value:
                return jar[COOKIE].value
    return None


def cookie_header(token: str, *, secure: bool, cross_site: bool) -> str:
    """HttpOnly (no script reads it) and SameSite=Lax (no other site's form or script sends
    it); an embedding CRM on another site needs SameSite=None, which browsers allow only over
    HTTPS."""
    same_site = "None" if cross_site and secure else "Lax"
    parts = [
        f"{COOKIE}={token}",
        "Path=/",
        "HttpOnly",
        f"SameSite={same_site}",
        f"Max-Age={COOKIE_MAX_AGE_S}",
    ]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def _security(scope: Scope) -> Any:
    config = getattr(getattr(scope.get("app"), "state", None), "config", None)
    return getattr(config, "security", None)


def _embedded_elsewhere(scope: Scope) -> bool:
    ancestors = getattr(_security(scope), "frame_ancestors", ["'self'"])
    return any(a not in ("'self'", "'none'") for a in ancestors)


def secure_scope(scope: Scope) -> bool:
    return scope.get("scheme") in ("https", "wss") or bool(
        getattr(_security(scope), "secure_cookies", False)
    )


_DEFAULT_PORT = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _host_port(netloc: str, scheme: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"//{netloc}")
        return (parts.hostname or "").lower(), parts.port or _DEFAULT_PORT.get(scheme, 0)
    except ValueError:
        return None


def origin_allowed(scope: Scope) -> bool:
    """A handshake without Origin is no browser page's (browsers always send it); one with it
    must come from the served host itself, or from an origin the config allows."""
    headers = dict(scope.get("headers", []))
    raw = headers.get(b"origin")
    if raw is None:
        return True
    origin = raw.decode("latin-1").strip().lower()
    allowed = getattr(_security(scope), "allowed_origins", None) or []
    if origin in allowed:
        return True
    scheme, sep, netloc = origin.partition("://")
    host = headers.get(b"host", b"").decode("latin-1")
    if not sep or not host or scheme not in _DEFAULT_PORT:
        return False
    mine, theirs = _host_port(host, scheme), _host_port(netloc, scheme)
    return mine is not None and theirs is not None and mine == theirs and bool(mine[0])


class TokenTransport:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token, rest = _split_token(scope.get("query_string", b""))
        headers = list(scope.get("headers", []))
        has_header = any(k == b"authorization" for k, _ in headers)
        websocket = scope["type"] == "websocket"
        if websocket and not origin_allowed(scope):
            # before accept: the client sees the handshake refused (HTTP 403, code 4403)
            await send({"type": "websocket.close", "code": 4403, "reason": "origin not allowed"})
            return
        if token is not None and not websocket:
            await self._exchange(scope, receive, send, token, rest)
            return
        carried = token or None
        if carried is None and not has_header:
            cookie = _cookie_token(headers)
            writes_api = scope["path"].startswith("/api/") and scope.get("method") not in _SAFE
            # a write may ride the cookie only with the screens' own header: another site's
            # form cannot set it, and its script could only after a CORS preflight we never
            # grant (the /sup list's Acknowledge, dashboard/assets/alerts.js)
            screen = any(k == SCREEN_HEADER for k, _ in headers)
            if cookie and (websocket or not writes_api or screen):
                carried = cookie
            # a write riding the cookie (a signed-in session's or a token's): from our own
            # pages only. SameSite=Lax keeps it off other sites' POSTs; the Origin browsers
            # send with every POST is checked too (the served host, or an allowed origin)
            writes = not websocket and scope.get("method") not in _SAFE
            if cookie and writes and not from_our_pages(scope):
                response = JSONResponse(
                    {"detail": "a write with the screens' cookie must come from their page"}, 403
                )
                await response(scope, receive, send)
                return
            if cookie and carried == cookie:
                await _renew(scope, cookie)
        if carried and not has_header:
            headers.append((b"authorization", b"Bearer " + carried.encode("utf-8", "replace")))
        # the token leaves the query string here: no route, log line or error page sees it
        scope = {**scope, "headers": headers, "query_string": rest}
        await self.app(scope, receive, send)

    async def _exchange(
        self, scope: Scope, receive: Receive, send: Send, token: str, rest: bytes
    ) -> None:
        response: Response
        if token and not _TOKEN_CHARS.fullmatch(token):
            response = JSONResponse({"detail": "?token= does not hold a callboard token"}, 400)
        elif not is_page(scope):
            response = JSONResponse(
                {
                    "detail": "?token= is accepted on pages and the websocket only: send "
                    "Authorization: Bearer <token>"
                },
                400,
            )
        else:
            raw = scope.get("raw_path") or scope["path"].encode()
            path = b"/" + raw.split(b"?", 1)[0].lstrip(b"/")  # never //host: not a redirect out
            location = path + (b"?" + rest if rest else b"")
            response = Response(status_code=303, headers={"Location": location.decode("latin-1")})
            if token and await _may_set(scope, token):
                response.headers.append(
                    "Set-Cookie",
                    cookie_header(
                        token, secure=secure_scope(scope), cross_site=_embedded_elsewhere(scope)
                    ),
                )
        await response(scope, receive, send)


def from_our_pages(scope: Scope) -> bool:
    """Does this write come from a page of the served host (or an allowed origin)? The
    browser's Sec-Fetch-Site says so where it is sent (our pages' Referrer-Policy no-referrer
    makes their form posts' Origin `null`); elsewhere the Origin header must name this host.
    A request with neither is no browser page's (a script's or a command's)."""
    headers: dict[bytes, bytes] = dict(scope.get("headers", []))
    origin = headers.get(b"origin", b"").decode("latin-1").strip().lower()
    allowed: list[str] = getattr(_security(scope), "allowed_origins", None) or []
    if origin and origin in allowed:
        return True
    site = headers.get(b"sec-fetch-site")
    if site is not None:
        return site == b"same-origin"
    return origin_allowed(scope)


async def _renew(scope: Scope, token: str) -> None:
    """A signed-in session in use is renewed here, before the request runs: one that the
    provider ended is refused by this very request (app/auth/renewal.py)."""
    app = scope.get("app")
    renewals = getattr(getattr(app, "state", None), "renewals", None)
    if renewals is not None:
        client = scope.get("client")
        await renewals.touch(app, token, client[0] if client else None)


async def _may_set(scope: Scope, token: str) -> bool:
    """The cookie is set for a token that works, in a browser without a working one, on a
    navigation that did not come from another site."""
    headers = dict(scope.get("headers", []))
    if headers.get(b"sec-fetch-site", b"none") == b"cross-site":
        return False
    from app.auth.deps import resolve  # the app's token cache and lookup

    app = scope["app"]
    try:
        if await resolve(app, token) is None:
            return False
        held = _cookie_token(list(scope.get("headers", [])))
        return not held or held == token or await resolve(app, held) is None
    except Busy:
        return False
