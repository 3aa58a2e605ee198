"""The four reports against `compute` (what `callboard metrics --from --to` prints) on a
simulated center: totals equal, rows add up to the totals, the previous period is the range
before."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest

from app.config import CallboardConfig
from app.metrics.registry import BY_NAME, Level
from app.metrics.service import compute
from app.reports.service import COLUMNS, Days, ReportError, Scope, build
from tests.reports.conftest import DAYS, NOW

RANGE = Days(DAYS[1], DAYS[2])


def metrics(
    conn: psycopg.Connection[Any], config: CallboardConfig, by: Level, days: Days, tz: str
) -> dict[str, dict[str, Any]]:
    start, end = days.bounds(tz)
    result = compute(conn, config, by=by, now=NOW, start=start, end=end)
    return {r["key"]: r for r in result["rows"]}


def same(a: Any, b: Any, name: str) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        digits = BY_NAME[name].digits if name in BY_NAME else 0
        return math.isclose(a, b, abs_tol=1.01 * 10 ** -(digits or 0))
    return bool(a == b)


@pytest.mark.parametrize(
    ("report", "by"),
    [
        ("queues", "center"),
        ("queues", "queue"),
        ("queues", "team"),
        ("queues", "agent"),
        ("agents", "agent"),
        ("agents", "team"),
        ("agents", "center"),
    ],
)
def test_totals_equal_metrics(center_any: Any, report: str, by: Level) -> None:
    conn, config = center_any
    result = build(conn, config, name=report, days=RANGE, by=by, interval=None, now=NOW)
    expected = metrics(conn, config, by, RANGE, config.defaults.timezone)
    shown = [c for c in COLUMNS[report] if c in BY_NAME]  # the registry's metrics
    assert result["totals"], "no totals"
    assert set(result["totals"]) <= set(expected) | {"unassigned"}
    checked = 0
    for key, row in result["totals"].items():
        for c in shown:
            assert same(row[c], expected[key][c], c), (key, c, row[c], expected[key][c])
            checked += row[c] is not None
    assert checked >= 8
    before = metrics(conn, config, by, RANGE.previous(), config.defaults.timezone)
    for key, row in result["totals"].items():
        if key in before:
            assert same(row["previous"]["handled"], before[key]["handled"], "handled")


@pytest.mark.parametrize("interval", [None, 15, 30, 60])
def test_rows_add_up(center_any: Any, interval: int | None) -> None:
    conn, config = center_any
    result = build(conn, config, name="queues", days=RANGE, by="queue", interval=interval, now=NOW)
    label = "start" if interval else "day"
    labels = {r[label] for r in result["rows"]}
    if interval is None:
        assert labels == {"2026-11-19", "2026-11-20"}
    else:
        assert len(labels) == 24 * 60 // interval
        assert all(len(lb) == 5 and lb[2] == ":" for lb in labels)
    for key, total in result["totals"].items():
        for c in ("arrived", "answered", "abandoned", "handled", "overflowed"):
            assert sum(r[c] for r in result["rows"] if r["key"] == key) == total[c]
        waits = [r["longest_wait_s"] for r in result["rows"] if r["key"] == key]
        assert max(w for w in waits if w is not None) == total["longest_wait_s"]


def test_agents_report_times(center_any: Any) -> None:
    conn, config = center_any
    result = build(conn, config, name="agents", days=RANGE, by="agent", interval=None, now=NOW)
    assert result["rows"]
    for row in result["rows"]:
        states = row["t_available"] + row["t_on_call"] + row["t_wrap_up"] + row["t_away"]
        assert abs(states - row["logged_in_s"]) <= 4  # each rounded to the second
        assert (
            abs(sum(row["away_by_reason"].values()) - row["t_away"])
            <= len(row["away_by_reason"]) + 1
        )
        assert "score" in row
    assert any(r["score"] is not None for r in result["rows"])
    assert any(r["adherence"] is not None for r in result["rows"])


@pytest.mark.parametrize("by", ["center", "queue"])
def test_abandoned_and_waits_equal_metrics(center: Any, by: Level) -> None:
    conn, config = center
    expected = metrics(conn, config, by, RANGE, config.defaults.timezone)
    lost = build(conn, config, name="abandoned", days=RANGE, by=by, interval=None, now=NOW)
    waits = build(conn, config, name="waits", days=RANGE, by=by, interval=None, now=NOW)
    for key, row in expected.items():
        assert lost["totals"][key]["abandoned"] == row["abandoned"]
        assert lost["totals"][key]["short_abandoned"] == row["short_abandoned"]
        n = sum(1 for r in lost["rows"] if r["key"] == key and not r["short"])
        assert n == row["abandoned"]
        assert waits["totals"][key]["answered"] == row["answered"]
        assert waits["totals"][key]["abandoned"] == row["abandoned"]
        assert waits["totals"][key]["short_abandoned"] == row["short_abandoned"]
        # answered within T: the buckets up to T (a bucket holds a < wait <= b)
        if by == "queue":
            t = config.queue(key).sl_threshold_s
            upto = [
                f"{a}-{b}" for a, b in zip(range(0, 60, 5), range(5, 65, 5), strict=True) if b <= t
            ]
            within = sum(
                r["answered"] for r in waits["rows"] if r["key"] == key and r["bucket"] in upto
            )
            assert within == row["answered_in_sl"]
    assert any(r["called_back_at"] for r in lost["rows"]) or lost["rows"]
    assert [r["bucket"] for r in waits["rows"][:2]] == ["0-5", "5-10"]
    assert waits["rows"][len(waits["rows"]) // len(expected) - 1]["bucket"] in ("120+", "unknown")


def test_scope_and_errors(center: Any) -> None:
    conn, config = center
    team = sorted(config.teams)[0]
    mine = Scope(frozenset({team}))
    rows = build(
        conn, config, name="agents", days=RANGE, by="agent", interval=None, now=NOW, scope=mine
    )["rows"]
    assert rows and {r["team"] for r in rows} == {team}
    with pytest.raises(ReportError, match="center"):
        build(
            conn, config, name="queues", days=RANGE, by="center", interval=None, now=NOW, scope=mine
        )
    with pytest.raises(ReportError, match="not by team"):
        build(conn, config, name="waits", days=RANGE, by="team", interval=None, now=NOW)
    with pytest.raises(ReportError, match="interval"):
        build(conn, config, name="queues", days=RANGE, by="queue", interval=20, now=NOW)
    with pytest.raises(ReportError):
        Days(date(2026, 1, 2), date(2026, 1, 1))
    with pytest.raises(ReportError):
        Days(date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=400))
