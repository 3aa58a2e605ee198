"""One-row-per-contact CSV exports (CDRs) with a TOML column mapping.

A row becomes `call.queued` (when the contact entered the queue), then `call.answered` or
`call.abandoned`, then `call.ended` for an answered one. A contact served without queueing is
answered with a wait of 0; a row whose outcome is listed as `not_a_contact`, or a hang-up that
never reached the queue (inside an IVR), is skipped and counted. CDRs carry no agent states:
after each call the agent is made available again, so occupancy and utilization mean nothing
for such a source (there is no login time), while every contact metric does."""

from __future__ import annotations

import csv
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from pydantic import BaseModel, ConfigDict, Field

from ingest.contract import ItemError
from ingest.writer import IngestResult, ingest

MAPPINGS = Path(__file__).parent / "mappings"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Format(_Strict):
    delimiter: str = ","
    encoding: str = "utf-8"
    timezone: str = "UTC"
    date_column: str | None = None  # times are on this column's date...
    date_format: str = "%Y-%m-%d"
    time_format: str = "%Y-%m-%d %H:%M:%S"  # ...or full timestamps
    null_time: str | None = None


class Columns(_Strict):
    call_id: str | list[str]  # several columns when one is unique only together with others
    queue: str
    outcome: str
    queued: str | None = None
    left_queue: str | None = None
    answered: str | None = None
    ended: str | None = None
    agent: str | None = None
    customer: str | None = None
    priority: str | None = None
    wait_s: str | None = None
    talk_s: str | None = None


class Values(_Strict):
    answered: list[str]
    abandoned: list[str]
    not_a_contact: list[str] = Field(default_factory=list)
    no_agent: list[str] = Field(default_factory=list)
    no_customer: list[str] = Field(default_factory=list)


class Mapping(_Strict):
    format: Format = Field(default_factory=Format)
    columns: Columns
    values: Values


def load_mapping(name_or_path: str) -> tuple[str, Mapping]:
    path = Path(name_or_path)
    if not path.exists():
        path = MAPPINGS / f"{name_or_path}.toml"
    if not path.exists():
        shipped = ", ".join(sorted(p.stem for p in MAPPINGS.glob("*.toml")))
        raise ValueError(f"no mapping {name_or_path!r}: give a file, or one of: {shipped}")
    return path.stem, Mapping.model_validate(tomllib.loads(path.read_text()))


@dataclass
class Summary:
    rows: int = 0
    contacts: int = 0
    result: IngestResult = field(default_factory=IngestResult)
    skipped: Counter[str] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)


class _Row:
    def __init__(self, row: dict[str, str], m: Mapping, tz: ZoneInfo) -> None:
        self.row, self.m, self.tz = row, m, tz
        f = m.format
        self.day: date | None = None
        if f.date_column:
            self.day = datetime.strptime(row[f.date_column].strip(), f.date_format).date()

    def get(self, column: str | None) -> str | None:
        if column is None:
            return None
        value = (self.row.get(column) or "").strip()
        return value or None

    def at(self, column: str | None) -> datetime | None:
        value = self.get(column)
        if value is None or value == self.m.format.null_time:
            return None
        if self.day is not None:
            h, mnt, s = (int(x) for x in value.split(":"))
            local = datetime.combine(self.day, time(0), tzinfo=self.tz) + timedelta(
                hours=h, minutes=mnt, seconds=s
            )
        else:
            local = datetime.strptime(value, self.m.format.time_format).replace(tzinfo=self.tz)
        return local.astimezone(UTC)

    def number(self, column: str | None) -> float | None:
        value = self.get(column)
        return None if value is None else max(0.0, float(value))


def row_events(row: _Row, source: str, summary: Summary) -> list[dict[str, Any]]:
    m, c = row.m, row.m.columns
    outcome = (row.get(c.outcome) or "").upper()
    if outcome in m.values.not_a_contact:
        summary.skipped[f"outcome {outcome}"] += 1
        return []
    answered_ok, abandoned = outcome in m.values.answered, outcome in m.values.abandoned
    queued, left = row.at(c.queued), row.at(c.left_queue)
    answered, ended = row.at(c.answered), row.at(c.ended)
    if queued is None and not answered_ok:
        summary.skipped["hung up before the queue (IVR)"] += 1
        return []
    if queued is None and answered is None:
        summary.skipped["served but without any time"] += 1
        return []
    if not answered_ok and not abandoned:
        summary.skipped[f"unknown outcome {outcome or '(empty)'}"] += 1
        return []
    parts = [c.call_id] if isinstance(c.call_id, str) else c.call_id
    call = f"{source}:" + "-".join(row.get(p) or "" for p in parts)
    agent = row.get(c.agent)
    agent = None if agent is None or agent in m.values.no_agent else agent
    customer = row.get(c.customer)
    customer = None if customer is None or customer in m.values.no_customer else customer
    queue = row.get(c.queue) or "unknown"
    out: list[dict[str, Any]] = []

    def add(kind: str, ts: datetime, **fields: Any) -> None:
        out.append(
            {
                "id": f"{call}:{len(out)}",
                "source": source,
                "ts": ts.isoformat(),
                "type": kind,
                "call_id": call,
                **{k: v for k, v in fields.items() if v is not None},
            }
        )

    priority = row.number(c.priority)
    start = queued or answered
    assert start is not None  # one of them is set: checked above
    add(
        "call.queued",
        start,
        queue=queue,
        customer=customer,
        priority=int(priority) if priority is not None else None,
    )
    wait = row.number(c.wait_s) if queued is not None else 0.0
    if answered_ok and agent is not None and answered is not None:
        add("call.answered", answered, queue=queue, agent=agent, wait_s=wait)
        if ended is not None:
            add("call.ended", ended, queue=queue, agent=agent, talk_s=row.number(c.talk_s))
            add("agent.state", ended, agent=agent, state="available")  # no wrap-up in a CDR
    elif abandoned or agent is None:
        add("call.abandoned", left or start, queue=queue, wait_s=wait)
    summary.contacts += 1
    return out


def read(path: Path, m: Mapping) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding=m.format.encoding, newline="") as f:
        reader = csv.DictReader(f, delimiter=m.format.delimiter)
        yield from enumerate(reader)


def import_cdr(
    conn: psycopg.Connection[Any],
    path: Path,
    mapping: Mapping,
    *,
    source: str,
    batch: int = 5000,
    progress: Callable[[Summary], None] | None = None,
) -> Summary:
    summary = Summary()
    tz = ZoneInfo(mapping.format.timezone)
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        with conn.transaction():
            summary.result.add(ingest(conn, pending))
        pending.clear()
        if progress is not None:
            progress(summary)

    for index, raw in read(path, mapping):
        summary.rows += 1
        try:
            made = row_events(_Row(raw, mapping, tz), source, summary)
        except (ValueError, KeyError, AssertionError) as exc:
            summary.result.rejected += 1
            summary.result.errors.append(ItemError(index, f"row {index + 2}: {exc!r}"))
            continue
        for e in made:
            summary.by_type[e["type"]] += 1
        pending.extend(made)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return summary
