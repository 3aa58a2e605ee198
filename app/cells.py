"""A text cell as a spreadsheet will read it: the one neutraliser every CSV and XLSX writer
uses (the screens' exports, reports), and the one CSV writer.

A spreadsheet runs a cell as a formula when it starts with = + - @ (or a tab or carriage
return before one; some read a full-width ＝ as =). A cell is not only what the writer
meant: a reader splits rows on every line break it finds, quoted or not (RFC 4180 readers
honour quotes; naive line splitters and some importers do not), so each line of a value is
checked as the first cell of a row. A line that would start a formula gets a leading
apostrophe, which spreadsheets show as text and do not display (OWASP, CSV injection).
Numbers are written as numbers: -3 stays a number."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# every line break a reader may split on (csv's \r, \n; str.splitlines' others too)
_LINES = re.compile(r"(\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029])")
_BLANK = " \t\r\n\x0b\x0c"


def _live(line: str) -> bool:
    return line.lstrip(_BLANK).startswith(FORMULA_START)


def safe_cell(value: Any) -> Any:
    """`value`, or (a text whose first line or any later line would start a formula) the text
    with an apostrophe before each such line."""
    if not isinstance(value, str) or not value:
        return value
    parts = _LINES.split(value)  # text, break, text, break, ...
    lines = parts[0::2]
    if not any(_live(line) for line in lines):
        return value
    out = []
    for i, part in enumerate(parts):
        out.append("'" + part if i % 2 == 0 and _live(part) else part)
    return "".join(out)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The rows (lists of values) as RFC 4180 CSV (CRLF between rows, every text field
    quoted), each cell through safe_cell. Quoting every text field keeps a line break inside
    its cell for every reader that honours quotes; safe_cell covers those that do not."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    w.writerow([safe_cell(c) for c in header])
    for r in rows:
        w.writerow([_cell(v) for v in r])
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value
    return safe_cell(str(value))
