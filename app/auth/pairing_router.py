"""Pairing over HTTP: the admin's side (pair a code, unpair a wallboard, list paired TVs) and
the TV's (its page polls until an admin paired its code). app/auth/pairing.py says how."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app.audit.service import record_by
from app.auth import pairing
from app.auth.deps import Admin
from app.auth.transport import cookie_header, secure_scope
from app.deps import ConnDep

router = APIRouter(prefix="/api/v1/wallboards", tags=["pairing"])


class PairIn(BaseModel):
    code: str = Field(min_length=4, max_length=16, description="the code the TV shows")
    wallboard: str = Field(min_length=1, max_length=128, description="a [wallboards.NAME]")


class PairedTv(BaseModel):
    id: int
    wallboard: str
    label: str | None
    created_at: datetime


def _known(request: Request, name: str) -> None:
    if name != "default" and name not in request.app.state.config.wallboards:
        raise HTTPException(404, f"no [wallboards.{name}] in callboard.toml")


@router.post("/pair", response_model=PairedTv | None, summary="Pair the TV showing a code")
def pair(
    request: Request, principal: Admin, conn: ConnDep, body: Annotated[PairIn, Body()]
) -> None:
    _known(request, body.wallboard)
    if not pairing.approve(conn, code=body.code, wallboard=body.wallboard, by=principal.name):
        raise HTTPException(404, f"no TV shows the code {body.code!r} (codes last 10 minutes)")
    record_by(
        conn,
        principal,
        action="wall.pair",
        address=request.client.host if request.client else None,
        target=body.wallboard,
        detail={"code": pairing.normalise(body.code)},
    )


@router.delete(
    "/{name}/pairings", response_model=list[int], summary="Unpair every TV of a wallboard"
)
def unpair(request: Request, principal: Admin, conn: ConnDep, name: str) -> list[int]:
    ids = pairing.unpair(conn, wallboard=name)
    request.app.state.tokens.forget()  # this process at once; the others within the cache TTL
    record_by(
        conn,
        principal,
        action="wall.unpair",
        address=request.client.host if request.client else None,
        target=name,
        detail={"tokens": ids},
    )
    return ids


@router.get("/pairings", response_model=list[PairedTv], summary="The paired TVs")
def pairings(_: Admin, conn: ConnDep) -> list[PairedTv]:
    return [PairedTv.model_validate(p) for p in pairing.paired(conn)]


@router.post("/pairing", include_in_schema=False)
def poll(request: Request, conn: ConnDep) -> JSONResponse:
    """The TV's page: paired yet? When so, its wallboard credential comes as its cookie."""
    secret = request.cookies.get(pairing.COOKIE)
    got = pairing.claim(conn, secret=secret) if secret else None
    if got is None:
        return JSONResponse({"paired": False})
    token, wallboard = got
    response = JSONResponse({"paired": True, "wallboard": wallboard})
    response.headers.append(
        "Set-Cookie", cookie_header(token, secure=secure_scope(request.scope), cross_site=False)
    )
    response.delete_cookie(pairing.COOKIE, path="/")
    return response
