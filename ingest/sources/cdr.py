"""One-row-per-contact CSV exports (CDRs) with a TOML column mapping.

A row becomes `call.queued` (when the contact entered the queue), then `call.answered` or
`call.abandoned`, then `call.ended` for an answered one. A contact served without queueing is
answered with a wait of 0; a row whose outcome is listed as `not_a_contact`, or a hang-up that
never reached the queue (inside an IVR), is skipped and counted. CDRs carry no agent states:
after each call the agent is made available again, so occupancy and utilization mean nothing
for such a source (there is no login time), while every contact metric does."""

from __future__ import annotations

import codecs
import csv
import math
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ingest.contract import describe, event_adapter
from ingest.sources.base import Item, Raw, Rejected, Skipped
from ingest.sources.commit import Committer, Summary
from ingest.sources.normalize import Normalizer

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

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError(f"must be one character (got {value!r})")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value


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


class MappingError(ValueError):
    """The mapping cannot be used: one line, before anything is imported."""


def load_mapping(name_or_path: str) -> tuple[str, Mapping]:
    path = Path(name_or_path)
    if not path.exists():
        path = MAPPINGS / f"{name_or_path}.toml"
    if not path.exists():
        shipped = ", ".join(sorted(p.stem for p in MAPPINGS.glob("*.toml")))
        raise MappingError(f"no mapping {name_or_path!r}: give a file, or one of: {shipped}")
    try:
        return path.stem, Mapping.model_validate(tomllib.loads(path.read_text()))
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"mapping {path}: not valid TOML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise MappingError(f"mapping {path}: {problems}") from exc


def mapped_columns(m: Mapping) -> list[str]:
    c = m.columns
    names = [c.call_id] if isinstance(c.call_id, str) else list(c.call_id)
    names += [
        v
        for v in (
            c.queue,
            c.outcome,
            c.queued,
            c.left_queue,
            c.answered,
            c.ended,
            c.agent,
            c.customer,
            c.priority,
            c.wait_s,
            c.talk_s,
            m.format.date_column,
        )
        if v is not None
    ]
    return names


def check_header(path: Path, m: Mapping) -> list[str]:
    """The file's header, when every column the mapping names is in it; MappingError if not."""
    try:
        with path.open(encoding=m.format.encoding, errors="replace", newline="") as f:
            header = next(csv.reader(f, delimiter=m.format.delimiter), [])
    except OSError as exc:
        raise MappingError(f"{path}: {exc.strerror}") from exc
    header = [h.strip() for h in header]
    missing = [name for name in mapped_columns(m) if name not in header]
    if missing:
        raise MappingError(
            f"{path.name}: the mapping's column(s) {', '.join(map(repr, missing))} are not in"
            f" the file's header ({', '.join(header[:20]) or 'empty'})"
        )
    return header


class RowError(ValueError):
    """A row that cannot be read: its reason names the column."""


class _Row:
    def __init__(self, row: dict[str, str], m: Mapping, tz: ZoneInfo) -> None:
        self.row, self.m, self.tz = row, m, tz
        f = m.format
        self.day: date | None = None
        if f.date_column:
            text = (row.get(f.date_column) or "").strip()
            try:
                self.day = datetime.strptime(text, f.date_format).date()
            except ValueError as exc:
                raise RowError(f"{f.date_column}: {text[:40]!r} is not a date") from exc

    def get(self, column: str | None) -> str | None:
        if column is None:
            return None
        value = (self.row.get(column) or "").strip()
        return value or None

    def at(self, column: str | None) -> datetime | None:
        value = self.get(column)
        if value is None or value == self.m.format.null_time:
            return None
        try:
            if self.day is not None:
                h, mnt, s = (int(x) for x in value.split(":"))
                if not (0 <= h < 48 and 0 <= mnt < 60 and 0 <= s < 60):
                    raise ValueError
                local = datetime.combine(self.day, time(0), tzinfo=self.tz) + timedelta(
                    hours=h, minutes=mnt, seconds=s
                )
            else:
                local = datetime.strptime(value, self.m.format.time_format).replace(tzinfo=self.tz)
            return local.astimezone(UTC)
        except (ValueError, OverflowError) as exc:
            raise RowError(f"{column}: {value[:40]!r} is not a time") from exc

    def number(self, column: str | None) -> float | None:
        value = self.get(column)
        if value is None:
            return None
        try:
            n = float(value)
        except ValueError as exc:
            raise RowError(f"{column}: {value[:40]!r} is not a number") from exc
        if not math.isfinite(n):
            raise RowError(f"{column}: {value[:40]!r} is not a finite number")
        if n < 0:
            raise RowError(f"{column}: {value[:40]!r} is negative")
        return n


