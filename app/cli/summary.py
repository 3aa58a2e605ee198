"""What every source command shares: the configuration sources read, the one summary of a
run (a table for people on stderr, one JSON line for scripts on stdout), progress while a
file is read, and a stop on SIGTERM / Ctrl-C after the last committed batch."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import psycopg
import typer

from app.cli.root import err, refused

if TYPE_CHECKING:
    from app.config import CallboardConfig
    from ingest.sources.commit import Summary


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


def exit_for(summary: Summary) -> None:
    if summary.rejected:
        raise typer.Exit(1)


def source_config(conn: psycopg.Connection[Any]) -> CallboardConfig:
    """The configuration in force: CALLBOARD_CONFIG's file, else the stored one, else defaults."""
    from app.config import ConfigError, current_config, load_config
    from app.settings import get_settings

    settings = get_settings()
    if settings.config is not None:
        with refused(ConfigError):
            return load_config(settings.config)
    stored = current_config(conn)
    return stored[1] if stored else load_config(None)


# Files from this size on are imported in bulk unless told otherwise: the derived rows are made
# once at the end for the span imported, instead of batch by batch (same tables either way).
BULK_BYTES = 20 * 2**20
BULK_HELP = (
    "make the derived rows once at the end (default: for files from 20 MB on); "
    "the same tables either way"
)


def bulk_for(conn: psycopg.Connection[Any], file: Path, flag: bool | None) -> bool:
    """Whether `file` is imported in bulk. A bulk import first makes the derived rows of bulk
    imports cut short before theirs were made."""
    from ingest.derived import finish_pending

    if not (flag if flag is not None else file.stat().st_size >= BULK_BYTES):
        return False
    with conn.transaction():
        done = finish_pending(conn)
    if done:
        err.print(f"derived rows made for bulk imports cut short: {', '.join(done)}")
    return True


@contextmanager
def file_progress(file: Path) -> Iterator[Callable[[Summary], None]]:
    """A progress bar on a terminal (stderr) while a file is imported: the bytes read (this
    process's offset in the file, whichever importer reads it), events read and stored, then,
    for a bulk import, the contacts and agents whose derived rows are made."""
    if not err.is_terminal:
        yield lambda s: None
        return
    import psutil
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    path, me = str(file.resolve()), psutil.Process()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )
    size = file.stat().st_size
    reading = bar.add_task(file.name, total=size, counts="")

    def show(s: Summary) -> None:
        offsets = [f.position for f in me.open_files() if f.path == path]
        done = max(offsets) if offsets else size
        counts = f"{s.events:,} events, {s.inserted:,} stored"
        if s.derived:
            counts += f", {s.derived:,} contacts and agents derived"
        bar.update(reading, completed=done, counts=counts)

    with bar:
        yield show


@contextmanager
def stopping() -> Iterator[threading.Event]:
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
