"""`callboard serve` (the API and the screens) and `callboard demo` (the same with an
embedded database and a simulated floor)."""

from __future__ import annotations

import os
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
import psycopg
import typer

from app import db
from app.cli.root import (
    app,
    connect,
    database,
    err,
    migrate_to_head,
    require_schema,
    sigterm_exits,
    write_demo_clock,
)
from app.settings import Settings, get_settings


def _serve(
    settings: Settings, url: str, *, port: int | None, workers: int, embedded: Any = None
) -> None:
    from app.ops.serve import run

    # Workers are separate processes: they find the (possibly embedded) database through the
    # environment, and do not own it.
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()  # the app (in this process when workers=1) reads them anew
    code = run(settings, port=port, workers=workers, embedded=embedded)
    if code:
        raise typer.Exit(code)


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="default CALLBOARD_PORT or 8000")] = None,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """API and dashboard, no simulator."""
    sigterm_exits()
    settings = get_settings()
    with db.embedded_or_url(settings) as (url, embedded):
        require_schema(url)
        _serve(settings, url, port=port, workers=workers, embedded=embedded)


DEMO_SOURCE = "demo"


def _demo_tokens(conn: psycopg.Connection[Any], center: Any, keep: Path) -> dict[str, str]:
    """A token per screen for the demo, the same on every run (kept in `keep`, readable by
    the owner only): the screens left open from the last run carry on by themselves."""
    from app.auth.service import create_token, principal_for

    kept: dict[str, str] = {}
    with suppress(OSError, ValueError):
        kept = dict(orjson.loads(keep.read_bytes()))
    wanted: dict[str, dict[str, Any]] = {
        "wallboard": {"role": "wallboard"},
        "agent": {"role": "agent", "agent": "a01"},
        "supervisor": {"role": "supervisor", "teams": tuple(center.teams)},
        "admin": {"role": "admin"},
    }
    out: dict[str, str] = {}
    with conn.transaction():
        for name, spec in wanted.items():
            token = kept.get(name)
            principal = principal_for(conn, token) if token else None
            same = principal is not None and principal.role == spec["role"]
            if name == "supervisor" and principal is not None:
                same = same and principal.teams == frozenset(spec["teams"])
            # the label is who acknowledges an alert from that screen ("demo supervisor")
            label = f"demo {name}"
            out[name] = token if same and token else create_token(conn, label=label, **spec)
    keep.parent.mkdir(parents=True, exist_ok=True)
    keep.touch(mode=0o600)
    keep.write_bytes(orjson.dumps(out))
    return out


@app.command()
def demo(
    port: Annotated[int | None, typer.Option()] = None,
    agents: Annotated[int, typer.Option(min=1)] = 40,
    speed: Annotated[float, typer.Option(min=0.1, help="simulated seconds per second")] = 10.0,
    at: Annotated[float, typer.Option(help="local hour the live floor starts at")] = 8.5,
    seed: Annotated[
        int | None,
        typer.Option(help="another simulated day (the default one slips at the 09:00 peak)"),
    ] = None,
) -> None:
    """Everything `make demo` does: embedded database, migrations, a simulated center of about
    40 agents in 3 teams over 4 queues, running live at --speed, and the server."""
    from app.clock import Clock
    from ingest.derived import rebuild
    from ingest.sim.center import demo_center, local
    from ingest.sim.engine import Simulation
    from ingest.sim.live import (
        DEMO_HOURS,
        DEMO_SEED,
        DEMO_WALLBOARDS,
        demo_alerts,
        start_thread,
        store,
        write_config,
    )
    from ingest.sim.live import (
        SOURCE as SIM_HEALTH_ROW,
    )

    sigterm_exits()
    settings = get_settings()
    center = demo_center(agents=agents)
    today = datetime.now(UTC).astimezone(ZoneInfo(center.timezone)).date()
    config_path = settings.data_dir / "demo" / "callboard.toml"
    write_config(center, today, config_path)
    with database(settings, schema=False) as url:
        revision = migrate_to_head(url)
        origin = local(today, at, center.timezone)
        clock = Clock(origin, time.time(), speed)
        sim = Simulation(
            center,
            start=local(today, 7.0, center.timezone),
            hours=DEMO_HOURS,
            seed=DEMO_SEED if seed is None else seed,
            source=DEMO_SOURCE,
            prefix=f"d{int(clock.wall0)}-",
        )
        with connect(url) as conn:
            # a new demo day: the previous run's simulated floor is replaced, nothing else
            with conn.transaction():
                conn.execute("DELETE FROM events WHERE source = %s", (DEMO_SOURCE,))
                # and the alerts of that floor (an alert left open, acknowledged or raised at a
                # later simulated hour would carry on into the new morning)
                rules = [r["name"] for r in demo_alerts(center)]
                conn.execute("DELETE FROM alerts WHERE rule = ANY(%s)", (rules,))
                # and the simulator's health row: its newest event was the previous run's, hours
                # ahead of the new morning (`callboard sources` showed a negative age)
                conn.execute("DELETE FROM source_stats WHERE source = %s", (SIM_HEALTH_ROW,))
                rebuild(conn)
            history = store(conn, sim.advance(sim.sim_time(origin)))
            tokens = _demo_tokens(conn, center, settings.data_dir / "demo" / "tokens.json")
        host, p = settings.host, port or settings.port
        base = f"http://{host}:{p}"
        err.print(
            f"[bold]callboard demo[/]  schema {revision}, {len(center.agents)} agents, "
            f"{len(center.queues)} queues, {speed:g}x from {int(at):02d}:{round(at % 1 * 60):02d} "
            f"({history.inserted} events of the morning so far)"
        )
        err.print(f"  wallboard    {base}/wall?token={tokens['wallboard']}")
        for board, spec in DEMO_WALLBOARDS.items():
            err.print(f"  wall {spec['lang']:7} {base}/wall/{board}?token={tokens['wallboard']}")
        err.print(f"  agent a01    {base}/agent/a01?token={tokens['agent']}")
        err.print(f"  supervisor   {base}/sup?token={tokens['supervisor']}")
        # the API takes the token in a header only (a URL's token would reach logs and history)
        bearer = f"-H 'Authorization: Bearer {tokens['admin']}'"
        err.print(f"  metrics      curl {bearer} '{base}/api/v1/metrics?by=queue&window=15m'")
        err.print(f"  staffing     curl {bearer} '{base}/api/v1/staffing?queue=billing'")
        err.print(f"  API docs     {base}/docs")
        err.print(f"  config       {config_path}")
        os.environ.update(
            CALLBOARD_CONFIG=str(config_path),
            CALLBOARD_CLOCK_ORIGIN=origin.isoformat(),
            CALLBOARD_CLOCK_WALL0=repr(clock.wall0),
            CALLBOARD_CLOCK_SPEED=repr(speed),
        )
        write_demo_clock(settings, clock)
        thread, stop = start_thread(lambda: connect(url), sim, clock)
        try:
            _serve(settings, url, port=p, workers=1)
        finally:
            stop.set()
            thread.join(timeout=10)
