"""`callboard import|consume <platform>`: the platform adapters on the command line.

Every command prints the same summary: a table on stderr (events made per type, inputs that
made none with the reason, rejects with their positions) and one JSON line on stdout."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from app.sources.store import Summary, store, store_stream
from ingest.sources.base import Item

err = Console(stderr=True, soft_wrap=True)
import_cli = typer.Typer()
consume_cli = typer.Typer()

Source = Annotated[str, typer.Option(help="names this system's events (one PBX: one name)")]
File = Annotated[Path, typer.Argument(exists=True, dir_okay=False)]


def register(imports: typer.Typer, consumes: typer.Typer) -> None:
    """Add the adapters' commands to `callboard import` and `callboard consume`."""
    imports.registered_commands += import_cli.registered_commands
    consumes.registered_commands += consume_cli.registered_commands


def report(title: str, summary: Summary, extra: dict[str, Any] | None = None) -> None:
    table = Table(title=title)
    table.add_column("event, or input without one")
    table.add_column("count", justify="right")
    table.add_column("why none")
    for kind, n in sorted(summary.by_type.items()):
        table.add_row(kind, str(n), "")
    for kind, n in sorted(summary.skipped.items()):
        table.add_row(f"[dim]{kind}[/]", str(n), summary.reasons.get(kind, ""))
    err.print(table)
    for r in summary.rejected[:20]:
        err.print(f"[red]{r.position}[/]: {r.reason}")
    if len(summary.rejected) > 20:
        err.print(f"[red]... and {len(summary.rejected) - 20} more rejected[/]")
    out = summary.as_dict()
    out.update(extra or {})
    sys.stdout.write(orjson.dumps(out).decode() + "\n")


def _import(file: Path, source: str, items: Iterator[Item]) -> Summary:
    from app.cli import _writer_connection

    with _writer_connection() as conn:
        return store(conn, items, source=source)


def _finish(summary: Summary) -> None:
    if summary.rejected:
        raise typer.Exit(1)


def _secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        err.print(f"[red]cannot read {path}: {exc.strerror}[/]")
        raise typer.Exit(2) from exc


def _run_live(source: str, make: Any) -> Summary:
    """Run a live adapter until SIGINT/SIGTERM, committing as it goes."""
    from app.cli import _writer_connection

    with _writer_connection() as conn:

        async def run() -> Summary:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            return await store_stream(conn, make(stop).items(), source=source)

        return asyncio.run(run())


# --- Asterisk AMI -------------------------------------------------------------------------------


@import_cli.command("ami")
def import_ami(file: File, source: Source = "asterisk") -> None:
    """A recorded AMI event stream (raw protocol text). Give the name the same PBX's queue_log
    import uses: the two then agree on every event id."""
    from ingest.sources.ami import AmiFile

    src = AmiFile(file, source)
    summary = _import(file, source, src.items())
    report(
        f"{file.name} as {source}",
        summary,
        {"not_queue_events": sum(src.ignored.values())},
    )
    _finish(summary)


@consume_cli.command("ami")
def consume_ami(
    host: Annotated[str, typer.Option(help="the Asterisk host")],
    username: Annotated[str, typer.Option(help="a manager.conf user with read=agent")],
    secret_file: Annotated[Path, typer.Option(help="a file holding the user's secret")],
    port: Annotated[int, typer.Option()] = 5038,
    source: Source = "asterisk",
) -> None:
    """Asterisk's AMI, live: log in, resync with QueueStatus, store queue events as they come;
    reconnect with backoff (resyncing again) until Ctrl-C or SIGTERM."""
    from ingest.sources.ami import AmiAuthError, AmiClient

    secret = _secret(secret_file)
    err.print(f"reading AMI at {host}:{port} as {source}; Ctrl-C stops")
    try:
        summary = _run_live(
            source,
            lambda stop: AmiClient(host, port, username, secret, source, stop),
        )
    except AmiAuthError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    report(f"AMI {host}:{port} as {source}", summary)


# --- FreeSWITCH mod_callcenter ------------------------------------------------------------------


@consume_cli.command("freeswitch")
def consume_freeswitch(
    host: Annotated[str, typer.Option(help="the FreeSWITCH host")],
    password_file: Annotated[Path, typer.Option(help="a file holding the event socket password")],
    port: Annotated[int, typer.Option()] = 8021,
    source: Source = "freeswitch",
) -> None:
    """FreeSWITCH mod_callcenter over the event socket: authenticate, read `CUSTOM
    callcenter::info`, resync agent statuses after each (re)connect; until Ctrl-C or SIGTERM."""
    from ingest.sources.freeswitch import EslAuthError, EslClient

    password = _secret(password_file)
    err.print(f"reading FreeSWITCH at {host}:{port} as {source}; Ctrl-C stops")
    try:
        summary = _run_live(source, lambda stop: EslClient(host, port, password, source, stop))
    except EslAuthError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    report(f"FreeSWITCH {host}:{port} as {source}", summary)


# --- Amazon Connect ----------------------------------------------------------------------------


@import_cli.command("amazon-connect")
def import_amazon_connect(file: File, source: Source = "amazon-connect") -> None:
    """Amazon Connect records: agent event stream (Kinesis) and contact events (EventBridge),
    as JSON lines, Firehose/S3 objects (records back to back) or a Lambda Records batch; each
    record is told apart by its content."""
    from ingest.sources.amazon_connect import parse

    text = file.read_text(encoding="utf-8", errors="replace")
    summary = _import(file, source, parse(text, source))
    report(f"{file.name} as {source}", summary)
    _finish(summary)


# --- Genesys Cloud -----------------------------------------------------------------------------


@import_cli.command("genesys")
def import_genesys(file: File, source: Source = "genesys") -> None:
    """Genesys Cloud notifications (v2.detail.events.conversation.{id}.acd.start / acd.end /
    acw / user.end, v2.users.{id}.activity), as JSON lines or a JSON array."""
    from ingest.sources.genesys import parse

    text = file.read_text(encoding="utf-8", errors="replace")
    summary = _import(file, source, parse(text, source))
    report(f"{file.name} as {source}", summary)
    _finish(summary)
