"""Sign-ins and their sessions, in the database. A session is a credential like a token (a
`tokens` row of kind 'session': 256 random bits in the browser's cookie, its SHA-256 stored),
so every check that holds for tokens holds for it: the same roles and teams, the same page
gate, and its live sockets close within a second when it ends (app/live/hub.py reads
`in_force`).

A session ends when it is unused for `[oidc] idle_min` (its `expires_at`), at `max_hours`
after the sign-in (`ends_at`: never renewed past it), at logout, when an admin revokes it
(`callboard token revoke ID`), and when the provider no longer renews it.

A sign-in under way (`oidc_logins`) binds the `state` sent to the provider to the browser that
started it (the hash of a cookie of its own), with the nonce and the PKCE verifier; a state is
used once and lasts LOGIN_TTL_MIN."""

from __future__ import annotations

import secrets
from typing import Any

import psycopg

from app.auth.oidc_config import OidcConfig
from app.auth.service import Role, create_token, digest

LOGIN_TTL_MIN = 10
MAX_PENDING = 1000  # sign-ins under way at once (a flood cannot fill the table)


class TooMany(Exception):
    """Too many sign-ins under way: try again in a minute."""


def grant(config: OidcConfig, claims: dict[str, Any]) -> tuple[Role, frozenset[str]] | None:
    """The role and teams the claims give (None: no role). `[oidc] roles` maps values of the
    claim `[oidc] claim` (a list, or a space-separated string) to admin, wallboard or
    supervisor:TEAM; the teams add up, admin wins over supervisor over wallboard."""
    raw = claims.get(config.claim)
    values = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    grants = {config.roles[v] for v in values if isinstance(v, str) and v in config.roles}
    if "admin" in grants:
        return "admin", frozenset()
    teams = frozenset(g.partition(":")[2] for g in grants if g.startswith("supervisor:"))
    if teams:
        return "supervisor", teams
    if "wallboard" in grants:
        return "wallboard", frozenset()
    return None


def person(config: OidcConfig, claims: dict[str, Any]) -> str:
    """How the audit and acknowledgements name who signed in."""
    for name in config.name_claims:
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return str(claims.get("sub", "?"))[:200]


def begin(conn: psycopg.Connection[Any], *, browser: str, return_to: str) -> tuple[str, str, str]:
    """A new sign-in for this browser (the secret of its login cookie): its state, nonce and
    PKCE verifier. Does not commit."""
    conn.execute("DELETE FROM oidc_logins WHERE expires_at < now()")
    pending = conn.execute("SELECT count(*) FROM oidc_logins").fetchone()
    if pending is not None and pending[0] >= MAX_PENDING:
        raise TooMany
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # RFC 7636: 43..128 characters
    conn.execute(
        "INSERT INTO oidc_logins (state, browser_sha256, nonce, verifier, return_to, expires_at)"
        " VALUES (%s, %s, %s, %s, %s, now() + make_interval(mins => %s))",
        (state, digest(browser), nonce, verifier, return_to, LOGIN_TTL_MIN),
    )
    return state, nonce, verifier


