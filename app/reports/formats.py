"""A report as a table (headers in the floor's language, typed cells) and that table as CSV,
XLSX (real numbers with number formats) or PDF (A4 landscape, for printing).

Text cells a spreadsheet would run as a formula go through the project's one neutraliser
(app/cells.py), in CSV and XLSX alike; the CSV is its one CSV writer's."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app.cells import csv_text, safe_cell
from app.i18n import t
from app.metrics.registry import BY_NAME
from app.screens.words import fmt

# units of the columns that are not metrics of the registry
UNITS: dict[str, str] = {
    "longest_wait_s": "seconds",
    "t_available": "seconds",
    "t_on_call": "seconds",
    "t_wrap_up": "seconds",
    "t_away": "seconds",
    "wait_s": "seconds",
    "called_back_after_s": "seconds",
    "score": "score",
    "sl_threshold_s": "seconds",
}
TEXT = ("key", "day", "start", "bucket", "queue", "customer", "left_at", "queued_at")
TIMES = ("left_at", "queued_at", "called_back_at")
MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def unit(column: str) -> str:
    if column.startswith("away:"):
        return "seconds"
    if column in UNITS:
        return UNITS[column]
    m = BY_NAME.get(column)
    if m is None:
        return "count"
    return "percent" if m.unit == "ratio" else m.unit


@dataclass(frozen=True)
class Table:
    title: str
    subtitle: str
    rule: str
    columns: list[str]
    headers: list[str]
    rows: list[list[Any]]  # raw values (numbers stay numbers; None is "no data")
    generated: str


def header(column: str, lang: str) -> str:
    if column.startswith("away:"):
        reason = column[5:]
        said = t(lang, f"reason.{reason}")
        return t(
            lang, "report.col.away_reason", reason=reason if said == f"reason.{reason}" else said
        )
    key = f"report.col.{column}"
    text = t(lang, key)
    if text != key:
        return text
    return t(lang, f"metric.{column}.short")


def table(report: Mapping[str, Any], lang: str = "en") -> Table:
    """The rows of a report (totals last, then the previous period's) as a table."""
    name = report["report"]
    first = ["key"]
    if report["rows"] and "day" in report["rows"][0]:
        first.append("day")
    if report["rows"] and "start" in report["rows"][0]:
        first.append("start")
    columns = [c for c in report["columns"] if c != "away_by_reason"]
    if name == "abandoned" and report["by"] == "center":
        columns = ["queue", *columns]
    reasons = sorted(
        {r for row in report["rows"] for r in (row.get("away_by_reason") or {})}
        | {r for row in report["totals"].values() for r in (row.get("away_by_reason") or {})}
    )
    columns += [f"away:{r}" for r in reasons]
    columns = first + [c for c in columns if c not in first]
    zone = ZoneInfo(report.get("timezone") or "UTC")

    def cells(row: Mapping[str, Any]) -> list[Any]:
        out = []
        for c in columns:
            if c.startswith("away:"):
                out.append((row.get("away_by_reason") or {}).get(c[5:], 0))
            elif c in TIMES and row.get(c):
                local = datetime.fromisoformat(row[c]).astimezone(zone)
                out.append(local.strftime("%Y-%m-%d %H:%M:%S"))
            else:
                out.append(row.get(c))
        return out

    rows = [cells(r) for r in report["rows"]]
    if name in ("queues", "agents"):
        total = t(lang, "report.total")
        before = t(lang, "report.previous")
        for key, row in report["totals"].items():
            rows.append(cells({**row, "key": f"{key} · {total}", "day": None, "start": None}))
        for key, row in report["totals"].items():
            if row.get("previous"):
                rows.append(cells({**row["previous"], "key": f"{key} · {before}"}))
    by = t(lang, f"cli.by.{report['by']}")
    span = f"{report['from']} – {report['to']}"
    interval = report.get("interval")
    sub = t(
        lang,
        "report.subtitle",
        by=by,
        span=span,
        tz=report.get("timezone") or "",
        interval=t(lang, "report.interval_min", n=interval)
        if interval
        else t(lang, "report.daily"),
    )
    return Table(
        title=t(lang, f"report.name.{name}"),
        subtitle=sub,
        rule=t(lang, f"report.rule.{name}"),
        columns=columns,
        headers=[header(c, lang) for c in columns],
        rows=rows,
        generated=t(lang, "report.generated", at=report.get("generated_at", "")),
    )


def to_csv(tb: Table) -> bytes:
    # a BOM: spreadsheets then read UTF-8 (Chinese, Russian) as UTF-8
    return ("\ufeff" + csv_text(tb.headers, tb.rows)).encode("utf-8")


_NUMBER_FORMATS = {
    "percent": "0.0%",
    "seconds": "0.0",
    "score": "0.0",
    "per_hour": "0.00",
    "nps": "0",
    "count": "#,##0",
}


def to_xlsx(tb: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = tb.title[:31]
    ws.append([tb.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([tb.subtitle])
    ws.append([tb.rule])
    ws.append([])
    ws.append([safe_cell(h) for h in tb.headers])
    head_row = ws.max_row
    for cell in ws[head_row]:
        cell.font = Font(bold=True)
    units = [unit(c) for c in tb.columns]
    for row in tb.rows:
        values = []
        for v in row:
            if isinstance(v, bool):
                values.append(v)
            elif isinstance(v, str):
                values.append(safe_cell(v))
            else:
                values.append(v)
        ws.append(values)
        for i, (v, u) in enumerate(zip(values, units, strict=True)):
            if isinstance(v, int | float) and not isinstance(v, bool):
                ws.cell(row=ws.max_row, column=i + 1).number_format = _NUMBER_FORMATS.get(
                    u, "General"
                )
    ws.freeze_panes = f"B{head_row + 1}"
    for i, h in enumerate(tb.headers):
        ws.column_dimensions[get_column_letter(i + 1)].width = max(10, min(28, len(h) + 4))
    ws.append([])
    ws.append([tb.generated])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# Fonts for the PDF: a TrueType font with the language's letters, where the system has one.
_FONTS: dict[str, tuple[str, ...]] = {
    "latin": (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/Library/Fonts/Arial Unicode.ttf",
    ),
    "cjk": (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/arphic/uming.ttc",
    ),
}


@cache
def font_for(lang: str) -> str | None:
    """A font file with the language's letters, or None (the PDF is then written in English
    with the core font, and says so)."""
    family = "cjk" if lang.startswith("zh") else "latin"
    for path in _FONTS[family]:
        if Path(path).is_file():
            return path
    return None


def to_pdf(report: Mapping[str, Any], lang: str = "en") -> bytes:
    """A4 landscape: the title, the range, the rule, the table (repeated headers), the
    definitions' names and when it was made."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    font = font_for(lang)
    if font is None and lang != "en":
        lang = "en"
    tb = table(report, lang)
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    if font is not None:
        pdf.add_font("body", "", font)
        family = "body"
    else:
        family = "helvetica"
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font(family, size=15)
    pdf.cell(width, 8, _text(tb.title, font), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=9)
    pdf.cell(width, 5, _text(tb.subtitle, font), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 4.5, _text(tb.rule, font), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    size = 7 if len(tb.columns) <= 14 else 6
    pdf.set_font(family, size=size)
    units = [unit(c) for c in tb.columns]
    shown = [
        [_text(_cell(v, u, c, lang), font) for v, u, c in zip(r, units, tb.columns, strict=True)]
        for r in tb.rows
    ]
    heads = [_text(h, font) for h in tb.headers]
    # each column as wide as its widest value, its header wrapping onto lines if longer
    weights = [
        max([pdf.get_string_width(s) for s in col] + [min(pdf.get_string_width(h), 18)]) + 2.5
        for h, col in zip(
            heads, zip(*shown, strict=True) if shown else [[]] * len(heads), strict=True
        )
    ]
    # text columns (group, day, time) keep their width; the figures share what is left
    fixed = sum(w for w, c in zip(weights, tb.columns, strict=True) if c in TEXT)
    scale = min(1.0, max(0.3, (width - fixed) / max(1.0, sum(weights) - fixed)))
    weights = [w if c in TEXT else w * scale for w, c in zip(weights, tb.columns, strict=True)]
    aligns = tuple("LEFT" if c in TEXT else "RIGHT" for c in tb.columns)
    with pdf.table(
        width=min(width, sum(weights)),
        col_widths=tuple(weights),
        text_align=aligns,
        align="LEFT",
        line_height=size * 0.55,
        repeat_headings=1,
        cell_fill_color=(243, 244, 246),
        cell_fill_mode="ROWS",
        headings_style=FontFace(emphasis=None, fill_color=(229, 231, 235)),
        first_row_as_headings=True,
    ) as grid:
        grid.row(heads)
        for row in shown:
            grid.row(row)
    pdf.ln(3)
    pdf.set_font(family, size=7)
    names = ", ".join(c for c in tb.columns if c in BY_NAME)
    pdf.multi_cell(
        width,
        3.5,
        _text(t(lang, "report.definitions", names=names), font),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(width, 4, _text(tb.generated, font), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _cell(value: Any, u: str, column: str, lang: str) -> str:
    if column in TEXT or column in TIMES or isinstance(value, str):
        return "" if value is None else str(value)
    if isinstance(value, bool):
        return t(lang, "report.yes") if value else ""
    return fmt(value, u, lang)


def _text(s: str, font: str | None) -> str:
    """The core font has Latin-1 only: anything else is replaced, never an error."""
    if font is not None:
        return s
    return s.encode("latin-1", "replace").decode("latin-1")


def render(report: Mapping[str, Any], fmt_name: str, lang: str = "en") -> bytes:
    if fmt_name == "csv":
        return to_csv(table(report, lang))
    if fmt_name == "xlsx":
        return to_xlsx(table(report, lang))
    if fmt_name == "pdf":
        return to_pdf(report, lang)
    raise ValueError(f"unknown format {fmt_name!r}; expected json, csv, xlsx or pdf")
