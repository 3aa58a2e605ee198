"""The batched, idempotent writer every source goes through.

One call = one batch = one transaction (owned by the caller), in stages (`bench/ingest.py`
times each): validate every item -> take the ingest lock -> insert the rows (binary arrays,
one statement) with ON CONFLICT DO NOTHING RETURNING (what was new) -> recompute the derived
rows of the contacts and agents that the *new* events touch (the change log `live_changes` is
written by statement triggers on the derived tables, one INSERT per statement, as part of it)
-> one NOTIFY.

The ingest lock serializes writers across processes. Derived rows are recomputed from all of a
contact's stored events; without the lock, two concurrent batches touching one contact could each
miss the other's uncommitted events and the last to commit would win.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import psycopg
from pydantic import BaseModel

from ingest import derived
from ingest.contract import ItemError, extras, validate_items
from ingest.derive import Stored
from ingest.rollups import refresh_rollups

NOTIFY_CHANNEL = "callboard_events"
MAX_NOTIFY_NAMES = 200  # NOTIFY payloads are limited to 8000 bytes
# Queues and agents that events create ([limits] in callboard.toml; EVENTS.md, Caps): every
# name costs each live tick and snapshot, so a flood of made-up names must not grow them.
MAX_QUEUES = 2000
MAX_AGENTS = 20000


@dataclass(slots=True)
class IngestResult:
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[ItemError] = field(default_factory=list)
    first_seq: int | None = None  # the smallest seq of the events this call inserted

    def add(self, other: IngestResult, *, offset: int = 0) -> None:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.errors.extend(ItemError(e.index + offset, e.message) for e in other.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "errors": [{"index": e.index, "message": e.message} for e in self.errors],
        }


class Stages(dict[str, float]):
    """Seconds spent per stage, summed over the batches written with it (`bench/ingest.py`)."""

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self[stage] = self.get(stage, 0.0) + time.perf_counter() - start


# Of several items with one key, the first is the one stored (unnest keeps item order).
_INSERT = """
INSERT INTO events (source, id, ts, type, call_id, queue, agent, data, raw)
SELECT u.source, u.id, u.ts, u.type, u.call_id, u.queue, u.agent, u.data::jsonb, u.raw
FROM unnest(%b::text[], %b::text[], %b::timestamptz[], %b::text[], %b::text[], %b::text[],
            %b::text[], %b::text[], %b::text[])
     AS u(source, id, ts, type, call_id, queue, agent, data, raw)
ON CONFLICT (source, id) DO NOTHING
RETURNING seq, source, id
"""

Row = tuple[str, str, datetime, str, str | None, str | None, str | None, dict[str, Any]]


def ingest(
    conn: psycopg.Connection[Any],
    items: Sequence[Any],
    *,
    raws: Sequence[str | None] | None = None,
    stages: Stages | None = None,
    derive: bool = True,
) -> IngestResult:
    """Store a batch of events (dicts to validate, or contract models already validated).

    `raws` optionally gives each item's source text (a queue_log line); `stages` collects the
    time of each stage. `derive=False` (a bulk import) leaves the derived tables and the NOTIFY
    to the caller, who must then call `derived.derive_span` from `first_seq` on. Does not
    commit."""
    if conn.autocommit and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        # Statement by statement, the lock would be let go at once: one batch is one
        # transaction.
        with conn.transaction():
            return ingest(conn, items, raws=raws, stages=stages, derive=derive)
    clock = stages if stages is not None else Stages()
    with clock("validation"):
        events, result = _validate(items)
        if not events:
            return result
        rows = [_row(ev) for ev in events.values()]
    with clock("staging"):
        _lock(conn, large=len(events) > SMALL_BATCH)
        over = _over_cap(conn, list(zip(events, rows, strict=True)))  # under the lock
        if over:
            result.rejected += len(over)
            result.errors = sorted(
                [*result.errors, *(ItemError(i, m) for i, m in over.items())],
                key=lambda e: e.index,
            )
            kept = [(i, r) for i, r in zip(events, rows, strict=True) if i not in over]
            if not kept:
                return result
        else:
            kept = list(zip(events, rows, strict=True))
        columns = _columns(kept, raws)
    with clock("insert"):
        # %b: arrays go over the wire in binary; text arrays cost a regex per element.
        new_rows = conn.cursor(binary=True).execute(_INSERT, columns).fetchall()
    result.inserted = len(new_rows)
    result.duplicates = len(kept) - len(new_rows)
    if not new_rows:
        # The insert's statement trigger marked the rollups behind even though it stored
        # nothing (a batch of duplicates: a retry): that mark, committed, would leave them out
        # of use, every later write unmaintained, until a rebuild. Nothing changed: this only
        # takes the mark back.
        with clock("rollups"):
            refresh_rollups(conn)
    else:
        # Every committed row has a smaller seq than this batch's (the lock is held from
        # before the insert to the commit): older events are those below the first new seq.
        first_seq = result.first_seq = min(seq for seq, _, _ in new_rows)
        if not derive:
            with clock("derive"):
                queues, agents = _all_names(row for _, row in kept)
                derived.ensure_reference(conn, queues=queues, agents=agents)
            with clock("rollups"):
                refresh_rollups(conn)  # what the events' own change log lines touched
            return result
        with clock("derive"):
            stored: dict[tuple[str, str], Row] = {}
            for _, row in kept:
                stored.setdefault((row[0], row[1]), row)  # the first of one key was stored
            new = [Stored(*stored[(source, id_)]) for _, source, id_ in new_rows]
            touched = apply_new(conn, new, older_than=first_seq)
        with clock("rollups"):
            refresh_rollups(conn)  # the interval rollups of what the batch changed
        notify(conn, touched, inserted=result.inserted)
    return result


# A large batch first takes the queue gate, then the ingest lock: while one large batch holds
# the lock, the next large ones wait at the gate, not in the lock's queue, so a small batch (a
# fresh event from a live source) waits behind one large batch at most, not behind every batch
# of a backlog draining (bench/ingest_http.py measures event -> frame while one drains).
SMALL_BATCH = 100
_GATE_KEY = 0x63616C67  # "calg"
_HOLDS_INGEST_LOCK = """
SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
               AND classid = 0 AND objid = %s AND objsubid = 1 AND granted)
