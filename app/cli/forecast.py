"""`callboard forecast`: build from history, import a WFM tool's CSV, back-test
(docs/FORECAST.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import psycopg
import typer
from rich.console import Console

from app.cli.root import app, connect, current_clock, database, err, print_json, refused
from app.config import CallboardConfig

forecast_app = typer.Typer(no_args_is_help=True, help="Demand forecasts (docs/FORECAST.md).")
app.add_typer(forecast_app, name="forecast")


@contextmanager
def _connection() -> Iterator[tuple[psycopg.Connection[Any], CallboardConfig, datetime]]:
    from app.config import current_config, load_config
    from app.settings import get_settings

    settings = get_settings()
    clock, _ = current_clock(settings)
    with database(settings) as url, connect(url) as conn:
        stored = current_config(conn)
        config = stored[1] if stored else load_config(settings.config)
        yield conn, config, clock.now()  # commits on a clean exit


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]{option} must be a date, YYYY-MM-DD (got {text!r})[/]")
        raise typer.Exit(2) from None


@forecast_app.command("build")
def build_cmd(
    days: Annotated[int, typer.Option(min=1, max=62, help="days from today")] = 7,
    method: Annotated[str | None, typer.Option(help="a method of docs/FORECAST.md")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Forecast contacts offered and AHT per queue and quarter hour, today and the coming days,
    from the stored history (run it daily)."""
    from app.forecast import service
    from app.forecast.methods import DEFAULT_METHOD

    with _connection() as (conn, config, now):
        today = now.astimezone(ZoneInfo(config.defaults.timezone)).date()
        with refused(ValueError):
            result = service.build(
                conn, config, today=today, days=days, method=method or DEFAULT_METHOD
            )
    if as_json:
        print_json(result)
        return
    err.print(
        f"{result['intervals']} intervals forecast ({result['method']}) from {result['from']} "
        f"for {len(result['queues'])} queue(s)"
    )
    if result["without_history"]:
        err.print("no history on these weekdays yet: " + ", ".join(result["without_history"]))


@forecast_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV: queue,start,offered[,aht_s]")],
) -> None:
    """Store a WFM tool's forecast; each bad row is reported by its line and not stored."""
    from app.forecast.imports import parse
    from app.forecast.service import store

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]cannot read {file}: {exc}[/]")
        raise typer.Exit(2) from exc
    rows, errors = parse(text)
    with _connection() as (conn, _config, now):
        stored = store(conn, rows, now=now.astimezone(UTC))
    for e in errors:
        err.print(f"{file}:{e.line}: {e.message}")
    err.print(f"{stored} intervals stored, {len(errors)} row(s) rejected")
    if errors:
        raise typer.Exit(1)


@forecast_app.command("backtest")
def backtest_cmd(
    start: Annotated[str, typer.Option("--from", help="first test day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="last test day, YYYY-MM-DD (inclusive)")],
    method: Annotated[str | None, typer.Option(help="the method scored first")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="rows and summary for scripts")] = False,
) -> None:
    """Forecast days that happened from only the history before --from; WAPE and bias per
    interval and per day of every method, seasonal naive among them."""
    from app.forecast import service
    from app.forecast.methods import DEFAULT_METHOD

    first, last = _day(start, "--from"), _day(end, "--to")
    # OverflowError: a --to of 9999-12-31 has no day after it to end the history at
    with _connection() as (conn, config, _now), refused(ValueError, OverflowError):
        result = service.run_backtest(
            conn, config, first=first, last=last, method=method or DEFAULT_METHOD
        )
    if as_json:
        print_json(result)
        return
    out = Console(highlight=False, soft_wrap=True)
    out.print(f"back-test {first} to {last}, trained on the history before {first}")
    out.print(
        f"{'method':22} {'offered':>8} {'WAPE 15m':>9} {'bias 15m':>9} "
        f"{'WAPE day':>9} {'bias day':>9}"
    )
    for m, s in result["summary"].items():
        name = m + (" *" if m == result["default"] else "")
        out.print(
            f"{name:22} {s['offered']:>8,} {_pct(s['interval']['wape']):>9} "
            f"{_pct(s['interval']['bias']):>9} {_pct(s['day']['wape']):>9} "
            f"{_pct(s['day']['bias']):>9}"
        )
    out.print("* the default method")
    aht = result["aht"]
    out.print(f"AHT per interval: WAPE {_pct(aht['wape'])}, bias {_pct(aht['bias'])}")


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{value:.1%}"
