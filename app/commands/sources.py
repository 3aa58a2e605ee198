"""The source commands: `import queue-log`, `import cdr`, `consume nats`, `sources`.

Every source runs through the one committer (`ingest.sources.commit`) and ends with the same
summary: a table for people on stderr, one JSON line for scripts on stdout; exit 1 when
something was rejected, 2 when nothing could start (a bad mapping, an unknown time zone)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import psycopg
import typer
from rich.console import Console

if TYPE_CHECKING:
    from app.config import CallboardConfig
    from ingest.sources.commit import Summary

err = Console(stderr=True, soft_wrap=True)


def print_summary(summary: Summary, title: str, **extra: Any) -> None:
    """The one way a source's run is reported: the table for people on stderr, the summary's
    JSON on stdout (the caller exits 1 when something was rejected)."""
    print_table(summary, title)
    out = summary.as_dict() | extra
    sys.stdout.write(orjson.dumps(out).decode() + "\n")
    sys.stdout.flush()


def print_table(summary: Summary, title: str) -> None:
    """The summary's table on stderr: events per type, skipped kinds and why, rejects by
    position (`callboard import events` keeps its own JSON line, a promise of INTERFACES)."""
    from rich.table import Table

    from ingest.sources.commit import rows_of

    table = Table(title=title)
    table.add_column("event, skipped or rejected")
    table.add_column("count", justify="right")
    table.add_column("why")
    for row in rows_of(summary):
        table.add_row(*row)
    for r in summary.rejects[:20]:
        table.add_row(f"[red]{r.position}[/]", "", r.reason)
    if summary.rejected > 20:
        table.add_row(
            "[red]...[/]", str(summary.rejected - 20), "more in the JSON and source_lines"
        )
    err.print(table)


def _exit_for(summary: Summary) -> None:
    if summary.rejected:
        raise typer.Exit(1)


def source_config(conn: psycopg.Connection[Any]) -> CallboardConfig:
    """The configuration in force: CALLBOARD_CONFIG's file, else the stored one, else defaults."""
    from app.config import ConfigError, current_config, load_config
    from app.settings import get_settings

    settings = get_settings()
    if settings.config is not None:
        try:
            return load_config(settings.config)
        except ConfigError as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from exc
    stored = current_config(conn)
    return stored[1] if stored else load_config(None)


def _progress(what: str) -> Any:
    def show(s: Summary) -> None:
        if err.is_terminal:
            err.print(f"  {s.events} events read, {s.inserted} stored ({what})", end="\r")

    return show


