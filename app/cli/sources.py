"""The source commands: `import queue-log`, `import cdr`, `consume nats`, `sources`.

Every source runs through the one committer (`ingest.sources.commit`) and ends with the same
summary: a table for people on stderr, one JSON line for scripts on stdout; exit 1 when
something was rejected, 2 when nothing could start (a bad mapping, an unknown time zone)."""

from __future__ import annotations

import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.root import (
    app,
    connect,
    consume_app,
    current_clock,
    database,
    err,
    import_app,
    print_json,
    refused,
    writer_connection,
)
from app.cli.summary import (
    BULK_HELP,
    bulk_for,
    exit_for,
    file_progress,
    print_summary,
    source_config,
    stopping,
)
from app.settings import get_settings


@import_app.command("queue-log")
def import_queue_log_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    source: Annotated[str, typer.Option(help="names this PBX's events")] = "queue_log",
    tz: Annotated[str, typer.Option(help="time zone of CSV exports' local times")] = "UTC",
    follow: Annotated[
        bool, typer.Option(help="tail a live queue_log; resumes after a restart")
    ] = False,
    bulk: Annotated[bool | None, typer.Option(help=BULK_HELP, show_default=False)] = None,
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
        bulk = bulk_for(conn, file, bulk)
        with file_progress(file) as show:
            summary = import_queue_log(
                conn,
                file,
                source=source,
                tz=tz,
                static=static,
                normalizer=normalizer,
                progress=show,
                bulk=bulk,
            )
    print_summary(summary, file.name)
    exit_for(summary)


@import_app.command("cdr")
def import_cdr_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    mapping: Annotated[str, typer.Option(help="a mapping TOML file, or a shipped one's name")],
    source: Annotated[str | None, typer.Option(help="default: the mapping's name")] = None,
    bulk: Annotated[bool | None, typer.Option(help=BULK_HELP, show_default=False)] = None,
) -> None:
    """One-row-per-contact CSV exports with a column mapping (`anonymous-bank` is shipped)."""
    from ingest.sources.cdr import MappingError, check_header, import_cdr, load_mapping
    from ingest.sources.normalize import Normalizer

    with refused(MappingError):
        name, m = load_mapping(mapping)
        check_header(file, m)
    with writer_connection() as conn:
        normalizer = Normalizer.from_config(source_config(conn))
        bulk = bulk_for(conn, file, bulk)
        with file_progress(file) as show:
            summary = import_cdr(
                conn,
                file,
                m,
                source=source or name,
                normalizer=normalizer,
                progress=show,
                bulk=bulk,
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
    `max_silence_s`. Ages are on the screens' clock (a running demo's simulated one)."""
    from ingest.sources.health import sources_payload

    settings = get_settings()
    clock, simulated = current_clock(settings)
    with database(settings) as url, connect(url) as conn:
        config = source_config(conn)
        # ages on the events' clock, silence on the real one (when the committer heard)
        payload = sources_payload(conn, config, clock.now(), wall=datetime.now(UTC))
    if as_json:
        print_json(payload)
        return
    if simulated:
        err.print(f"the demo's simulated clock: {clock.now().isoformat(timespec='seconds')}")
    sys.stdout.write(sources_table(payload, tz=config.defaults.timezone, now=clock.now()))


# the table's columns: header, right-aligned; each header is whole (min_width), never cut,
# and all of them fit in 80 columns (events per minute, rejected: "/min", "rej.")
SOURCE_COLUMNS = (
    ("source", False),
    ("last event", False),
    ("age", True),
    ("/min", True),
    ("stored", True),
    ("dupl.", True),
    ("rej.", True),
    ("gaps", True),
    ("lag", True),
    ("status", False),
)


def sources_table(payload: dict[str, Any], *, tz: str, now: datetime) -> str:
    """The sources for people, in 80 columns with every header whole: the last event's time of
    day in the center's zone (its date only when not today), ages as the screens write them
    (never below 0:00), numbers with separators. Plain text: the same in a pipe."""
    from zoneinfo import ZoneInfo

    from app.screens.words import duration

    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    rows = []
    for s in payload["sources"]:
        last = "never"
        if s["last_event_ts"]:
            at = datetime.fromisoformat(s["last_event_ts"]).astimezone(zone)
            last = at.strftime("%H:%M:%S" if at.date() == today else "%m-%d %H:%M")
        rows.append(
            [
                s["source"],
                last,
                "" if s["age_s"] is None else duration(max(0.0, s["age_s"])),
                f"{s['events_per_min']:,.1f}",
                f"{s['inserted']:,}",
                f"{s['duplicates']:,}",
                f"{s['rejected']:,}",
                f"{s['gaps']:,}",
                "" if s["lag_bytes"] is None else _bytes(s["lag_bytes"]),
                "STALE" if s["stale"] else "ok",
            ]
        )
    heads = [h for h, _ in SOURCE_COLUMNS]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(heads)]
    # the source's name takes what the figures leave of 80 characters (its whole name if it can)
    widths[0] = max(len(heads[0]), min(widths[0], 80 - sum(w + 2 for w in widths[1:])))

    def line(cells: list[str]) -> str:
        out = []
        for i, (cell, (_, right)) in enumerate(zip(cells, SOURCE_COLUMNS, strict=True)):
            if i == 0 and len(cell) > widths[0]:
                cell = cell[: widths[0] - 1] + "…"
            out.append(cell.rjust(widths[i]) if right else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    text = [f"sources (times in {tz})", line(heads), "-" * len(line(heads))]
    text += [line(r) for r in rows]
    return "\n".join(text) + "\n"


def _bytes(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}"
        n = n / 1000  # type: ignore[assignment]
    return f"{n:.0f} GB"
