"""Importing a queue_log (any layout) through the writer, in committed batches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from ingest.contract import ItemError
from ingest.sources.queue_log import NO_EVENT, Line, Members, Problem, events, parse
from ingest.writer import IngestResult, ingest

BATCH = 5000


@dataclass
class Summary:
    lines: int = 0
    result: IngestResult = field(default_factory=IngestResult)
    by_type: Counter[str] = field(default_factory=Counter)  # events made, per type
    skipped: Counter[str] = field(default_factory=Counter)  # lines that made no event, per verb

    def reasons(self) -> dict[str, str]:
        return {
            verb: (
                "carries no contact or agent state (kept in source_lines)"
                if verb in NO_EVENT
                else "not a queue verb callboard knows (kept in source_lines)"
            )
            for verb in self.skipped
        }


def import_queue_log(
    conn: psycopg.Connection[Any],
    path: Path,
    *,
    source: str,
    tz: str = "UTC",
    batch: int = BATCH,
    progress: Callable[[Summary], None] | None = None,
) -> Summary:
    summary = Summary()
    members = Members()
    pending: list[dict[str, Any]] = []
    raws: list[str] = []
    quiet: list[Line] = []

    def flush() -> None:
        with conn.transaction():
            if pending:
                summary.result.add(ingest(conn, pending, raws=raws))
            if quiet:
                conn.execute(
                    "INSERT INTO source_lines (source, id, ts, kind, raw)"
                    " SELECT %s, * FROM unnest(%s::text[], %s::timestamptz[], %s::text[],"
                    "                          %s::text[])"
                    " ON CONFLICT DO NOTHING",
                    (
                        source,
                        [q.key for q in quiet],
                        [q.ts for q in quiet],
                        [q.verb for q in quiet],
                        [q.raw for q in quiet],
                    ),
                )
        pending.clear()
        raws.clear()
        quiet.clear()
        if progress is not None:
            progress(summary)

    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        for item in parse(f, tz=tz):
            if isinstance(item, Problem):
                summary.result.rejected += 1
                summary.result.errors.append(ItemError(item.index, item.message))
                continue
            summary.lines += 1
            made = events(item, source, members)
            if not made:
                summary.skipped[item.verb] += 1
                quiet.append(item)
            for e in made:
                summary.by_type[e["type"]] += 1
                pending.append(e)
                raws.append(item.raw)
            if len(pending) + len(quiet) >= batch:
                flush()
    flush()
    return summary
