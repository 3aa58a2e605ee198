"""`callboard token create`, `token list` and `token revoke`: access tokens."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import orjson
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from app.cli.audit import audit_cli, token_target
from app.cli.root import app, connect, connection, database, err, refused

token_app = typer.Typer(no_args_is_help=True, help="Access tokens.")
app.add_typer(token_app, name="token")


@token_app.command("list")
def token_list(
    revoked: Annotated[bool, typer.Option(help="also revoked tokens and ended sessions")] = False,
    json: Annotated[bool, typer.Option("--json", help="JSON lines, for scripts")] = False,
) -> None:
    """The tokens: id, hash prefix, role, what they are bound to, label, when made and
    revoked. The tokens themselves are never stored, so never shown."""
    from app.auth.service import list_tokens

    with database(schema=False) as url, connect(url) as conn:
        tokens = list_tokens(conn, revoked=revoked)
    if json:
        for t in tokens:
            sys.stdout.write(orjson.dumps(t).decode() + "\n")
        return
    # dates, ids and roles are never cut or wrapped (in 80 columns the date lost its time);
    # what is bound and the label wrap instead; "ended" (revoked, or a session that expired)
    # only when those are asked for
    table = Table(title=f"{len(tokens)} tokens", box=box.SIMPLE_HEAD, pad_edge=False)
    # kind: a token made here, a person's sign-in session, a paired TV
    for column in ("id", "sha256", "kind", "role"):
        table.add_column(column, no_wrap=True)
    table.add_column("bound to", overflow="fold")
    table.add_column("label", overflow="fold")
    dates = ("created", "ended") if revoked else ("created",)
    for column in dates:
        table.add_column(column, no_wrap=True, min_width=16)
    for t in tokens:
        bound = t["agent"] or ", ".join(t["teams"] or ()) or ""
        ended = t["revoked_at"] or (
            t["expires_at"] if t["expires_at"] and t["expires_at"] <= datetime.now(UTC) else None
        )
        row = [
            str(t["id"]),
            t["sha256"],
            t["kind"],
            t["role"],
            bound,
            t["label"] or "",
            f"{t['created_at']:%Y-%m-%d %H:%M}",
        ]
        if revoked:
            row.append(f"{ended:%Y-%m-%d %H:%M}" if ended else "")
        table.add_row(*row)
    Console().print(table)


@token_app.command("revoke")
def token_revoke(
    which: Annotated[str, typer.Argument(help="the id (token list), the token, or its sha256")],
) -> None:
    """Revoke a token: requests with it are refused within 5 seconds on every server
    (at once on new ones), its screens with them."""
    from app.auth.service import revoke_token

    with database(schema=False) as url, connect(url) as conn:
        with refused(ValueError):
            revoked = revoke_token(conn, which)
        if not revoked:
            err.print(f"[red]no active token matches {which!r}[/] (see callboard token list)")
            raise typer.Exit(1)
        t = revoked[0]
        audit_cli(conn, "token.revoke", f"token {t['id']} ({t['role']})")
        conn.commit()
    err.print(f"revoked token {t['id']} ({t['role']}{', ' + t['agent'] if t['agent'] else ''})")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="agent, supervisor, wallboard, ingest or admin")],
    agent: Annotated[str | None, typer.Option(help="the agent an agent token is bound to")] = None,
    team: Annotated[list[str] | None, typer.Option(help="a supervisor's team (repeat)")] = None,
    label: Annotated[str | None, typer.Option(help="what the token is for")] = None,
    source: Annotated[
        list[str] | None, typer.Option(help="an ingest token writes only this source (repeat)")
    ] = None,
) -> None:
    """Print a new access token (only its hash is stored: keep it, it is shown once)."""
    from app.auth.service import create_token

    with connection() as conn:
        with refused(ValueError):
            token = create_token(
                conn,
                role=role,  # type: ignore[arg-type]  # checked by create_token
                agent=agent,
                teams=tuple(team or ()),
                label=label,
                sources=tuple(source or ()),
            )
        audit_cli(conn, "token.create", token_target(conn, token))
        conn.commit()
    sys.stdout.write(token + "\n")
