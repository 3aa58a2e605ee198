"""The demo's rules on the demo's own simulated day (`callboard demo`'s seed and hours): the
morning is calm from 08:30, a queue slips at the 09:00 peak and its service-level alert is
raised, then the floor recovers and the alerts clear before 10:00."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from app.alerts.service import evaluate_tick
from app.config import CallboardConfig, store_config
from ingest.sim.center import demo_center
from ingest.sim.engine import Simulation
from ingest.sim.live import DEMO_HOURS, DEMO_SEED, DEMO_WALLBOARDS, store, write_config

START = datetime.fromisoformat("2026-11-20T07:00:00+01:00")


def test_the_nine_oclock_peak_raises_a_service_level_alert(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    center = demo_center(agents=40)
    config = CallboardConfig.model_validate(
        write_config(center, START.date(), tmp_path / "callboard.toml")
    )
    store_config(pg, config, origin="test")
    # the demo's day, as far as 10:00 (what the demo has fed by then)
    sim = Simulation(center, start=START, hours=DEMO_HOURS, seed=DEMO_SEED)
    store(pg, sim.advance(sim.sim_time(START + timedelta(hours=3))))
    seen: dict[str, list[tuple[str, datetime]]] = {}
    at = START + timedelta(hours=1.5)  # the demo's live floor starts at 08:30
    while at < START + timedelta(hours=3):
        for t in evaluate_tick(pg, config, None, at):
            if t.scope.startswith(("queue:", "center")):
                seen.setdefault(t.kind, []).append((t.rule, at))
        at += timedelta(minutes=1)
    slipped = [(r, when) for r, when in seen.get("raised", []) if r.endswith("service level")]
    assert slipped, f"no service-level alert all morning: {seen}"
    # calm at first; the 09:00 peak (08:50 to 09:20) is when a queue slips
    first = min(w for _, w in slipped)
    assert START + timedelta(hours=1, minutes=50) <= first <= START + timedelta(hours=2, minutes=20)
    cleared = [r for r, _ in seen.get("cleared", [])]
    assert any(r for r, _ in slipped if r in cleared), "the floor recovers and the alert clears"


def test_the_demo_has_a_chinese_wallboard(tmp_path: Path) -> None:
    body = write_config(demo_center(agents=40), START.date(), tmp_path / "callboard.toml")
    config = CallboardConfig.model_validate(body)
    board = config.wallboards["shanghai"]
    assert board.lang == "zh-CN" and board.title == "上海 · 客服中心"
    assert DEMO_WALLBOARDS == {"shanghai": {"title": "上海 · 客服中心", "lang": "zh-CN"}}
