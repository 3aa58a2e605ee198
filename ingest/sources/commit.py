"""The one batch committer every source goes through.

It takes a source's items (`ingest.sources.base`) and, per batch, in one transaction: stores the
events through the writer, keeps skipped and rejected input in `source_lines` with its reason,
stores the last `Position` seen in `source_positions`, and adds the batch to the source's
health counters (`source_stats`). A crash loses at most the batch in flight; the position
stored with the events it covers makes a restart resume right after them.

Before storing, every event goes through the configured normalization (`Normalizer`): agent
aliases and away reasons are applied here, in one place for every source.
"""

from __future__ import annotations

import hashlib
import inspect
from collections import Counter
from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import psycopg
from pydantic import BaseModel

from ingest.changelog import prune_unread
from ingest.derived import clear_pending, derive_span, mark_pending, pending_name
from ingest.sources.base import At, Item, Position, Raw, Rejected, Skipped
from ingest.sources.normalize import Normalizer
from ingest.writer import Touched, ingest, notify

BATCH = 5000
KEEP_REJECTS = 1000  # rejects listed in a summary (all are counted and kept in source_lines)


@dataclass
class Summary:
    """What one run of a source did, printed the same way for every source."""

    source: str
    by_type: Counter[str] = field(default_factory=Counter)  # events made, per type
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejects: list[Rejected] = field(default_factory=list)  # the first KEEP_REJECTS
    skipped: Counter[str] = field(default_factory=Counter)  # per kind
    reasons: dict[str, str] = field(default_factory=dict)  # why each skipped kind made none
    gaps: int = 0
    position: dict[str, Any] | None = None
    batches: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # a source's own: lines, rows, ...
    keep: int = KEEP_REJECTS  # how many rejects are listed
    derived: int = 0  # bulk: contacts and agents whose derived rows are made so far

    @property
    def events(self) -> int:
        return sum(self.by_type.values())

    def reject(self, r: Rejected) -> None:
        self.rejected += 1
        if len(self.rejects) < self.keep:
            self.rejects.append(r)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "events": self.events,
            "by_type": dict(sorted(self.by_type.items())),
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": [{"position": r.position, "reason": r.reason} for r in self.rejects],
            "skipped": {
                kind: {"count": n, "reason": self.reasons.get(kind, "")}
                for kind, n in sorted(self.skipped.items())
            },
            "gaps": self.gaps,
            "position": self.position,
            **self.counts,
        }


def stored_position(conn: psycopg.Connection[Any], source: str, key: str = "") -> dict[str, Any]:
    """The position last committed for this source (and key); {} when none."""
    row = conn.execute(
        "SELECT value FROM source_positions WHERE source = %s AND key = %s", (source, key)
    ).fetchone()
    return dict(row[0]) if row else {}


def _line_id(*parts: str | None) -> str:
    return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()[:24]


PRUNE_EVERY = 50  # batches between two prunings of the unread change log

_STATS = """
INSERT INTO source_stats AS s (source, inserted, duplicates, rejected, skipped, gaps,
                               last_event_ts, last_batch_at, minutes)
VALUES (%(source)s, %(inserted)s, %(duplicates)s, %(rejected)s, %(skipped)s, %(gaps)s,
        %(last_ts)s, now(), jsonb_build_object(%(minute)s::text, %(inserted)s))
ON CONFLICT (source) DO UPDATE SET
  inserted = s.inserted + EXCLUDED.inserted,
  duplicates = s.duplicates + EXCLUDED.duplicates,
  rejected = s.rejected + EXCLUDED.rejected,
  skipped = s.skipped + EXCLUDED.skipped,
  gaps = s.gaps + EXCLUDED.gaps,
  last_event_ts = greatest(s.last_event_ts, EXCLUDED.last_event_ts),
  last_batch_at = now(),
  minutes = (
    SELECT coalesce(jsonb_object_agg(k, v), '{}'::jsonb) FROM jsonb_each(
      s.minutes || jsonb_build_object(%(minute)s::text,
                                      coalesce((s.minutes ->> %(minute)s::text)::bigint, 0)
                                      + %(inserted)s)) AS m(k, v)
    WHERE k::bigint > %(minute)s::bigint - 60)
"""


