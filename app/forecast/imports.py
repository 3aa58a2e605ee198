"""A WFM tool's forecast as CSV: one row per queue and quarter hour.

    queue,start,offered,aht_s
    sales,2026-12-08T09:00:00+01:00,42.5,285

`start` is RFC 3339 with an offset, at a whole quarter hour; `offered` a number >= 0; `aht_s`
(optional column, may be empty) a number of seconds > 0. Every bad row is reported with its
line number and nothing of it is stored; the good rows are (docs/FORECAST.md).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime

from app.forecast.service import ForecastRow

REQUIRED = ("queue", "start", "offered")
METHOD = "import"


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}: must be a finite number")
    return value


def _row(cells: dict[str, str]) -> ForecastRow:
    queue = (cells.get("queue") or "").strip()
    if not queue or len(queue) > 128:
        raise ValueError("queue: must be 1 to 128 characters")
    text = (cells.get("start") or "").strip()
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"start: {text!r} is not an RFC 3339 timestamp") from None
    if start.tzinfo is None:
        raise ValueError("start: must carry a UTC offset (e.g. 2026-12-08T09:00:00+01:00)")
    if start.minute % 15 or start.second or start.microsecond:
        raise ValueError("start: must be at a whole quarter hour (:00, :15, :30, :45)")
    offered = _number((cells.get("offered") or "").strip(), "offered")
    if offered < 0:
        raise ValueError("offered: must be >= 0")
    aht_text = (cells.get("aht_s") or "").strip()
    aht = _number(aht_text, "aht_s") if aht_text else None
    if aht is not None and not 0 < aht <= 86400:
        raise ValueError("aht_s: must be > 0 and at most 86400 seconds")
    return ForecastRow(queue, start, offered, aht, METHOD)


def parse(text: str) -> tuple[list[ForecastRow], list[LineError]]:
    """The good rows, and an error per bad line (line 1 is the header)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [LineError(1, f"header: missing column(s) {', '.join(missing)}")]
    reader.fieldnames = header
    rows: list[ForecastRow] = []
    errors: list[LineError] = []
    seen: dict[tuple[str, datetime], int] = {}
    for cells in reader:
        line = reader.line_num
        if None in cells:
            errors.append(LineError(line, "more cells than the header has columns"))
            continue
        try:
            row = _row(cells)
        except ValueError as exc:
            errors.append(LineError(line, str(exc)))
            continue
        key = (row.queue, row.start)
        if key in seen:
            errors.append(LineError(line, f"the same queue and start as line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(row)
    return rows, errors
