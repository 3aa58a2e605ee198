"""`callboard report NAME --from DAY --to DAY`: a report of the past (queues, agents, abandoned,
waits) as JSON, CSV, XLSX or PDF, to stdout or a file; `callboard report run NAME` sends a
[[reports]] entry now. The same report as GET /api/v1/reports/{name} (app/reports)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import orjson
import typer

from app.cli.root import app, connect, current_clock, database, err
from app.settings import get_settings

report_app = typer.Typer(
    no_args_is_help=True, help="Reports of the past: queues, agents, abandoned, waits; run."
)
app.add_typer(report_app, name="report")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a day (YYYY-MM-DD)") from exc


def _report(name: str) -> None:
    def command(
        first: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD")],
        last: Annotated[str, typer.Option("--to", help="last day, inclusive")],
        by: Annotated[str, typer.Option(help="center, queue, team or agent")] = "queue",
        interval: Annotated[
            int | None, typer.Option(help="15, 30 or 60: rows by time of day")
        ] = None,
        fmt: Annotated[str, typer.Option("--format", help="json, csv, xlsx or pdf")] = "json",
        lang: Annotated[str, typer.Option(help="en, zh-CN, zh-TW or ru")] = "en",
        out: Annotated[Path | None, typer.Option("-o", "--output", help="file")] = None,
    ) -> None:
        from app.config import current_config, load_config
        from app.reports import formats
        from app.reports.config import LEVELS
        from app.reports.service import Days, ReportError, build

        if by not in LEVELS[name]:
            err.print(f"[red]--by: the {name} report is by {', '.join(LEVELS[name])}[/]")
            raise typer.Exit(2)
        if fmt not in formats.MEDIA:
            err.print("[red]--format must be json, csv, xlsx or pdf[/]")
            raise typer.Exit(2)
        if fmt in ("xlsx", "pdf") and out is None and sys.stdout.isatty():
            err.print(f"[red]{fmt} is not for a terminal: give -o FILE[/]")
            raise typer.Exit(2)
        settings = get_settings()
        clock, _ = current_clock(settings)
        with database(settings) as url, connect(url) as conn:
            stored = current_config(conn)
            config = stored[1] if stored else load_config(settings.config)
            try:
                report = build(
                    conn,
                    config,
                    name=name,
                    days=Days(_day(first), _day(last)),
                    by=by,  # type: ignore[arg-type]
                    interval=interval,
                    now=clock.now(),
                )
            except ReportError as exc:
                err.print(f"[red]{exc}[/]")
                raise typer.Exit(2) from exc
        data = orjson.dumps(report) + b"\n" if fmt == "json" else formats.render(report, fmt, lang)
        if out is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            out.write_bytes(data)
            err.print(f"{name}: {len(report['rows'])} rows -> {out}")

    command.__doc__ = f"The {name} report over days (docs/METRICS.md's definitions)."
    report_app.command(name)(command)


for _name in ("queues", "agents", "abandoned", "waits"):
    _report(_name)


@report_app.command("run")
def run(name: Annotated[str, typer.Argument(help="a [[reports]] entry's name")]) -> None:
    """Send a [[reports]] entry now (its latest due time's range; a late source's gap is
    stated in the report)."""
    from app.config import current_config, load_config
    from app.reports.schedule import send_now

    settings = get_settings()
    clock, _ = current_clock(settings)
    with database(settings) as url, connect(url) as conn:
        stored = current_config(conn)
        config = stored[1] if stored else load_config(settings.config)
        try:
            sent = send_now(conn, config, name, clock.now())
        except LookupError as exc:
            err.print(f"[red]{exc.args[0]}[/]")
            raise typer.Exit(2) from exc
        except OSError as exc:
            err.print(f"[red]sending failed: {exc}[/]")
            raise typer.Exit(1) from exc
    r = sent.report
    gap = f" (data only up to {r['gap']})" if sent.gap else ""
    err.print(
        f"{name}: {r['report']} {r['from']} – {r['to']} sent to {', '.join(sent.entry.notify)}{gap}"
    )
