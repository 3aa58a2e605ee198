"""Storing a platform adapter's items through the one batch committer of the source seam
(`ingest.sources.commit`): events through the writer (with `[agents]` aliases and
`[away_reasons]` applied), lines without events and rejects in `source_lines`, positions in
`source_positions`, the source's health counters; one summary.

The adapters call only `store`/`store_stream`; their `Summary` is a view of the committer's."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ingest.sources import commit
from ingest.sources.base import Item, Position, Rejected
from ingest.writer import IngestResult

BATCH = 2000


@dataclass
class Summary:
    result: IngestResult = field(default_factory=IngestResult)
    by_type: Counter[str] = field(default_factory=Counter)  # events made, per type
    skipped: Counter[str] = field(default_factory=Counter)  # inputs without events, per kind
    reasons: dict[str, str] = field(default_factory=dict)  # kind -> why it makes no event
    rejected: list[Rejected] = field(default_factory=list)
    position: dict[str, Any] | None = None

    @classmethod
    def of(cls, s: commit.Summary) -> Summary:
        return cls(
            result=IngestResult(inserted=s.inserted, duplicates=s.duplicates, rejected=s.rejected),
            by_type=Counter(s.by_type),
            skipped=Counter(s.skipped),
            reasons=dict(s.reasons),
            rejected=list(s.rejects),
            position=s.position,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "inserted": self.result.inserted,
            "duplicates": self.result.duplicates,
            "rejected": len(self.rejected),
            "events": dict(sorted(self.by_type.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "errors": [{"position": r.position, "message": r.reason} for r in self.rejected],
        }


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
    committer = commit.Committer(
        conn,
        source,
        batch=batch,
        progress=None if progress is None else (lambda s: progress(Summary.of(s))),
    )
    return Summary.of(committer.run(items))


async def store_stream(
    conn: psycopg.Connection[Any],
    items: AsyncIterator[Item],
    *,
    source: str,
    on_commit: Callable[[Summary], None] | None = None,
) -> Summary:
    """Store a live source's items, committing at each Position it yields (the points where it
    has nothing more buffered) and at the end."""
    committer = commit.Committer(conn, source, batch=BATCH)
    async for item in items:
        committer.add(item)  # commits by itself when a batch is full
        if isinstance(item, Position):
            await asyncio.to_thread(committer.flush)
            if on_commit is not None:
                on_commit(Summary.of(committer.summary))
    await asyncio.to_thread(committer.flush)
    return Summary.of(committer.summary)
