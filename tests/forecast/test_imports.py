from __future__ import annotations

from datetime import UTC, datetime

from app.forecast.imports import parse


def test_good_rows_are_read_with_their_offset() -> None:
    rows, errors = parse(
        "queue,start,offered,aht_s\n"
        "sales,2026-12-08T09:00:00+01:00,42.5,285\n"
        "sales,2026-12-08T09:15:00+01:00,40,\n"
    )
    assert errors == []
    assert rows[0].start == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
    assert (rows[0].offered, rows[0].aht_s, rows[1].aht_s) == (42.5, 285.0, None)
    assert {r.method for r in rows} == {"import"}


def test_each_bad_row_is_named_by_its_line_and_the_good_ones_are_kept() -> None:
    text = (
        "queue,start,offered,aht_s\n"
        "sales,2026-12-08T09:00:00Z,10,200\n"  # 2: good
        "sales,2026-12-08T09:00:00,10,200\n"  # 3: no offset
        "sales,2026-12-08T09:07:00Z,10,200\n"  # 4: not a quarter hour
        "sales,2026-12-08T09:30:00Z,-1,200\n"  # 5: negative
        "sales,2026-12-08T09:45:00Z,ten,200\n"  # 6: not a number
        ",2026-12-08T10:00:00Z,3,200\n"  # 7: no queue
        "sales,2026-12-08T10:15:00Z,3,0\n"  # 8: AHT 0
        "sales,2026-12-08T09:00:00Z,11,200\n"  # 9: repeats line 2
        "sales,2026-12-08T10:30:00Z,3,200,x\n"  # 10: a cell too many
        "sales,2026-12-08T10:45:00Z,nan,200\n"  # 11: not finite
    )
    rows, errors = parse(text)
    assert [r.offered for r in rows] == [10.0]
    assert [e.line for e in errors] == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    by_line = {e.line: e.message for e in errors}
    assert "UTC offset" in by_line[3]
    assert "quarter hour" in by_line[4]
    assert "line 2" in by_line[9]


def test_a_header_without_the_needed_columns_is_one_error_on_line_1() -> None:
    rows, errors = parse("queue;start;offered\nsales;2026-12-08T09:00:00Z;1\n")
    assert rows == []
    assert errors[0].line == 1 and "missing column" in errors[0].message