"""


def _lock(conn: psycopg.Connection[Any], *, large: bool) -> None:
    if large:
        # Taking the gate while holding the lock (a small batch earlier in this transaction)
        # could deadlock with a large batch holding the gate and waiting for the lock.
        row = conn.execute(_HOLDS_INGEST_LOCK, (derived.INGEST_LOCK_KEY,)).fetchone()
        if not (row and row[0]):
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_GATE_KEY,))
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (derived.INGEST_LOCK_KEY,))


def _validate(items: Sequence[Any]) -> tuple[dict[int, Any], IngestResult]:
    """index -> contract model for the valid items (in item order), and the rejects."""
    to_check = [(i, it) for i, it in enumerate(items) if not isinstance(it, BaseModel)]
    valid, errors = validate_items(it for _, it in to_check)
    events = {i: it for i, it in enumerate(items) if isinstance(it, BaseModel)}
    events.update((to_check[j][0], ev) for j, ev in valid)
    errors = [ItemError(to_check[e.index][0], e.message) for e in errors]
    return dict(sorted(events.items())), IngestResult(rejected=len(errors), errors=errors)


def _row(ev: Any) -> Row:
    return (ev.source, ev.id, ev.ts, ev.type, ev.call_id, ev.queue, ev.agent, extras(ev))


def _columns(kept: list[tuple[int, Row]], raws: Sequence[str | None] | None) -> list[list[Any]]:
    """The rows as the insert's nine arrays (`data` as JSON text)."""
    columns = [list(col) for col in zip(*(r[:7] for _, r in kept), strict=True)]
    columns.append([orjson.dumps(r[7]).decode() for _, r in kept])
    columns.append([raws[i] for i, _ in kept] if raws is not None else [None] * len(kept))
    return columns


def _names(row: Row) -> tuple[set[str], set[str]]:
    """The queues and agents an event would create (as apply_new does)."""
    data = row[7]
    queues = {q for q in (row[5], data.get("to_queue")) if q}
    queues.update(data.get("queues") or ())
    return queues, {row[6]} if row[6] else set()


def _all_names(rows: Iterable[Row]) -> tuple[set[str], set[str]]:
    """The queues and agents a batch names (`_names` of every row, united, in one pass)."""
    queues: set[str | None] = set()
    agents: set[str | None] = set()
    for row in rows:
        queues.add(row[5])
        agents.add(row[6])
        data = row[7]
        if "to_queue" in data:
            queues.add(data["to_queue"])
        if "queues" in data:
            queues.update(data["queues"])
    return {q for q in queues if q}, {a for a in agents if a}


