"""The token on a request: `Authorization: Bearer <token>`. Pages and the websocket may also
carry it as `?token=` or the screens' cookie; app/auth/transport.py turns those into the header
before any route runs (and refuses `?token=` on API routes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from starlette.requests import HTTPConnection

from app.auth.service import Principal
from app.auth.tokens import Busy, Lookup, TokenCache

RETRY_AFTER = {"Retry-After": "1"}


def bearer(request: HTTPConnection) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def token_lookup(request: Request) -> Lookup:
    """How a token becomes a principal (tests override it to read their own transaction)."""
    tokens: TokenCache = request.app.state.tokens
    return tokens.lookup


async def resolve(app: Any, token: str) -> Principal | None:
    """A token's principal outside a route (middleware): the app's cache and lookup (tests
    override the lookup as a dependency)."""
    tokens: TokenCache = app.state.tokens
    override = app.dependency_overrides.get(token_lookup)
    return await tokens.principal(token, override() if override else None)


def resolve_blocking(app: Any, token: str) -> Principal | None:
    """The same, from a worker thread (a page route)."""
    tokens: TokenCache = app.state.tokens
    override = app.dependency_overrides.get(token_lookup)
    return tokens.principal_blocking(token, override() if override else None)


async def current_principal(
    request: Request, lookup: Annotated[Lookup, Depends(token_lookup)]
) -> Principal:
    """Runs on the event loop before any route's connection is taken: a cached answer, or one
    bounded lookup on the token pool."""
    token = bearer(request)
    if token is None:
        raise HTTPException(
            401,
            "a token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    tokens: TokenCache = request.app.state.tokens
    try:
        principal = await tokens.principal(token, lookup)
    except Busy:
        raise HTTPException(
            503, "busy checking tokens; retry in a second", headers=RETRY_AFTER
        ) from None
    if principal is None:
        raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: str) -> Callable[..., Awaitable[Principal]]:
    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, f"the {principal.role} role may not do this")
        return principal

    return check


Ingester = Annotated[Principal, Depends(require("ingest", "admin"))]
Reader = Annotated[Principal, Depends(require("agent", "supervisor", "wallboard", "admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]
Supervisor = Annotated[Principal, Depends(require("supervisor", "admin"))]
