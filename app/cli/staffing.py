"""`callboard staffing`: Erlang C from the command line."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer
from rich.console import Console

from app.cli.root import app, err, print_json, refused

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
    from app.staffing.service import plan

    if per not in _PERIODS:
        err.print(f"[red]--per must be one of {', '.join(_PERIODS)}[/]")
        raise typer.Exit(2)
    with refused(ValueError):
        result = plan(
            arrivals=arrivals,
            per_s=_PERIODS[per],
            aht_s=aht,
            target=target,
            within_s=within,
            shrinkage=shrinkage,
        )
    if as_json:
        print_json(result)
        return
    err.print(
        f"traffic {result['traffic_erlangs']:g} Erlangs: {result['agents_required']} agents for "
        f"{target:.0%} within {within:g} s"
    )
    err.print(f"to schedule: {result['scheduled_required']} with {shrinkage:.0%} shrinkage")
    Console(highlight=False).print(levels_table(result))


def levels_table(result: dict[str, Any]) -> Any:
    """Each staffing level as people read it (within 80 columns): per cent to a tenth, the
    answer time as the screens write it; * marks the agents required."""
    from rich import box
    from rich.table import Table

    from app.screens.words import duration

    def pct(v: float) -> str:
        return f"{v * 100:.1f}%"

    def asa(v: float) -> str:
        return "–" if not math.isfinite(v) else f"{v:.0f} s" if v < 60 else duration(v)

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("agents", "P(wait)", "service level", "avg. answer", "occupancy"):
        table.add_column(col, justify="right", no_wrap=True)
    for lv in result["levels"]:
        mark = " *" if lv["agents"] == result["agents_required"] else ""
        table.add_row(
            f"{lv['agents']}{mark}",
            pct(lv["p_wait"]),
            pct(lv["service_level"]),
            asa(lv["asa_s"]),
            pct(lv["occupancy"]),
        )
    return table