def _limits(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    """[limits] of the configuration in force (the writer runs in the server and in the CLI
    importers alike, so it reads the stored config rather than being handed it)."""
    row = conn.execute(
        "SELECT body->'limits'->>'max_queues', body->'limits'->>'max_agents'"
        " FROM config_versions ORDER BY version DESC LIMIT 1"
    ).fetchone()
    max_queues, max_agents = row if row else (None, None)
    return int(max_queues or MAX_QUEUES), int(max_agents or MAX_AGENTS)


def _over_cap(conn: psycopg.Connection[Any], events: list[tuple[int, Row]]) -> dict[int, str]:
    """index -> reason, for the events that would create a queue or an agent beyond the caps.
    Names are admitted in item order until the cap is reached; events naming existing ones,
    or names admitted earlier in the batch, pass."""
    queues, agents = _all_names(row for _, row in events)
    if not queues and not agents:
        return {}
    new_queues = queues - {
        r[0]
        for r in conn.execute(
            "SELECT name FROM queues WHERE name = ANY(%s)", (sorted(queues),)
        ).fetchall()
    }
    new_agents = agents - {
        r[0]
        for r in conn.execute(
            "SELECT id FROM agents WHERE id = ANY(%s)", (sorted(agents),)
        ).fetchall()
    }
    if not new_queues and not new_agents:
        return {}
    max_queues, max_agents = _limits(conn)
    room = {
        "queue": max_queues - _count_auto(conn, "queues"),
        "agent": max_agents - _count_auto(conn, "agents"),
    }
    limit = {"queue": max_queues, "agent": max_agents}
    new = {"queue": new_queues, "agent": new_agents}
    admitted: dict[str, set[str]] = {"queue": set(), "agent": set()}
    over: dict[int, str] = {}
    for index, ev in events:
        fresh: dict[str, list[str]] = {
            kind: sorted(names & new[kind] - admitted[kind])
            for kind, names in zip(("queue", "agent"), _names(ev), strict=True)
        }
        full = [k for k in ("queue", "agent") if len(admitted[k]) + len(fresh[k]) > room[k]]
        if full:
            kind = full[0]
            over[index] = (
                f"{kind}: {fresh[kind][0]!r} would exceed [limits] max_{kind}s "
                f"({limit[kind]} {kind}s created by events)"
            )
            continue
        for kind, names in fresh.items():
            admitted[kind].update(names)
    return over


def _count_auto(conn: psycopg.Connection[Any], table: str) -> int:
    sql = {
        "queues": "SELECT count(*) FROM queues WHERE auto_created",
        "agents": "SELECT count(*) FROM agents WHERE auto_created",
    }[table]
    row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


@dataclass(slots=True)
class Touched:
    queues: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    agent_since: dict[str, datetime] = field(default_factory=dict)


def apply_new(conn: psycopg.Connection[Any], new: Iterable[Stored], *, older_than: int) -> Touched:
    """Bring reference and derived tables up to date with newly inserted events; the events
    already stored are those with seq < `older_than`."""
    t = Touched()
    by_call: dict[str, list[Stored]] = defaultdict(list)
    by_agent: dict[str, list[Stored]] = defaultdict(list)
    for e in new:
        if e.queue:
            t.queues.add(e.queue)
        if e.data.get("to_queue"):
            t.queues.add(e.data["to_queue"])
        if e.data.get("queues"):  # queues an agent serves exist before their first call
            t.queues.update(e.data["queues"])
        if e.agent:
            t.agents.add(e.agent)
            if e.type in derived.STATE_EVENT_TYPES:
                by_agent[e.agent].append(e)
                since = t.agent_since.get(e.agent)
                if since is None or e.ts < since:
                    t.agent_since[e.agent] = e.ts
        if e.call_id and e.type != "agent.state":
            by_call[e.call_id].append(e)
    derived.ensure_reference(conn, queues=t.queues, agents=t.agents)
    if by_call:
        derived.refresh_contacts(conn, sorted(by_call), fresh=by_call, older_than=older_than)
    if t.agent_since:
        derived.refresh_agents(conn, t.agent_since, fresh=by_agent, older_than=older_than)
    return t


def notify(conn: psycopg.Connection[Any], touched: Touched, *, inserted: int) -> None:
    """One NOTIFY per batch; delivered at commit, dropped on rollback."""
    payload = {
        "inserted": inserted,
        "queues": sorted(touched.queues)[:MAX_NOTIFY_NAMES],
        "agents": sorted(touched.agents)[:MAX_NOTIFY_NAMES],
        "truncated": len(touched.queues) > MAX_NOTIFY_NAMES
        or len(touched.agents) > MAX_NOTIFY_NAMES,
    }
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, orjson.dumps(payload).decode()))
