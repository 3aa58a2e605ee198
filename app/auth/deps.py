"""The token on a request: `Authorization: Bearer <token>`, or `?token=` (pages, websockets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.auth.service import Principal, principal_for
from app.deps import ConnDep


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("token") or None


def current_principal(request: Request, conn: ConnDep) -> Principal:
    token = bearer(request)
    if token is None:
        raise HTTPException(
            401,
            "a token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = principal_for(conn, token)
    if principal is None:
        raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: str) -> Callable[..., Principal]:
    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, f"the {principal.role} role may not do this")
        return principal

    return check


Ingester = Annotated[Principal, Depends(require("ingest", "admin"))]
Reader = Annotated[Principal, Depends(require("agent", "supervisor", "wallboard", "admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]
Supervisor = Annotated[Principal, Depends(require("supervisor", "admin"))]
