"""A figure tile (app/screens/tiles.py) on a real wallboard: shown where the board names it,
with the API's figure, and nowhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from app.screens.words import fmt
from tests.e2e.conftest import CONFIG, Server, shot
from tests.e2e.test_screens import busy_floor, n


def test_a_board_naming_a_figure_tile_shows_the_metric(
    live_db: tuple[str, dict[str, str]], tmp_path: Path, browser: Any
) -> None:
    url, tokens = live_db
    config = CONFIG + '\n[wallboards.aht]\nqueues = ["billing", "sales"]\n'
    config += 'tiles = ["waiting", "service_level", "aht"]\n'
    srv = Server(url, tmp_path, config)
    srv.start()
    try:
        srv.post(tokens["ingest"], busy_floor())
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(f"{srv.base}/wall/aht?token={tokens['wallboard']}")
        expect(page.locator("#freshness")).to_have_class("fresh live", timeout=20_000)
        expect(page.locator("#fig-aht-billing")).to_be_visible(timeout=10_000)
        rows = httpx.get(
            f"{srv.base}/api/v1/metrics?by=queue&window=today",
            headers={"Authorization": f"Bearer {tokens['admin']}"},
        ).json()["rows"]
        aht = {r["key"]: r["aht_s"] for r in rows}
        assert n(page, "#fig-aht-billing") == fmt(aht["billing"], "seconds")
        expect(page.locator("#tile-billing")).to_contain_text("AHT")  # metric.aht_s.short
        shot(page, "wall-figure-tile")
        page.goto(f"{srv.base}/wall/floor2?token={tokens['wallboard']}")
        expect(page.locator("#tile-billing")).to_be_visible(timeout=10_000)
        assert page.locator("[id^=fig-aht-]").count() == 0  # a board that does not name it
        page.close()
    finally:
        srv.stop()
