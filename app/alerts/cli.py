"""`callboard alerts`: list active alerts (`--all`: cleared ones too), `ack ID`, and
`deliveries ID` (each notification and its attempts)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
import psycopg
import typer
from rich.console import Console

from app.alerts import service
from app.alerts.texts import alert_text, scope_words

alerts_cli = typer.Typer(
    invoke_without_command=True,
    help="Alerts raised, acknowledged, cleared.",
)
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def _connection() -> Iterator[psycopg.Connection[Any]]:
    from app.cli import _database, _libpq, _require_schema
    from app.settings import get_settings

    with _database(get_settings()) as url:
        _require_schema(url)
        with psycopg.connect(_libpq(url)) as conn:
            yield conn  # commits on a clean exit


@alerts_cli.callback()
def alerts(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="cleared alerts too")] = False,
    limit: Annotated[int, typer.Option(min=1, help="at most this many")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts")] = False,
) -> None:
    """Active alerts, most severe first (with --all, then the newest cleared)."""
    if ctx.invoked_subcommand is not None:
        return
    with _connection() as conn:
        items = service.listing(conn, cleared=all_, limit=limit)
    if as_json:
        sys.stdout.write(orjson.dumps({"alerts": items}).decode() + "\n")
        return
    if not items:
        Console().print("No active alerts." if not all_ else "No alerts.")
        return
    out = Console(soft_wrap=True, highlight=False)
    for i in items:
        line = (
            f"#{i['id']} {i['severity'].upper():8} {scope_words('en', i['scope'])}:"
            f" {alert_text('en', i)} · raised {_hm(i['raised_at'])}"
        )
        if i["acknowledged_at"]:
            line += f" · acknowledged by {i['acknowledged_by']} {_hm(i['acknowledged_at'])}"
        if i["cleared_at"]:
            line += f" · cleared {_hm(i['cleared_at'])}"
        out.print(line, markup=False)


@alerts_cli.command()
def ack(
    alert_id: Annotated[int, typer.Argument(help="the alert's id (first column of the list)")],
    by: Annotated[str | None, typer.Option(help="who; default cli:<your login>")] = None,
) -> None:
    """Acknowledge an alert: records who and when."""
    who = by or f"cli:{getpass.getuser()}"
    try:
        with _connection() as conn:
            done = service.acknowledge(conn, alert_id, by=who, now=datetime.now(UTC))
    except service.AckError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    Console().print(
        f"alert {alert_id} acknowledged by {done['acknowledged_by']} at {done['acknowledged_at']}"
    )


@alerts_cli.command()
def deliveries(
    alert_id: Annotated[int, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Each notification of an alert and every attempt to deliver it."""
    with _connection() as conn:
        rows = service.deliveries(conn, alert_id)
    if as_json:
        sys.stdout.write(orjson.dumps({"deliveries": rows}).decode() + "\n")
        return
    for r in rows:
        Console().print(f"{r['target']} {r['event']} ({r['step']}): {r['status']}")
        for a in r["attempts_log"]:
            Console().print(
                f"  #{a['attempt']} {a['at']} {'ok' if a['ok'] else 'failed'}: {a['detail']}"
            )


def _hm(value: str | None) -> str:
    return "" if value is None else value[:19].replace("T", " ")
