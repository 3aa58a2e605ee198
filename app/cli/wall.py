"""`callboard wall pair CODE NAME`, `wall unpair NAME`, `wall list`: TVs paired to
wallboards (app/auth/pairing.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.audit import audit_cli
from app.cli.root import app, connection, err

wall_app = typer.Typer(no_args_is_help=True, help="Wallboard TVs: pair, unpair, list.")
app.add_typer(wall_app, name="wall")


@wall_app.command("pair")
def wall_pair(
    code: Annotated[str, typer.Argument(help="the code the TV shows (ABC-123)")],
    name: Annotated[str, typer.Argument(help="the wallboard it shows: default or a NAME")],
) -> None:
    """Pair the TV showing CODE to wallboard NAME: that browser opens it within seconds."""
    from app.auth import pairing
    from app.config import current_config

    with connection() as conn:
        stored = current_config(conn)
        boards = set(stored[1].wallboards) if stored else set()
        if name != "default" and name not in boards:
            err.print(f"[red]no [wallboards.{name}] in the configuration[/]")
            raise typer.Exit(2)
        if not pairing.approve(conn, code=code, wallboard=name, by="cli"):
            err.print(f"[red]no TV shows the code {code!r}[/] (codes last 10 minutes)")
            raise typer.Exit(1)
        audit_cli(conn, "wall.pair", name)
        conn.commit()
    err.print(f"paired: the TV showing {pairing.normalise(code)} opens {name}")


@wall_app.command("unpair")
def wall_unpair(name: Annotated[str, typer.Argument(help="the wallboard")]) -> None:
    """Sign out every TV paired to wallboard NAME: their screens close within seconds."""
    from app.auth import pairing

    with connection() as conn:
        ids = pairing.unpair(conn, wallboard=name)
        audit_cli(conn, "wall.unpair", name)
        conn.commit()
    err.print(f"unpaired {len(ids)} TV(s) of {name}")


@wall_app.command("list")
def wall_list() -> None:
    """The paired TVs: id, wallboard, label, since when."""
    from app.auth import pairing

    with connection() as conn:
        for p in pairing.paired(conn):
            typer.echo(
                f"{p['id']}\t{p['wallboard']}\t{p['created_at']:%Y-%m-%d %H:%M}\t{p['label']}"
            )
