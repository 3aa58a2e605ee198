"""`callboard audit [--since] [--json]`: the audit trail; and the entry a command run on the
server writes (its actor is the operating system's user)."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
import psycopg
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from app.cli.root import app, connection


def audit_cli(conn: psycopg.Connection[Any], action: str, target: str) -> None:
    from app.audit.service import record

    record(conn, action=action, actor=f"cli:{getpass.getuser()}", role="admin", target=target)


def token_target(conn: psycopg.Connection[Any], token: str) -> str:
    from app.auth.service import digest

    row = conn.execute(
        "SELECT id, role, label FROM tokens WHERE token_sha256 = %s", (digest(token),)
    ).fetchone()
    assert row is not None
    return f"token {row[0]} ({row[1]}{', ' + row[2] if row[2] else ''})"


def since_of(text: str | None) -> datetime | None:
    """An ISO time, or a length back from now: 30m, 12h, 7d."""
    if text is None:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if text[:-1].isdigit() and text[-1:] in units:
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter("an ISO time, or 30m, 12h, 7d") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@app.command("audit")
def audit(
    since: Annotated[
        str | None, typer.Option(help="from when: an ISO time, or 30m, 12h, 7d back")
    ] = None,
    action: Annotated[str | None, typer.Option(help="one action, or a group: wall, token")] = None,
    limit: Annotated[int, typer.Option(min=1, help="at most this many, newest first")] = 200,
    json: Annotated[bool, typer.Option("--json", help="JSON lines, for scripts")] = False,
) -> None:
    """The audit trail: sign-ins and failures, tokens, pairing, acknowledgements, exports,
    configuration changes. Who, when, from where, what."""
    from app.audit.service import entries

    with connection() as conn:
        rows = entries(conn, since=since_of(since), action=action, limit=limit)
    if json:
        for r in rows:
            sys.stdout.write(orjson.dumps(r).decode() + "\n")
        return
    table = Table(title=f"{len(rows)} entries", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("when", "action", "who", "role", "from"):
        table.add_column(column, no_wrap=True)
    table.add_column("what", overflow="fold")
    table.add_column("")
    for r in rows:
        table.add_row(
            f"{r['at']:%Y-%m-%d %H:%M:%S}",
            r["action"],
            r["actor"],
            r["role"] or "",
            r["address"] or "",
            r["target"] or "",
            "" if r["ok"] else "failed",
        )
    Console().print(table)