class Committer:
    """Each batch is committed when the committer owns the connection's transactions: an
    autocommit connection, or one with no transaction open when the committer is made (it then
    commits after each batch: `transaction()` there would only be a savepoint of the implicit
    transaction that the first statement opens). Inside a transaction the caller already opened,
    batches are savepoints and the caller commits."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        source: str,
        *,
        normalizer: Normalizer | None = None,
        batch: int = BATCH,
        progress: Callable[[Summary], None] | None = None,
        keep_rejects: int = KEEP_REJECTS,
        bulk: bool = False,
    ) -> None:
        self.conn, self.source, self.batch, self.progress = conn, source, batch, progress
        # bulk: the derived rows are made once at the end for the span imported, not per batch
        # (`derived.derive_span`); until then a marker says so, and finishes them should the
        # import be cut short (`derived.finish_pending`).
        self.bulk = bulk
        self._bulk_from: int | None = None
        self._bulk_name = pending_name(conn, source) if bulk else ""
        idle = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        self._commits = not conn.autocommit and idle
        # none given: the configuration in force, as stored (every source gets it)
        self.normalizer = normalizer or Normalizer.from_stored(conn)
        self.summary = Summary(source, keep=keep_rejects)
        self._events: list[BaseModel] = []
        self._raws: list[str | None] = []
        self._where: list[At | None] = []  # each event's position, when its source gives it
        self._lines: list[tuple[str, datetime | None, str, str, str | None]] = []
        self._position: Position | None = None
        self._gaps = 0
        self._rejected = 0

    # -- feeding ---------------------------------------------------------------------------------

    def add(self, item: Item) -> None:
        """One item; flushes when the batch is full."""
        s = self.summary
        raw: str | None = None
        where: At | None = None
        if isinstance(item, Raw):
            raw = item.raw
            item = item.event
        elif isinstance(item, At):
            where = item
            item = item.event
        if isinstance(item, Position):
            self._seq_gap(item)
            self._position = item
            s.position = item.value
            return
        if isinstance(item, Rejected):
            s.reject(item)
            self._rejected += 1
            key = _line_id("rejected", item.position, item.raw, item.reason)
            self._lines.append((key, None, "rejected", item.raw or "", item.reason))
        elif isinstance(item, Skipped):
            s.skipped[item.kind] += 1
            s.reasons.setdefault(item.kind, item.reason)
            key = item.key or _line_id(item.kind, item.raw)
            self._lines.append((key, item.ts, item.kind, item.raw, item.reason))
        else:
            event = self.normalizer.apply(item)
            s.by_type[event.type] += 1
            self._events.append(event)
            self._raws.append(raw)
            self._where.append(where)
        if len(self._events) + len(self._lines) >= self.batch:
            self.flush()

    def _seq_gap(self, p: Position) -> None:
        """Sources that number their events put `first_seq` and `seq` (the last) in their
        positions: a jump between one batch and the next is a gap."""
        first = p.value.get("first_seq")
        before = (self._position.value if self._position else {}).get("seq")
        if before is None and self.summary.batches == 0:
            before = stored_position(self.conn, self.source, p.key).get("seq")
        if isinstance(first, int) and isinstance(before, int) and first > before + 1:
            self._gaps += first - before - 1
            self.summary.gaps += first - before - 1

    def flush(self) -> None:
        """Commit what was added since the last flush, with the last position seen."""
        if not (self._events or self._lines or self._position):
            return
        events, raws, lines, position = self._events, self._raws, self._lines, self._position
        where = self._where
        with self.conn.transaction():
            result = ingest(self.conn, events, raws=raws, derive=not self.bulk) if events else None
            if result is not None and result.first_seq is not None and self.bulk:
                mark_pending(self.conn, self._bulk_name, result.first_seq)
                if self._bulk_from is None:
                    self._bulk_from = result.first_seq
            if lines:
                self.conn.execute(
                    "INSERT INTO source_lines (source, id, ts, kind, raw, reason)"
                    " SELECT %s, * FROM unnest(%s::text[], %s::timestamptz[], %s::text[],"
                    "                          %s::text[], %s::text[])"
                    " ON CONFLICT DO NOTHING",
                    (
                        self.source,
                        [x[0] for x in lines],
                        [x[1] for x in lines],
                        [x[2] for x in lines],
                        [x[3].replace("\x00", "\ufffd") for x in lines],
                        [x[4].replace("\x00", "\ufffd") if x[4] else x[4] for x in lines],
                    ),
                )
            if position is not None:
                self.conn.execute(
                    "INSERT INTO source_positions (source, key, value, updated_at)"
                    " VALUES (%s, %s, %s::jsonb, now()) ON CONFLICT (source, key) DO UPDATE"
                    " SET value = EXCLUDED.value, updated_at = now()",
                    (self.source, position.key, orjson.dumps(position.value).decode()),
                )
            inserted = result.inserted if result else 0
            duplicates = result.duplicates if result else 0
            last_ts = max((e.ts for e in events), default=None)  # type: ignore[attr-defined]
            minute = int(datetime.now().timestamp()) // 60
            self.conn.execute(
                _STATS,
                {
                    "source": self.source,
                    "inserted": inserted,
                    "duplicates": duplicates,
                    "rejected": self._rejected + (result.rejected if result else 0),
                    "skipped": sum(1 for x in lines if x[2] != "rejected"),
                    "gaps": self._gaps,
                    "last_ts": last_ts,
                    "minute": minute,
                },
            )
        if self._commits:
            self.conn.commit()
        if (self._commits or self.conn.autocommit) and (
            self.summary.batches % PRUNE_EVERY == PRUNE_EVERY - 1
        ):
            prune_unread(self.conn)  # nobody reads the change log while no leader runs
            if self._commits:
                self.conn.commit()
        s = self.summary
        s.inserted += inserted
        s.duplicates += duplicates
        if result is not None:
            for err in result.errors:  # valid models the writer refused (over a cap)
                at = where[err.index]
                if at is None:
                    s.reject(Rejected(f"event {err.index + 1} of a batch", err.message))
                else:
                    s.reject(Rejected(at.position, err.message, index=at.index))
        s.batches += 1
        self._events, self._raws, self._lines, self._where = [], [], [], []
        self._gaps = self._rejected = 0
        if self.progress is not None:
            self.progress(s)

    # -- driving ---------------------------------------------------------------------------------

    def run(self, items: Iterable[Item], *, at_positions: bool = False) -> Summary:
        """Commit every item; `at_positions`: also commit at each position (a follower, whose
        data should not wait for a full batch)."""
        try:
            for item in items:
                self.add(item)
                if at_positions and isinstance(item, Position):
                    self.flush()
        finally:
            self.flush()
        self.finish_bulk()
        return self.summary

    def finish_bulk(self) -> None:
        """Bulk: make the derived rows of everything imported, a chunk per transaction, and
        drop the marker with the last chunk; one NOTIFY at the end."""
        if self._bulk_from is None:
            return
        chunks = derive_span(self.conn, from_seq=self._bulk_from)
        while True:
            with self.conn.transaction():
                done = next(chunks, None)
                if done is None:
                    clear_pending(self.conn, self._bulk_name)
                    notify(self.conn, Touched(), inserted=self.summary.inserted)
            if self._commits:
                self.conn.commit()
            if done is None:
                break
            self.summary.derived += done
            if self.progress is not None:
                self.progress(self.summary)
        self._bulk_from = None

    async def run_async(self, source: Any) -> Summary:
        """Commit an AsyncSource's items; at each position, commit (in a worker thread, the
        database is blocking) and then tell the source (`committed`), e.g. to acknowledge."""
        import asyncio

        committed = getattr(source, "committed", None)
        stream: AsyncIterable[Item] = source.items()
        async for item in stream:
            self.add(item)
            if isinstance(item, Position):
                await asyncio.to_thread(self.flush)
                if committed is not None:
                    done = committed(item)
                    if inspect.isawaitable(done):
                        await done
        await asyncio.to_thread(self.flush)
        return self.summary


def rows_of(summary: Summary) -> Sequence[tuple[str, str, str]]:
    """The summary as table rows (what, count, why) for people."""
    rows = [(kind, str(n), "") for kind, n in sorted(summary.by_type.items())]
    rows += [
        (f"{kind}: no event", str(n), summary.reasons.get(kind, ""))
        for kind, n in sorted(summary.skipped.items())
    ]
    if summary.rejected:
        rows.append(("rejected", str(summary.rejected), "see errors (positions and reasons)"))
    if summary.duplicates:
        rows.append(("already stored", str(summary.duplicates), "ids seen before: not twice"))
    return rows
