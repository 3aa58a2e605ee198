"""`callboard simulate`: a simulated contact center, live into the database or into a file."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from app.cli.root import app, connect, database, err, sigterm_exits, timestamp
from app.settings import get_settings


@app.command()
def simulate(
    agents: Annotated[int, typer.Option(min=1, help="agents on the floor")] = 40,
    queues: Annotated[int, typer.Option(min=1, max=4, help="queues (up to 4)")] = 4,
    hours: Annotated[float, typer.Option(min=0.1, help="simulated hours from --start")] = 11.0,
    seed: Annotated[int, typer.Option()] = 1,
    speed: Annotated[float | None, typer.Option(min=0.1, help="live into the database")] = None,
    out: Annotated[
        Path | None, typer.Option(help="as fast as possible, to a JSON-lines file")
    ] = None,
    start: Annotated[str | None, typer.Option(help="RFC 3339; default today 07:00 local")] = None,
    config_out: Annotated[
        Path | None, typer.Option(help="write the center's callboard.toml")
    ] = None,
) -> None:
    """A simulated contact center: live into the database at --speed times real time, or as
    fast as possible into a file (the same file for the same seed and start)."""
    from ingest.sim.center import demo_center
    from ingest.sim.engine import Simulation
    from ingest.sim.live import day_start, feed, jsonl, write_config

    if (speed is None) == (out is None):
        err.print("[red]give exactly one of --speed and --out[/]")
        raise typer.Exit(2)
    center = demo_center(agents=agents, queues=queues, seed=seed)
    if out is not None:
        begin = timestamp(start) or day_start(center, datetime.now(UTC).date())
        if config_out is not None:
            write_config(center, begin.date(), config_out)
        n = 0
        with out.open("wb") as f:
            for line in jsonl(Simulation(center, start=begin, hours=hours, seed=seed).run()):
                f.write(line)
                n += 1
        err.print(f"{n} events from {begin.isoformat()} to {out}")
        return

    assert speed is not None
    from app.clock import Clock
    from app.schedules.schemas import ScheduleEntry
    from app.schedules.service import upsert
    from ingest.sim.center import schedule

    begin = timestamp(start) or datetime.now(UTC)
    clock = Clock() if start is None and speed == 1 else Clock(begin, time.time(), speed)
    if clock.simulated:
        err.print(
            "the server must run on the same clock:\n"
            f"  CALLBOARD_CLOCK_ORIGIN={begin.isoformat()} CALLBOARD_CLOCK_WALL0={clock.wall0!r}"
            f" CALLBOARD_CLOCK_SPEED={speed!r} callboard serve"
        )
    if config_out is not None:
        write_config(center, begin.date(), config_out)
    # ids unique per run: a second run of the same seed is a new day's traffic, not duplicates
    sim = Simulation(
        center, start=begin, hours=hours, seed=seed, prefix=f"s{seed}-{int(time.time())}-"
    )
    settings = get_settings()
    with database(settings) as url:
        with connect(url) as conn, conn.transaction():
            upsert(conn, [ScheduleEntry(**e) for e in schedule(center, begin.date())])
        sigterm_exits()
        stop = threading.Event()
        err.print(
            f"simulating {agents} agents at {speed:g}x from {begin.isoformat()}; Ctrl-C stops"
        )
        try:
            feed(lambda: connect(url), sim, clock, stop=stop)
        except KeyboardInterrupt:
            stop.set()
