"""The source commands: `import queue-log`, `import cdr`, `consume nats`, `sources`.

Every source runs through the one committer (`ingest.sources.commit`) and ends with the same
summary: a table for people on stderr, one JSON line for scripts on stdout; exit 1 when
something was rejected, 2 when nothing could start (a bad mapping, an unknown time zone)."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from app.cli.root import (
    app,
    connect,
    consume_app,
    database,
    err,
    import_app,
    print_json,
    writer_connection,
)
from app.cli.summary import exit_for, print_summary, progress, source_config, stopping


@import_app.command("queue-log")
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

    from ingest.sources.follow import Follower
    from ingest.sources.normalize import Normalizer
    from ingest.sources.queue_log_import import import_queue_log

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        err.print(f"[red]--tz: unknown time zone {tz!r}[/]")
        raise typer.Exit(2) from exc
    with writer_connection() as conn:
        config = source_config(conn)
        normalizer = Normalizer.from_config(config)
        settings = config.sources.get(source)
        static = settings.static_by_agent() if settings else None
        if follow:
            with stopping() as stop:
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
            progress=progress(file.name),
        )
    print_summary(summary, file.name)
    exit_for(summary)


@import_app.command("cdr")
def import_cdr_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    mapping: Annotated[str, typer.Option(help="a mapping TOML file, or a shipped one's name")],
    source: Annotated[str | None, typer.Option(help="default: the mapping's name")] = None,
) -> None:
    """One-row-per-contact CSV exports with a column mapping (`anonymous-bank` is shipped)."""
    from ingest.sources.cdr import MappingError, check_header, import_cdr, load_mapping
    from ingest.sources.normalize import Normalizer

    try:
        name, m = load_mapping(mapping)
        check_header(file, m)
    except MappingError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    with writer_connection() as conn:
        normalizer = Normalizer.from_config(source_config(conn))
        summary = import_cdr(
            conn,
            file,
            m,
            source=source or name,
            normalizer=normalizer,
            progress=progress(file.name),
        )
    print_summary(summary, file.name)
    exit_for(summary)


@consume_app.command("nats")
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

    from ingest.sources.normalize import Normalizer
    from ingest.sources.stream import consume

    with database() as url_db:
        with connect(url_db, autocommit=True) as conn:
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
                connect=lambda: connect(url_db, autocommit=True),
                stop=stop,
                normalizer=normalizer,
            )

        summary = asyncio.run(run())
    print_summary(summary, f"{subject} (NATS)")


@app.command("sources")
def sources_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts")] = False,
) -> None:
    """Every source's health: last event and its age, events per minute, duplicates,
    rejects, gaps, followed files' offsets and lag; stale when silent longer than its
    `max_silence_s`."""
    from rich.table import Table

    from ingest.sources.health import sources_payload

    with database() as url, connect(url) as conn:
        payload = sources_payload(conn, source_config(conn), datetime.now(UTC))
    if as_json:
        print_json(payload)
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
