"""`callboard import events`: events in the contract's JSON, from a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli.root import import_app, print_json, writer_connection
from app.cli.summary import (
    BULK_HELP,
    bulk_for,
    file_progress,
    print_table,
    source_config,
)


@import_app.command("events")
def import_events(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON lines")],
    bulk: Annotated[bool | None, typer.Option(help=BULK_HELP, show_default=False)] = None,
) -> None:
    """Events in the contract's JSON, one per line, through the one committer of every source.
    Prints inserted / duplicates / rejected and an error per bad line (index = line index from
    0; the first 1,000 are listed, all are counted and kept in source_lines)."""
    from ingest.sources.events import errors_by_index, import_jsonl
    from ingest.sources.normalize import Normalizer

    with writer_connection() as conn:
        normalizer = Normalizer.from_config(source_config(conn))
        bulk = bulk_for(conn, file, bulk)
        with file_progress(file) as show:
            summary = import_jsonl(conn, file, normalizer=normalizer, progress=show, bulk=bulk)
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
    print_json(out)
    if summary.rejected:
        raise typer.Exit(1)