@contextmanager
def _stopping() -> Iterator[threading.Event]:
    """SIGTERM and Ctrl-C stop a follower after its last committed batch (it then prints its
    summary), instead of killing it mid-batch."""
    stop = threading.Event()
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in old:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def import_queue_log_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    source: Annotated[str, typer.Option(help="names this PBX's events")] = "queue_log",
    tz: Annotated[str, typer.Option(help="time zone of CSV exports' local times")] = "UTC",
    follow: Annotated[
        bool, typer.Option(help="tail a live queue_log; resumes after a restart")
    ] = False,
) -> None:
    """An Asterisk queue_log: the file, or a CSV export of the realtime table (data1..data5 or
    PBXware's layout), told apart by their content. Prints a summary per event type."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from app.cli import _writer_connection
    from ingest.sources.follow import Follower
    from ingest.sources.normalize import Normalizer
    from ingest.sources.queue_log_import import import_queue_log

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        err.print(f"[red]--tz: unknown time zone {tz!r}[/]")
        raise typer.Exit(2) from exc
    with _writer_connection() as conn:
        config = source_config(conn)
        normalizer = Normalizer.from_config(config)
        settings = config.sources.get(source)
        static = settings.static_by_agent() if settings else None
        if follow:
            with _stopping() as stop:
                err.print(f"following {file} as {source}; Ctrl-C or SIGTERM stops")
                follower = Follower(
                    conn, file.resolve(), source=source, static=static, normalizer=normalizer
                )
                summary = follower.run(stop)
            print_summary(summary, f"{file.name} (followed)")
            return
        summary = import_queue_log(
            conn,
            file,
            source=source,
            tz=tz,
            static=static,
            normalizer=normalizer,
            progress=_progress(file.name),
        )
    print_summary(summary, file.name)
    _exit_for(summary)


def import_cdr_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    mapping: Annotated[str, typer.Option(help="a mapping TOML file, or a shipped one's name")],
    source: Annotated[str | None, typer.Option(help="default: the mapping's name")] = None,
) -> None:
    """One-row-per-contact CSV exports with a column mapping (`anonymous-bank` is shipped)."""
    from app.cli import _writer_connection
    from ingest.sources.cdr import MappingError, check_header, import_cdr, load_mapping
    from ingest.sources.normalize import Normalizer

    try:
        name, m = load_mapping(mapping)
        check_header(file, m)
    except MappingError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    with _writer_connection() as conn:
        normalizer = Normalizer.from_config(source_config(conn))
        summary = import_cdr(
            conn,
            file,
            m,
            source=source or name,
            normalizer=normalizer,
            progress=_progress(file.name),
        )
    print_summary(summary, file.name)
    _exit_for(summary)


def consume_nats(
    subject: Annotated[str, typer.Option()] = "callboard.events",
    durable: Annotated[str, typer.Option(help="the durable consumer's name")] = "callboard",
    url: Annotated[str, typer.Option(help="the NATS server")] = "nats://127.0.0.1:4222",
    stream: Annotated[
        str, typer.Option(help="created for the subject if none exists")
    ] = "CALLBOARD",
    source: Annotated[str, typer.Option(help="names this stream's health row")] = "nats",
) -> None:
    """Contract events from NATS JetStream (one event or a JSON array per message), each
    batch acknowledged after the database commit."""
    import asyncio

    from app.cli import _database, _libpq, _require_schema
    from app.settings import get_settings
    from ingest.sources.normalize import Normalizer
    from ingest.sources.stream import consume

    with _database(get_settings()) as url_db:
        _require_schema(url_db)
        with psycopg.connect(_libpq(url_db), autocommit=True) as conn:
            normalizer = Normalizer.from_config(source_config(conn))

        async def run() -> Any:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            err.print(f"consuming {subject} from {url} as {durable}; Ctrl-C stops")
            return await consume(
                url=url,
                subject=subject,
                durable=durable,
                stream=stream,
                source=source,
                connect=lambda: psycopg.connect(_libpq(url_db), autocommit=True),
                stop=stop,
                normalizer=normalizer,
            )

        summary = asyncio.run(run())
    print_summary(summary, f"{subject} (NATS)")


def sources_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts")] = False,
) -> None:
    """Every source's health: last event and its age, events per minute, duplicates,
    rejects, gaps, followed files' offsets and lag; stale when silent longer than its
    `max_silence_s`."""
    from rich.table import Table

    from app.cli import _database, _libpq, _require_schema
    from app.settings import get_settings
    from ingest.sources.health import sources_payload

    with _database(get_settings()) as url:
        _require_schema(url)
        with psycopg.connect(_libpq(url)) as conn:
            payload = sources_payload(conn, source_config(conn), datetime.now(UTC))
    if as_json:
        sys.stdout.write(orjson.dumps(payload).decode() + "\n")
        return
    table = Table(title="sources")
    for col in (
        "source",
        "last event",
        "age",
        "per min",
        "stored",
        "dupl.",
        "rejected",
        "gaps",
        "lag",
        "status",
    ):
        table.add_column(col)
    for s in payload["sources"]:
        age = "" if s["age_s"] is None else f"{s['age_s']:.0f} s"
        lag = "" if s["lag_bytes"] is None else f"{s['lag_bytes']} B"
        table.add_row(
            s["source"],
            s["last_event_ts"] or "never",
            age,
            f"{s['events_per_min']:.1f}",
            str(s["inserted"]),
            str(s["duplicates"]),
            str(s["rejected"]),
            str(s["gaps"]),
            lag,
            "[red]stale[/]" if s["stale"] else "ok",
        )
    Console().print(table)


def register(cli: typer.Typer, import_cli: typer.Typer, consume_cli: typer.Typer) -> None:
    import_cli.command("queue-log")(import_queue_log_cmd)
    import_cli.command("cdr")(import_cdr_cmd)
    consume_cli.command("nats")(consume_nats)
    cli.command("sources")(sources_cmd)
