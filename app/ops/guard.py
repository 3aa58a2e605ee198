"""What every request and response goes through, whatever the route (ASGI middlewares and
exception handlers installed by create_app):

- InputGuard: NUL (or a surrogate) in the path, the query string or a cookie is a 400 before
  any route or lookup runs (PostgreSQL text cannot hold NUL; no route has to remember);
  headers over MAX_HEADER_BYTES each, MAX_HEADERS_BYTES together or MAX_HEADERS in number
  are a 431 (a 1 MB Accept-Language cost every route without a token half a second).
- SecurityHeaders: Referrer-Policy, X-Content-Type-Options, Cache-Control: no-store on pages
  and the API, and the frame policy of `[security] frame_ancestors`.
- errors: a busy pool or a database that is away is 503 with Retry-After; a value PostgreSQL
  or Python finds out of range is 422, never 500."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote_to_bytes

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

MAX_QUERY_BYTES = 16_384
MAX_HEADER_BYTES = 8_192  # one header's value (browsers' cookies stay far below)
MAX_HEADERS_BYTES = 32_768  # all of them
MAX_HEADERS = 100
MAX_BODY_BYTES = 16 * 1024 * 1024  # the events route's own limit (10 MB) is below this
RETRY_AFTER_S = "2"
_STATIC = ("/_dash-component-suites/", "/assets/", "/static/", "/_favicon.ico")


def _bad(text: bytes) -> str | None:
    """Why these (percent-encoded) bytes are refused, or None."""
    raw = unquote_to_bytes(text.replace(b"+", b" "))
    if b"\x00" in raw:
        return "must not contain the NUL character (%00)"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "must be UTF-8"
    return None


class InputGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            problem = self._problem(scope)
            if problem is not None:
                status, detail = problem
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 4400, "reason": detail[:120]})
                    return
                await JSONResponse({"detail": detail}, status)(scope, receive, send)
                return
        if scope["type"] == "http":
            receive = _bounded(receive)
        await self.app(scope, receive, send)

    @staticmethod
    def _problem(scope: Scope) -> tuple[int, str] | None:
        path: str = scope["path"]
        raw_path: bytes = scope.get("raw_path") or path.encode("utf-8", "surrogatepass")
        why = ("\x00" in path and "must not contain the NUL character (%00)") or _bad(raw_path)
        if why:
            return 400, f"the path {why}"
        headers = scope.get("headers", [])
        if len(headers) > MAX_HEADERS:
            return 431, f"more than {MAX_HEADERS} request headers"
        total = 0
        for key, value in headers:
            total += len(key) + len(value)
            if len(value) > MAX_HEADER_BYTES:
                return (
                    431,
                    f"the {key.decode('latin-1')[:40]} header is over {MAX_HEADER_BYTES} bytes",
                )
        if total > MAX_HEADERS_BYTES:
            return 431, f"the request headers are over {MAX_HEADERS_BYTES} bytes together"
        query: bytes = scope.get("query_string", b"")
        if len(query) > MAX_QUERY_BYTES:
            return 414, f"the query string is over {MAX_QUERY_BYTES} bytes"
        for part in query.split(b"&"):
            why = _bad(part)
            if why:
                name = unquote_to_bytes(part.partition(b"=")[0]).decode("utf-8", "replace")
                return 400, f"query parameter {name.replace(chr(0), '')!r} {why}"
        for key, value in scope.get("headers", []):
            if key == b"cookie" and b"%00" in value:
                return 400, "a cookie must not contain the NUL character (%00)"
            if key == b"content-length":
                if not value.isdigit():
                    return 400, "Content-Length must be a number"
                if int(value) > MAX_BODY_BYTES:
                    return 413, f"the body is over {MAX_BODY_BYTES} bytes"
        return None


def _bounded(receive: Receive) -> Receive:
    """A chunked body (no Content-Length) that grows past MAX_BODY_BYTES ends as if the client
    had left: the route stops reading, nothing is kept."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY_BYTES:
                return {"type": "http.disconnect"}
        return message

    return wrapped


def frame_headers(frame_ancestors: list[str]) -> list[tuple[bytes, bytes]]:
    out = [(b"content-security-policy", f"frame-ancestors {' '.join(frame_ancestors)}".encode())]
    # older browsers know only X-Frame-Options, which cannot name other origins
    if frame_ancestors == ["'none'"]:
        out.append((b"x-frame-options", b"DENY"))
    elif frame_ancestors == ["'self'"]:
        out.append((b"x-frame-options", b"SAMEORIGIN"))
    return out


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(_STATIC)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                if not static:
                    headers["Cache-Control"] = "no-store"
                for key, value in frame_headers(_frame_ancestors(scope)):
                    headers[key.decode()] = value.decode()
            await send(message)

        await self.app(scope, receive, with_headers)


def _frame_ancestors(scope: Scope) -> list[str]:
    config: Any = getattr(getattr(scope.get("app"), "state", None), "config", None)
    security = getattr(config, "security", None)
    return list(getattr(security, "frame_ancestors", None) or ["'self'"])


def _busy(_: Request, exc: Exception) -> JSONResponse:
    log.warning("refused a request: %s", type(exc).__name__)
    return JSONResponse(
        {"detail": "the server is busy; retry in a few seconds"},
        503,
        headers={"Retry-After": RETRY_AFTER_S},
    )


def _database_away(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", str(exc)[:200])
    return JSONResponse(
        {"detail": "the database is unavailable; retry in a few seconds"},
        503,
        headers={"Retry-After": RETRY_AFTER_S},
    )


def _out_of_range(_: Request, exc: Exception) -> JSONResponse:
    first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return JSONResponse({"detail": f"a value is out of range or invalid: {first}"}, 422)


def install_errors(app: FastAPI) -> None:
    app.add_exception_handler(sa_exc.TimeoutError, _busy)  # pool checkout timed out
    app.add_exception_handler(psycopg.errors.QueryCanceled, _busy)  # statement_timeout
    app.add_exception_handler(psycopg.OperationalError, _database_away)
    app.add_exception_handler(sa_exc.OperationalError, _database_away)
    # class 22 (data exception: out of range, NUL in text, bad datetime) and 54 (too large)
    app.add_exception_handler(psycopg.DataError, _out_of_range)
    app.add_exception_handler(psycopg.errors.ProgramLimitExceeded, _out_of_range)
    app.add_exception_handler(sa_exc.DataError, _out_of_range)
    app.add_exception_handler(OverflowError, _out_of_range)
