"""`callboard token list` and `callboard token revoke` (registered on `token` in app/cli.py)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import orjson
import psycopg
import typer
from rich.console import Console
from rich.table import Table

from app import db
from app.auth.service import digest, list_tokens, revoke_token
from app.settings import get_settings

err = Console(stderr=True, soft_wrap=True)


@contextmanager
def _connection() -> Iterator[psycopg.Connection[Any]]:
    with (
        db.database_url(get_settings()) as url,
        psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn,
    ):
        yield conn


def token_list(
    revoked: Annotated[bool, typer.Option(help="also revoked tokens")] = False,
    json: Annotated[bool, typer.Option("--json", help="JSON lines, for scripts")] = False,
) -> None:
    """The tokens: id, hash prefix, role, what they are bound to, label, when made and
    revoked. The tokens themselves are never stored, so never shown."""
    with _connection() as conn:
        tokens = list_tokens(conn, revoked=revoked)
    if json:
        for t in tokens:
            sys.stdout.write(orjson.dumps(t).decode() + "\n")
        return
    table = Table(title=f"{len(tokens)} tokens")
    for column in ("id", "sha256", "role", "bound to", "label", "created", "revoked"):
        table.add_column(column)
    for t in tokens:
        bound = t["agent"] or ", ".join(t["teams"] or ()) or ""
        table.add_row(
            str(t["id"]),
            t["sha256"],
            t["role"],
            bound,
            t["label"] or "",
            f"{t['created_at']:%Y-%m-%d %H:%M}",
            f"{t['revoked_at']:%Y-%m-%d %H:%M}" if t["revoked_at"] else "",
        )
    Console().print(table)


def token_revoke(
    which: Annotated[str, typer.Argument(help="the id (token list), the token, or its sha256")],
) -> None:
    """Revoke a token: requests with it are refused within 5 seconds on every server
    (at once on new ones), its screens with them."""
    with _connection() as conn:
        try:
            revoked = revoke_token(conn, which)
        except ValueError as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
        if not revoked:
            err.print(f"[red]no active token matches {which!r}[/] (see callboard token list)")
            raise typer.Exit(1)
        t = revoked[0]
        audit_cli(conn, "token.revoke", f"token {t['id']} ({t['role']})")
        conn.commit()
    err.print(f"revoked token {t['id']} ({t['role']}{', ' + t['agent'] if t['agent'] else ''})")


def audit_cli(conn: psycopg.Connection[Any], action: str, target: str) -> None:
    """An audit entry for a command run on the server: the operating system's user."""
    from app.audit.service import record

    record(conn, action=action, actor=f"cli:{getpass.getuser()}", role="admin", target=target)


def token_target(conn: psycopg.Connection[Any], token: str) -> str:
    row = conn.execute(
        "SELECT id, role, label FROM tokens WHERE token_sha256 = %s", (digest(token),)
    ).fetchone()
    assert row is not None
    return f"token {row[0]} ({row[1]}{', ' + row[2] if row[2] else ''})"


def register(token_cli: typer.Typer) -> None:
    token_cli.command("list")(token_list)
    token_cli.command("revoke")(token_revoke)
