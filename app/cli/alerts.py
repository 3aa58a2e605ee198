"""`callboard alerts`: list active alerts (`--all`: cleared ones too), `ack ID`, and
`deliveries ID` (each notification and its attempts)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from app.cli.root import app, connection, print_json, refused

alerts_app = typer.Typer(
    invoke_without_command=True,
    help="Alerts raised, acknowledged, cleared.",
)
app.add_typer(alerts_app, name="alerts")


@alerts_app.callback()
def alerts(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="cleared alerts too")] = False,
    limit: Annotated[int, typer.Option(min=1, help="at most this many")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts")] = False,
) -> None:
    """Active alerts, most severe first (with --all, then the newest cleared)."""
    if ctx.invoked_subcommand is not None:
        return
    from app.alerts import service
    from app.alerts.texts import alert_text, scope_words

    with connection() as conn:
        items = service.listing(conn, cleared=all_, limit=limit)
    if as_json:
        print_json({"alerts": items})
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


@alerts_app.command()
def ack(
    alert_id: Annotated[int, typer.Argument(help="the alert's id (first column of the list)")],
    by: Annotated[str | None, typer.Option(help="who; default cli:<your login>")] = None,
) -> None:
    """Acknowledge an alert: records who and when."""
    from app.alerts import service

    who = by or f"cli:{getpass.getuser()}"
    with refused(service.AckError, code=1), connection() as conn:
        done = service.acknowledge(conn, alert_id, by=who, now=datetime.now(UTC))
    Console().print(
        f"alert {alert_id} acknowledged by {done['acknowledged_by']} at {done['acknowledged_at']}"
    )


@alerts_app.command()
def deliveries(
    alert_id: Annotated[int, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Each notification of an alert and every attempt to deliver it."""
    from app.alerts import service

    with connection() as conn:
        rows = service.deliveries(conn, alert_id)
    if as_json:
        print_json({"deliveries": rows})
        return
    for r in rows:
        Console().print(f"{r['target']} {r['event']} ({r['step']}): {r['status']}")
        for a in r["attempts_log"]:
            Console().print(
                f"  #{a['attempt']} {a['at']} {'ok' if a['ok'] else 'failed'}: {a['detail']}"
            )


def _hm(value: str | None) -> str:
    return "" if value is None else value[:19].replace("T", " ")