def take(
    conn: psycopg.Connection[Any], *, state: str, browser: str | None
) -> tuple[str, str, str] | None:
    """The nonce, verifier and return address of this browser's sign-in with this state, used
    up (None: unknown, expired, or started in another browser). Does not commit."""
    if not browser:
        return None
    row = conn.execute(
        "DELETE FROM oidc_logins WHERE state = %s AND browser_sha256 = %s"
        " AND expires_at >= now() RETURNING nonce, verifier, return_to",
        (state, digest(browser)),
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def open_session(
    conn: psycopg.Connection[Any],
    *,
    config: OidcConfig,
    role: Role,
    teams: frozenset[str],
    subject: str,
    name: str,
    refresh_token: str | None,
    id_token: str | None,
) -> str:
    """The new session's credential (the cookie's value). Does not commit."""
    token = create_token(conn, role=role, teams=tuple(sorted(teams)), label=name, kind="session")
    row = conn.execute(
        "UPDATE tokens SET subject = %s, ends_at = now() + make_interval(hours => %s),"
        " expires_at = least(now() + make_interval(mins => %s),"
        " now() + make_interval(hours => %s)) WHERE token_sha256 = %s RETURNING id",
        (subject, config.max_hours, config.idle_min, config.max_hours, digest(token)),
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO oidc_sessions (token_id, refresh_token, id_token, renew_at)"
        " VALUES (%s, %s, %s, now() + make_interval(mins => %s))",
        (row[0], refresh_token, id_token, config.renew_min),
    )
    return token


def end(conn: psycopg.Connection[Any], *, token: str) -> dict[str, Any] | None:
    """End this session (a token of another kind is left alone): who it was, and its ID token
    (for the provider's logout). Does not commit."""
    row = conn.execute(
        "UPDATE tokens t SET revoked_at = now() FROM oidc_sessions o"
        " WHERE t.token_sha256 = %s AND t.kind = 'session' AND t.revoked_at IS NULL"
        " AND o.token_id = t.id RETURNING t.id, t.label, t.role, o.id_token",
        (digest(token),),
    ).fetchone()
    if row is None:
        return None
    return dict(zip(("id", "name", "role", "id_token"), row, strict=True))


def due_among(conn: psycopg.Connection[Any], digests: list[str]) -> list[str]:
    """Which of these credentials (SHA-256) are sessions in force whose renewal is due."""
    rows = conn.execute(
        "SELECT t.token_sha256 FROM tokens t JOIN oidc_sessions o ON o.token_id = t.id"
        " WHERE t.token_sha256 = ANY(%s) AND t.kind = 'session' AND t.revoked_at IS NULL"
        " AND t.expires_at > now() AND o.renew_at <= now()",
        (digests,),
    ).fetchall()
    return [r[0] for r in rows]


def due(conn: psycopg.Connection[Any], *, sha256: str) -> dict[str, Any] | None:
    """This session (by its credential's SHA-256), locked, when it is in force and its
    renewal is due (None otherwise, or when another request renews it right now). Does not
    commit."""
    row = conn.execute(
        "SELECT t.id, t.label, t.role, o.refresh_token FROM tokens t"
        " JOIN oidc_sessions o ON o.token_id = t.id WHERE t.token_sha256 = %s"
        " AND t.kind = 'session' AND t.revoked_at IS NULL AND t.expires_at > now()"
        " AND o.renew_at <= now() FOR UPDATE OF o SKIP LOCKED",
        (sha256,),
    ).fetchone()
    if row is None:
        return None
    return dict(zip(("id", "name", "role", "refresh_token"), row, strict=True))


def renewed(
    conn: psycopg.Connection[Any],
    *,
    config: OidcConfig,
    token_id: int,
    refresh_token: str | None,
    extend: bool = True,
) -> None:
    """After a renewal: unused for idle_min from now it ends (never past ends_at); the next
    renewal in renew_min (`extend=False`: the provider could not be asked, try again in a
    minute and leave the end where it is). Does not commit."""
    if extend:
        conn.execute(
            "UPDATE tokens SET expires_at = least(now() + make_interval(mins => %s), ends_at)"
            " WHERE id = %s",
            (config.idle_min, token_id),
        )
    conn.execute(
        "UPDATE oidc_sessions SET renew_at = now() + make_interval(mins => %s),"
        " refresh_token = coalesce(%s, refresh_token) WHERE token_id = %s",
        (config.renew_min if extend else 1, refresh_token, token_id),
    )


def ended_by_provider(conn: psycopg.Connection[Any], *, token_id: int) -> None:
    """The provider no longer renews it: the session ends. Does not commit."""
    conn.execute("UPDATE tokens SET revoked_at = now() WHERE id = %s", (token_id,))