def row_events(row: _Row, source: str, skipped: Counter[str]) -> list[dict[str, Any]]:
    m, c = row.m, row.m.columns
    outcome = (row.get(c.outcome) or "").upper()
    if outcome in m.values.not_a_contact:
        skipped[f"outcome {outcome}"] += 1
        return []
    answered_ok, abandoned = outcome in m.values.answered, outcome in m.values.abandoned
    queued, left = row.at(c.queued), row.at(c.left_queue)
    answered, ended = row.at(c.answered), row.at(c.ended)
    if queued is None and not answered_ok:
        skipped["hung up before the queue (IVR)"] += 1
        return []
    if queued is None and answered is None:
        skipped["served but without any time"] += 1
        return []
    if not answered_ok and not abandoned:
        skipped[f"unknown outcome {outcome or '(empty)'}"] += 1
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
        priority=int(priority) if priority is not None and priority < 2**31 else None,
    )
    wait = row.number(c.wait_s) if queued is not None else 0.0
    if answered_ok and agent is not None and answered is not None:
        add("call.answered", answered, queue=queue, agent=agent, wait_s=wait)
        if ended is not None:
            add("call.ended", ended, queue=queue, agent=agent, talk_s=row.number(c.talk_s))
            add("agent.state", ended, agent=agent, state="available")  # no wrap-up in a CDR
    elif abandoned or agent is None:
        add("call.abandoned", left or start, queue=queue, wait_s=wait)
    return out


class CdrFile:
    """A CDR export as a source: each row's events (with the row as raw text), skipped rows with
    why, and a rejected row for each one that cannot be read, by its row number (the header is
    row 1)."""

    def __init__(self, path: Path, mapping: Mapping, *, source: str) -> None:
        self.path, self.m, self.name = path, mapping, source
        self.tz = ZoneInfo(mapping.format.timezone)
        self.rows = self.contacts = 0

    def items(self) -> Iterator[Item]:
        f = self.m.format
        with self.path.open(encoding=f.encoding, errors="surrogateescape", newline="") as fh:
            reader = csv.reader(fh, delimiter=f.delimiter)
            header = [h.strip() for h in next(reader, [])]
            for number, values in enumerate(reader, 2):
                if not any(v.strip() for v in values):
                    continue
                self.rows += 1
                raw = f.delimiter.join(values)
                where = f"row {number}"
                if any("\udc80" <= ch <= "\udcff" for ch in raw):
                    clean = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                    yield Rejected(where, f"not valid {f.encoding} text", clean)
                    continue
                if len(values) != len(header):
                    yield Rejected(
                        where, f"{len(values)} columns where the header has {len(header)}", raw
                    )
                    continue
                row = dict(zip(header, values, strict=True))
                skipped: Counter[str] = Counter()
                try:
                    made = row_events(_Row(row, self.m, self.tz), self.name, skipped)
                except RowError as exc:
                    yield Rejected(where, str(exc), raw)
                    continue
                for why in skipped:
                    yield Skipped(where, why, "not a contact (kept in source_lines)", raw)
                if made:
                    self.contacts += 1
                models = []
                try:
                    models = [event_adapter.validate_python(e) for e in made]
                except ValidationError as exc:
                    yield Rejected(where, describe(exc), raw)
                    continue
                for event in models:
                    yield Raw(event, raw)


def import_cdr(
    conn: psycopg.Connection[Any],
    path: Path,
    mapping: Mapping,
    *,
    source: str,
    batch: int = 5000,
    normalizer: Normalizer | None = None,
    progress: Callable[[Summary], None] | None = None,
    bulk: bool = False,
) -> Summary:
    """Check the header against the mapping (MappingError before anything is stored), then
    import every row through the committer (`bulk`: derived rows made once at the end)."""
    check_header(path, mapping)
    committer = Committer(
        conn, source, batch=batch, normalizer=normalizer, progress=progress, bulk=bulk
    )
    cdr = CdrFile(path, mapping, source=source)
    summary = committer.run(cdr.items())
    summary.counts = {"rows": cdr.rows, "contacts": cdr.contacts}
    return summary
