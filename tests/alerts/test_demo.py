"""The demo's rules on the simulated floor: a queue slips at the 09:00 peak and the alert is
raised, then the morning's alerts clear as the floor recovers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from app.alerts.service import evaluate_tick
from app.config import CallboardConfig, store_config
from ingest.sim.center import demo_center
from ingest.sim.engine import Simulation
from ingest.sim.live import store, write_config

START = datetime.fromisoformat("2026-11-20T07:00:00+01:00")


def test_the_nine_oclock_peak_raises_a_service_level_alert(
    pg: psycopg.Connection[Any], tmp_path: Path
) -> None:
    center = demo_center(agents=40)
    config = CallboardConfig.model_validate(
        write_config(center, START.date(), tmp_path / "callboard.toml")
    )
    store_config(pg, config, origin="test")
    store(pg, list(Simulation(center, start=START, hours=4, seed=4).run()))
    seen: dict[str, list[tuple[str, datetime]]] = {}
    at = START + timedelta(hours=1)
    while at < START + timedelta(hours=4):
        for t in evaluate_tick(pg, config, None, at):
            seen.setdefault(t.kind, []).append((t.rule, at))
        at += timedelta(minutes=1)
    slipped = [(r, when) for r, when in seen.get("raised", []) if r.endswith("service level")]
    assert slipped, f"no service-level alert all morning: {seen}"
    # the morning peak (08:00 to 10:00) is when a queue slips
    assert START + timedelta(hours=1) <= min(w for _, w in slipped) <= START + timedelta(hours=3)
    cleared = [r for r, _ in seen.get("cleared", [])]
    assert any(r for r, _ in slipped if r in cleared), "the floor recovers and the alert clears"
