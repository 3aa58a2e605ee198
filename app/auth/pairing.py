"""TVs paired, not pasted. A TV opening /wall/NAME without a credential shows a short code
and keeps a secret only its browser holds (an HttpOnly cookie; its hash is stored with the
code). An admin enters the code with a wallboard's name (/sup/pair, or `callboard wall pair
CODE NAME`); the TV's next poll trades its secret for a long-lived wallboard token for that
wallboard only, set as its cookie. Unpairing revokes that token: its sockets close within a
second (the hub's check), its requests within the token cache's TTL.

A code is 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S), valid
for CODE_TTL_MIN minutes; entering one takes an admin's credential, and pending codes are
bounded (a flood of TVs cannot fill the table)."""

from __future__ import annotations

import secrets
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from app.auth.service import create_token, digest

ALPHABET = "ACDEFGHJKMNPQRTUVWXY346789"
CODE_TTL_MIN = 10
MAX_PENDING = 500
COOKIE = "callboard_pairing"


class TooMany(Exception):
    """Too many TVs wait to be paired at once: try again in a few minutes."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(6))
    return f"{raw[:3]}-{raw[3:]}"


def normalise(code: str) -> str:
    raw = "".join(c for c in code.upper() if c.isalnum())
    return f"{raw[:3]}-{raw[3:]}" if len(raw) == 6 else raw


def start(conn: psycopg.Connection[Any], *, secret: str, board: str | None) -> str:
    """The code this browser shows (the same one while it is valid). Does not commit."""
    conn.execute("DELETE FROM pairings WHERE expires_at < now()")
    row = conn.execute(
        "SELECT code FROM pairings WHERE browser_sha256 = %s", (digest(secret),)
    ).fetchone()
    if row is not None:
        return str(row[0])
    pending = conn.execute("SELECT count(*) FROM pairings").fetchone()
    if pending is not None and pending[0] >= MAX_PENDING:
        raise TooMany
    while True:
        code = _code()
        inserted = conn.execute(
            "INSERT INTO pairings (code, browser_sha256, asked_board, expires_at)"
            " VALUES (%s, %s, %s, now() + make_interval(mins => %s)) ON CONFLICT DO NOTHING",
            (code, digest(secret), board, CODE_TTL_MIN),
        ).rowcount
        if inserted:
            return code


def start_on(engine: Engine, *, secret: str, board: str | None) -> str:
    """start() in a transaction of its own (the TV's page)."""
    with engine.begin() as conn:
        return start(conn.connection.driver_connection, secret=secret, board=board)  # type: ignore[arg-type]


def approve(conn: psycopg.Connection[Any], *, code: str, wallboard: str, by: str) -> bool:
    """The admin's side: the TV showing `code` is to show `wallboard`. Does not commit."""
    return bool(
        conn.execute(
            "UPDATE pairings SET wallboard = %s, approved_by = %s"
            " WHERE code = %s AND expires_at >= now()",
            (wallboard, by, normalise(code)),
        ).rowcount
    )


def claim(conn: psycopg.Connection[Any], *, secret: str) -> tuple[str, str] | None:
    """The TV's side: (its new token, its wallboard) once an admin paired its code; the code
    is used up. Does not commit."""
    row = conn.execute(
        "DELETE FROM pairings WHERE browser_sha256 = %s AND wallboard IS NOT NULL"
        " AND expires_at >= now() RETURNING code, wallboard, approved_by",
        (digest(secret),),
    ).fetchone()
    if row is None:
        return None
    code, wallboard, by = row
    token = create_token(
        conn,
        role="wallboard",
        kind="paired",
        wallboard=wallboard,
        label=f"TV {code} on {wallboard} (paired by {by})",
    )
    return token, wallboard


def unpair(conn: psycopg.Connection[Any], *, wallboard: str) -> list[int]:
    """Revoke every TV paired to `wallboard`; the ids revoked. Does not commit."""
    rows = conn.execute(
        "UPDATE tokens SET revoked_at = now() WHERE kind = 'paired' AND wallboard = %s"
        " AND revoked_at IS NULL RETURNING id",
        (wallboard,),
    ).fetchall()
    return [r[0] for r in rows]


def paired(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, wallboard, label, created_at FROM tokens WHERE kind = 'paired'"
        " AND revoked_at IS NULL ORDER BY wallboard, id"
    ).fetchall()
    return [dict(zip(("id", "wallboard", "label", "created_at"), r, strict=True)) for r in rows]
