"""`callboard alerts` as a user runs it: a real process on a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from app.alerts.service import evaluate_tick
from tests.alerts.conftest import backlog, config
from tests.conftest import libpq
from tests.test_cli import run


def test_list_ack_and_all(live_db: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    url, _ = live_db
    cfg = config(alerts=[backlog(above=2)])
    now = datetime.now(UTC)
    with psycopg.connect(libpq(url)) as conn:
        evaluate_tick(conn, cfg, {"queue": {"billing": {"key": "billing", "waiting_now": 6}}}, now)
    listed = run(["alerts", "--json"], url, tmp_path)
    assert listed.returncode == 0, listed.stderr
    [alert] = json.loads(listed.stdout)["alerts"]
    assert (alert["name"], alert["value"], alert["acknowledged_by"]) == ("billing backlog", 6, None)
    table = run(["alerts"], url, tmp_path)
    assert "Queue billing: waiting now is 6, above 2" in table.stdout
    acked = run(["alerts", "ack", str(alert["id"]), "--by", "Maria"], url, tmp_path)
    assert acked.returncode == 0, acked.stderr
    assert "acknowledged by Maria" in acked.stdout
    missing = run(["alerts", "ack", "424242"], url, tmp_path)
    assert missing.returncode == 1 and "no alert 424242" in missing.stderr
    with psycopg.connect(libpq(url)) as conn:
        evaluate_tick(
            conn,
            cfg,
            {"queue": {"billing": {"key": "billing", "waiting_now": 0}}},
            now + timedelta(seconds=5),
        )
    assert json.loads(run(["alerts", "--json"], url, tmp_path).stdout)["alerts"] == []
    [old] = json.loads(run(["alerts", "--all", "--json"], url, tmp_path).stdout)["alerts"]
    assert old["acknowledged_by"] == "Maria" and old["cleared_at"] is not None
