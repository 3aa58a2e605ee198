"""`callboard import|consume <platform>`: the platform adapters on the command line.

Every command prints the same summary: a table on stderr (events made per type, inputs that
made none with the reason, rejects with their positions) and one JSON line on stdout."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.root import consume_app, err, import_app, refused, writer_connection
from app.cli.summary import print_summary, source_config

if TYPE_CHECKING:
    from ingest.sources.base import AsyncSource, Item
    from ingest.sources.commit import Summary

Source = Annotated[str, typer.Option(help="names this system's events (one PBX: one name)")]
File = Annotated[Path, typer.Argument(exists=True, dir_okay=False)]


def _import(source: str, items: Callable[[], Iterable[Item]], title: str, **extra: Any) -> None:
    """Commit a file's items through the one committer, print the one summary; exit 1 when
    something was rejected."""
    from ingest.sources.commit import Committer
    from ingest.sources.normalize import Normalizer

    with writer_connection() as conn:
        normalizer = Normalizer.from_config(source_config(conn))
        summary = Committer(conn, source, normalizer=normalizer).run(items())
    print_summary(summary, title, **extra)
    if summary.rejected:
        raise typer.Exit(1)


def _static(source: str) -> dict[str, list[str]] | None:
    """`[sources.<name>] static_members` (queues.conf `member =>`), agent -> queues."""
    with writer_connection() as conn:
        settings = source_config(conn).sources.get(source)
    return settings.static_by_agent() if settings else None


def _secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        err.print(f"[red]cannot read {path}: {exc.strerror}[/]")
        raise typer.Exit(2) from exc


def _run_live(source: str, make: Callable[[asyncio.Event], AsyncSource]) -> Summary:
    """Run a live adapter until SIGINT/SIGTERM, committing at each position it yields."""
    from ingest.sources.commit import Committer
    from ingest.sources.normalize import Normalizer

    with writer_connection() as conn:
        normalizer = Normalizer.from_config(source_config(conn))

        async def run() -> Summary:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            return await Committer(conn, source, normalizer=normalizer).run_async(make(stop))

        return asyncio.run(run())


# --- Asterisk AMI -------------------------------------------------------------------------------


@import_app.command("ami")
def import_ami(file: File, source: Source = "asterisk") -> None:
    """A recorded AMI event stream (raw protocol text). Give the name the same PBX's queue_log
    import uses: the two then agree on every event id."""
    from ingest.sources.ami import AmiFile

    src = AmiFile(file, source, static=_static(source))
    _import(source, src.items, f"{file.name} as {source}", not_queue_events=src.ignored)


@consume_app.command("ami")
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
    with refused(AmiAuthError):
        summary = _run_live(
            source,
            lambda stop: AmiClient(
                host, port, username, secret, source, stop, static=_static(source)
            ),
        )
    print_summary(summary, f"AMI {host}:{port} as {source}")


# --- FreeSWITCH mod_callcenter ------------------------------------------------------------------


@consume_app.command("freeswitch")
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
    with refused(EslAuthError):
        summary = _run_live(source, lambda stop: EslClient(host, port, password, source, stop))
    print_summary(summary, f"FreeSWITCH {host}:{port} as {source}")


# --- Amazon Connect ----------------------------------------------------------------------------


@import_app.command("amazon-connect")
def import_amazon_connect(file: File, source: Source = "amazon-connect") -> None:
    """Amazon Connect records: agent event stream (Kinesis) and contact events (EventBridge),
    as JSON lines, Firehose/S3 objects (records back to back) or a Lambda Records batch; each
    record is told apart by its content."""
    from ingest.sources.amazon_connect import parse

    text = file.read_text(encoding="utf-8", errors="replace")
    _import(source, lambda: parse(text, source), f"{file.name} as {source}")


# --- Genesys Cloud -----------------------------------------------------------------------------


@import_app.command("genesys")
def import_genesys(file: File, source: Source = "genesys") -> None:
    """Genesys Cloud notifications (v2.detail.events.conversation.{id}.acd.start / acd.end /
    acw / user.end, v2.users.{id}.activity), as JSON lines or a JSON array."""
    from ingest.sources.genesys import parse

    text = file.read_text(encoding="utf-8", errors="replace")
    _import(source, lambda: parse(text, source), f"{file.name} as {source}")
