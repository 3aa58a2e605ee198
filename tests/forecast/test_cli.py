from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import orjson
import psycopg

from tests.conftest import libpq
from tests.forecast.conftest import MONDAY, WEEKDAY_RATE, day_calls
from tests.test_cli import migrated, run

__all__ = ["migrated"]  # the fixture


def test_backtest_json_has_rows_and_a_summary_per_method(migrated: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    events = []
    for i in range(14):
        day = MONDAY + timedelta(days=i)
        events += day_calls("sales", day, list(rng.poisson(WEEKDAY_RATE[day.weekday()], 16)), "c")
    path = tmp_path / "month.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events))
    assert run(["import", "events", str(path)], migrated, tmp_path).returncode == 0
    week2 = MONDAY + timedelta(days=7)
    r = run(
        [
            "forecast",
            "backtest",
            "--from",
            str(week2),
            "--to",
            str(week2 + timedelta(days=6)),
            "--json",
        ],
        migrated,
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    body = orjson.loads(r.stdout)
    assert {"seasonal_naive", body["default"]} <= set(body["summary"])
    assert set(body["rows"][0]) >= {"queue", "start", "forecast", "actual"}
    assert body["rows"][0]["start"].endswith("Z")
    table = run(
        ["forecast", "backtest", "--from", str(week2), "--to", str(week2)], migrated, tmp_path
    )
    assert "seasonal_naive" in table.stdout and "WAPE" in table.stdout
    bad = run(["forecast", "backtest", "--from", "monday", "--to", str(week2)], migrated, tmp_path)
    assert bad.returncode == 2 and "--from must be a date" in bad.stderr


def test_import_stores_the_good_rows_and_names_each_bad_line(migrated: str, tmp_path: Path) -> None:
    csv = tmp_path / "wfm.csv"
    csv.write_text(
        "queue,start,offered,aht_s\n"
        "sales,2026-12-08T09:00:00+01:00,42.5,285\n"
        "sales,2026-12-08T09:10:00+01:00,40,285\n"
        "sales,2026-12-08T09:15:00+01:00,41,\n"
    )
    r = run(["forecast", "import", str(csv)], migrated, tmp_path)
    assert r.returncode == 1
    assert f"{csv}:3: start: must be at a whole quarter hour" in r.stderr
    assert "2 intervals stored, 1 row(s) rejected" in r.stderr
    with psycopg.connect(libpq(migrated)) as conn:
        got = conn.execute(
            "SELECT offered, aht_s, method FROM forecast_intervals ORDER BY starts_at"
        ).fetchall()
    assert got == [(42.5, 285.0, "import"), (41.0, None, "import")]
