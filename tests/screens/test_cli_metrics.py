"""`callboard metrics` for people: 80 columns, the screens' names and units, the demo's
clock while a demo runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from app.cli.metrics import render
from app.cli.root import current_clock, write_demo_clock
from app.clock import Clock
from app.settings import Settings

RESULT = {
    "from": "2026-12-01T07:00:00Z",
    "to": "2026-12-01T12:31:00Z",
    "window": "today",
    "rows": [
        {
            "key": "billing-and-payments-long-name",
            "waiting_now": 3,
            "longest_wait_now_s": 64.2,
            "service_level": 0.8312,
            "asa_s": 12.4,
            "abandon_rate": 0.041,
            "arrived": 1204,
            "answered": 1150,
            "aht_s": 250.0,
        },
        {"key": "sales", "waiting_now": 0, "service_level": None},
    ],
}


def test_the_table_reads_in_80_columns_with_the_screens_names_and_units() -> None:
    text = render(RESULT, by="queue", tz="Europe/Berlin")
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert lines[0] == "queue · today · 2026-12-01 08:00–13:31 (Europe/Berlin)"
    assert "SL today" in lines[2] and "waiting" in lines[2] and "AHT" in lines[2]
    billing = lines[3]
    for shown in ("billing-and-pay…", "3", "1:04", "83%", "0:12", "4%", "1,204", "1,150", "4:10"):
        assert shown in billing, shown
    assert "service_level" not in text and "0.83" not in text  # no raw keys, no fractions
    assert lines[4].split()[:3] == ["sales", "0", "–"]
    assert "\x1b" not in text  # plain in a pipe


def test_the_demo_clock_is_used_while_the_demo_runs(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert current_clock(settings)[1] is False
    demo = Clock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), 1_000.0, 10.0)
    write_demo_clock(settings, demo)  # this process plays the running demo
    clock, simulated = current_clock(settings)
    assert simulated and clock.origin == demo.origin and clock.speed == 10.0
    body = json.loads((tmp_path / "demo" / "clock.json").read_text())
    body["pid"] = 2**22 + 12345  # a demo that is gone
    (tmp_path / "demo" / "clock.json").write_text(json.dumps(body))
    assert current_clock(settings)[1] is False


def test_over_another_window_the_sl_column_does_not_say_today() -> None:
    custom = {**RESULT, "window": None}
    head = render(custom, by="queue", tz="Europe/Berlin").splitlines()[2]
    assert "SL today" not in head and "SL" in head.split()


def test_the_sources_table_keeps_its_headers_and_never_shows_a_negative_age() -> None:

    from app.cli.sources import SOURCE_COLUMNS, sources_table

    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    row = {
        "source": "simulator",
        "last_event_ts": "2026-12-07T10:10:22.123456+00:00",  # ahead: a demo's clock
        "age_s": -622.0,
        "events_per_min": 1047.8,
        "inserted": 5239,
        "duplicates": 0,
        "rejected": 0,
        "gaps": 0,
        "lag_bytes": 12_345_678,
        "stale": True,
    }
    text = sources_table(
        {"sources": [row, {**row, "source": "queue_log_pbx1_long_name"}]},
        tz="Europe/Berlin",
        now=now,
    )
    assert all(len(line) <= 80 for line in text.splitlines())
    for header, _ in SOURCE_COLUMNS:
        assert header in text, header
    assert "11:10:22" in text and "0:00" in text and "-622" not in text
    assert "1,047.8" in text and "5,239" in text and "12 MB" in text and "STALE" in text


def test_staffing_reads_in_80_columns_in_per_cent_and_minutes() -> None:
    import io

    from rich.console import Console

    from app.cli.staffing import levels_table
    from app.staffing.service import plan

    result = plan(arrivals=120, per_s=1800, aht_s=300, target=0.8, within_s=20)
    out = io.StringIO()
    Console(file=out, width=80, highlight=False).print(levels_table(result))
    text = out.getvalue()
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "service level" in text and "85.0%" in text and "0.8" not in text
    assert "25 *" in text
