"""Storing a platform adapter's items: events through the writer, lines without events in
`source_lines`, rejects with their positions, one summary.

A stand-in for the shared batch committer of the source seam (`ingest.sources.commit`): the
adapters call only `store`/`store_stream`, so swapping it in changes this file alone."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from pydantic import BaseModel

from ingest.sources.base import Item, Position, Raw, Rejected, Skipped
from ingest.writer import IngestResult, ingest

BATCH = 2000


@dataclass
class Summary:
    result: IngestResult = field(default_factory=IngestResult)
    by_type: Counter[str] = field(default_factory=Counter)  # events made, per type
    skipped: Counter[str] = field(default_factory=Counter)  # inputs without events, per kind
    reasons: dict[str, str] = field(default_factory=dict)  # kind -> why it makes no event
    rejected: list[Rejected] = field(default_factory=list)
    position: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "inserted": self.result.inserted,
            "duplicates": self.result.duplicates,
            "rejected": len(self.rejected),
            "events": dict(sorted(self.by_type.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "errors": [{"position": r.position, "message": r.reason} for r in self.rejected],
        }


@dataclass
class _Batch:
    events: list[BaseModel] = field(default_factory=list)
    raws: list[str | None] = field(default_factory=list)
    quiet: list[Skipped] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.events) + len(self.quiet)


def _add(summary: Summary, batch: _Batch, item: Item) -> None:
    if isinstance(item, Rejected):
        summary.rejected.append(item)
    elif isinstance(item, Skipped):
        summary.skipped[item.kind] += 1
        summary.reasons.setdefault(item.kind, item.reason)
        batch.quiet.append(item)
    elif isinstance(item, Position):
        summary.position = item.value
    elif isinstance(item, Raw):
        summary.by_type[item.event.type] += 1
        batch.events.append(item.event)
        batch.raws.append(item.raw)
    else:
        summary.by_type[item.type] += 1
        batch.events.append(item)
        batch.raws.append(None)


def _commit(conn: psycopg.Connection[Any], source: str, batch: _Batch, summary: Summary) -> None:
    if not len(batch):
        return
    with conn.transaction():
        if batch.events:
            summary.result.add(ingest(conn, batch.events, raws=batch.raws))
        if batch.quiet:
            conn.execute(
                "INSERT INTO source_lines (source, id, ts, kind, raw)"
                " SELECT %s, * FROM unnest(%s::text[], %s::timestamptz[], %s::text[], %s::text[])"
                " ON CONFLICT DO NOTHING",
                (
                    source,
                    [s.key or hashlib.sha256(s.raw.encode()).hexdigest()[:24] for s in batch.quiet],
                    [s.ts for s in batch.quiet],
                    [s.kind for s in batch.quiet],
                    [s.raw for s in batch.quiet],
                ),
            )
    summary.result.rejected = len(summary.rejected)
    batch.events, batch.raws, batch.quiet = [], [], []


def store(
    conn: psycopg.Connection[Any],
    items: Iterable[Item],
    *,
    source: str,
    batch: int = BATCH,
    progress: Callable[[Summary], None] | None = None,
) -> Summary:
    """Store every item, committing every `batch` items (each commit is one transaction; on a
    connection already inside a transaction, a savepoint)."""
    summary = Summary()
    pending = _Batch()
    for item in items:
        _add(summary, pending, item)
        if len(pending) >= batch:
            _commit(conn, source, pending, summary)
            if progress is not None:
                progress(summary)
    _commit(conn, source, pending, summary)
    summary.result.rejected = len(summary.rejected)
    return summary


async def store_stream(
    conn: psycopg.Connection[Any],
    items: AsyncIterator[Item],
    *,
    source: str,
    on_commit: Callable[[Summary], None] | None = None,
) -> Summary:
    """Store a live source's items, committing at each Position it yields (the points where it
    has nothing more buffered) and at the end."""
    summary = Summary()
    pending = _Batch()
    async for item in items:
        _add(summary, pending, item)
        if isinstance(item, Position) or len(pending) >= BATCH:
            await asyncio.to_thread(_commit, conn, source, pending, summary)
            if on_commit is not None:
                on_commit(summary)
    await asyncio.to_thread(_commit, conn, source, pending, summary)
    summary.result.rejected = len(summary.rejected)
    return summary
