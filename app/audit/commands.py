"""`callboard audit [--since] [--json]` (registered in app/cli.py)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from app.audit.service import entries
from app.auth.commands import _connection


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
    with _connection() as conn:
        rows = entries(conn, since=since_of(since), action=action, limit=limit)
    if json:
        for r in rows:
            sys.stdout.write(orjson.dumps(r).decode() + "\n")
        return
    table = Table(title=f"{len(rows)} entries")
    for column in ("when", "action", "who", "role", "from", "what", ""):
        table.add_column(column)
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
