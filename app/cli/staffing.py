"""`callboard staffing`: Erlang C from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from app.cli.root import app, err, print_json

_PERIODS = {"15m": 900, "30m": 1800, "60m": 3600, "1h": 3600, "24h": 86400, "1d": 86400}


@app.command()
def staffing(
    arrivals: Annotated[float, typer.Option(help="contacts arriving per period")],
    aht: Annotated[float, typer.Option(help="average handle time, seconds")],
    per: Annotated[str, typer.Option(help="the period: 15m, 30m, 60m, 24h")] = "30m",
    target: Annotated[float, typer.Option(help="service level target, 0..1")] = 0.8,
    within: Annotated[float, typer.Option(help="service level threshold T, seconds")] = 20,
    shrinkage: Annotated[float, typer.Option(help="share of paid time off the phones")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Erlang C: agents required, and SL / ASA / occupancy / P(wait) for each level around it."""
    from rich.table import Table

    from app.staffing.service import plan

    if per not in _PERIODS:
        err.print(f"[red]--per must be one of {', '.join(_PERIODS)}[/]")
        raise typer.Exit(2)
    try:
        result = plan(
            arrivals=arrivals,
            per_s=_PERIODS[per],
            aht_s=aht,
            target=target,
            within_s=within,
            shrinkage=shrinkage,
        )
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    if as_json:
        print_json(result)
        return
    err.print(
        f"traffic {result['traffic_erlangs']} Erlangs: {result['agents_required']} agents for "
        f"{target:.0%} within {within:g} s; schedule {result['scheduled_required']} "
        f"with {shrinkage:.0%} shrinkage"
    )
    table = Table()
    for col in ("agents", "p_wait", "service_level", "asa_s", "occupancy"):
        table.add_column(col, justify="right")
    for lv in result["levels"]:
        mark = " *" if lv["agents"] == result["agents_required"] else ""
        table.add_row(
            f"{lv['agents']}{mark}",
            f"{lv['p_wait']:.4f}",
            f"{lv['service_level']:.4f}",
            f"{lv['asa_s']:.1f}",
            f"{lv['occupancy']:.4f}",
        )
    Console().print(table)
