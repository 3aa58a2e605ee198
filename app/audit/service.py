"""The audit trail: who did what, when, from where. One row per event, written in the
transaction of the change it records (an acknowledgement and its entry commit together);
kept for `[audit] keep_days`.

Actions recorded: signin (ok or not, with the reason), signout, session.end (the provider
ended it), token.create, token.revoke, wall.pair, wall.unpair, alert.ack, export,
report.download, config.change (docs/SECURITY.md, The audit trail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import psycopg

from app.auth.service import Principal


def record(
    conn: psycopg.Connection[Any],
    *,
    action: str,
    actor: str,
    role: str | None = None,
    address: str | None = None,
    target: str | None = None,
    ok: bool = True,
    detail: dict[str, Any] | None = None,
) -> None:
    """One entry, in the caller's transaction (does not commit)."""
    conn.execute(
        "INSERT INTO audit_log (action, actor, role, address, target, ok, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)",
        (
            action,
            actor[:200],
            role,
            address,
            target[:500] if target else None,
            ok,
            orjson.dumps(detail or {}).decode(),
        ),
    )


def record_by(
    conn: psycopg.Connection[Any],
    principal: Principal,
    *,
    action: str,
    address: str | None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """An entry for what a signed-in person or a token did."""
    record(
        conn,
        action=action,
        actor=principal.name or principal.role,
        role=principal.role,
        address=address,
        target=target,
        detail=detail,
    )


COLUMNS = ("id", "at", "action", "actor", "role", "address", "target", "ok", "detail")


def entries(
    conn: psycopg.Connection[Any],
    *,
    since: datetime | None = None,
    action: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The newest entries first."""
    rows = conn.execute(
        "SELECT id, at, action, actor, role, address, target, ok, detail FROM audit_log"
        " WHERE (%(since)s::timestamptz IS NULL OR at >= %(since)s)"
        " AND (%(action)s::text IS NULL OR action = %(action)s OR action LIKE %(prefix)s)"
        " ORDER BY at DESC, id DESC LIMIT %(limit)s",
        {"since": since, "action": action, "prefix": f"{action}.%", "limit": limit},
    ).fetchall()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def prune(conn: psycopg.Connection[Any], *, keep_days: int) -> int:
    """Entries older than keep_days are gone. Returns how many."""
    cur = conn.execute(
        "DELETE FROM audit_log WHERE at < now() - make_interval(days => %s)", (keep_days,)
    )
    return cur.rowcount
