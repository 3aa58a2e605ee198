"""Events from a JSON-lines file, streamed through the writer in committed batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson
import psycopg

from ingest.contract import ItemError
from ingest.writer import IngestResult, ingest

BATCH = 5000


def read_jsonl(stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """(line index, parsed item or ItemError). Blank lines are skipped; a line that is not JSON
    is an error for that line only."""
    for index, line in enumerate(stream):
        if not line.strip():
            continue
        try:
            yield index, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield index, ItemError(index, f"line {index + 1}: not valid JSON ({exc})")


def import_jsonl(
    conn: psycopg.Connection[Any],
    path: Path,
    *,
    batch: int = BATCH,
    progress: Callable[[IngestResult], None] | None = None,
) -> IngestResult:
    """Import a file; each batch is its own transaction (a savepoint when `conn` is already in
    one), so a crash loses at most the batch in
    flight, and importing again stores only what is missing. Error indexes are line indexes."""
    total = IngestResult()
    with path.open("rb") as stream:
        pending: list[tuple[int, Any]] = []

        def flush() -> None:
            items = [item for _, item in pending]
            with conn.transaction():
                result = ingest(conn, items)
            for err in result.errors:
                line = pending[err.index][0]
                total.errors.append(ItemError(line, f"line {line + 1}: {err.message}"))
            total.inserted += result.inserted
            total.duplicates += result.duplicates
            total.rejected += result.rejected
            pending.clear()
            if progress is not None:
                progress(total)

        for index, item in read_jsonl(stream):
            if isinstance(item, ItemError):
                total.rejected += 1
                total.errors.append(item)
                continue
            pending.append((index, item))
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
    total.errors.sort(key=lambda e: e.index)
    return total
