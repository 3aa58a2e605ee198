"""/reports in a real headless Chromium: the page in each of the four languages shows the
report's table (its totals equal to the API's), a Plotly chart with its axes and target line,
and downloads an XLSX; a supervisor sees their teams only; an agent is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from app.i18n import t
from tests.browser import chinese_font
from tests.conftest import libpq
from tests.e2e.conftest import CONFIG, Server, shot
from tests.streams import day_of_events

DAY = "2026-11-20"


@pytest.fixture
def filled(live_db: tuple[str, dict[str, str]], tmp_path: Path) -> Iterator[Any]:
    from ingest.writer import ingest

    # every queue's service level target: the chart draws it
    srv = Server(live_db[0], tmp_path, CONFIG + "\n[defaults]\ntargets = { service_level = 0.8 }\n")
    srv.start()
    with psycopg.connect(libpq(live_db[0])) as conn:
        result = ingest(conn, day_of_events(calls=300, agents=6, queues=3, seed=3))
        assert result.rejected == 0
        # two of the day's agents in the supervisor's team
        conn.execute("UPDATE agents SET team = 'north' WHERE id IN ('a00', 'a01')")
        conn.commit()
    try:
        yield srv, live_db[1]
    finally:
        srv.stop()


@pytest.mark.parametrize("lang", ["en", "zh-CN", "zh-TW", "ru"])
def test_the_reports_page_in_each_language(filled: Any, browser: Any, lang: str) -> None:
    if lang.startswith("zh") and not chinese_font():
        pytest.skip("no Chinese font on this machine")
    srv, tokens = filled
    api = httpx.get(
        f"{srv.base}/api/v1/reports/queues",
        params={"from": DAY, "to": DAY, "by": "queue", "interval": 60},
        headers={"Authorization": f"Bearer {tokens['admin']}"},
    ).json()
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    try:
        page.goto(
            f"{srv.base}/reports?token={tokens['admin']}&lang={lang}"
            f"&report=queues&by=queue&interval=60&from={DAY}&to={DAY}"
        )
        page.wait_for_selector("#rp-totals tr.rp-total", timeout=20000)
        page.wait_for_selector("#rp-chart .main-svg", timeout=20000)
        assert page.locator("h1").inner_text() == t(lang, "report.page.title")
        assert page.locator("#rp-rule").inner_text() == t(lang, "report.rule.queues")
        # the table: one row per queue and hour; the totals as the API gives them
        assert page.locator("#rp-table tbody tr").count() == len(api["rows"])
        total = page.locator("#rp-totals tr.rp-total").first.inner_text()
        first = sorted(api["totals"])[0]
        assert total.startswith(first) and f"{api['totals'][first]['answered']:,}" in total
        # the chart: a line per queue, its axes titled with the unit, the target line
        names = page.eval_on_selector_all(
            "#rp-chart .legendtext", "els => els.map(e => e.textContent)"
        )
        assert set(api["totals"]) <= set(names)
        assert any(n.startswith(t(lang, "report.page.target").split("{")[0].strip()) for n in names)
        ytitle = page.locator("#rp-chart .ytitle").text_content() or ""
        assert ytitle.startswith(t(lang, "metric.service_level.short"))
        shot(page, f"reports-{lang}")
        with page.expect_download() as got:
            page.click(".rp-download[data-format=xlsx]")
        path = got.value.path()
        assert path is not None and Path(path).read_bytes()[:2] == b"PK"
    finally:
        page.close()


def test_roles_on_the_page(filled: Any, browser: Any) -> None:
    srv, tokens = filled
    page = browser.new_page()
    try:
        page.goto(
            f"{srv.base}/reports?token={tokens['north']}&report=agents&by=agent&from={DAY}&to={DAY}"
        )
        page.wait_for_selector("#rp-totals tr", timeout=20000)
        keys = page.eval_on_selector_all(
            "#rp-table tbody tr td:first-child", "els => els.map(e => e.textContent)"
        )
        assert keys and set(keys) <= {"a00", "a01"}
        # the center is everyone's: a supervisor is told so, in words
        page.select_option("#rp-form select[name=report]", "queues")
        page.select_option("#rp-form select[name=by]", "center")
        page.click(".rp-show")
        page.wait_for_selector("#rp-status.rp-error", timeout=10000)
        assert "center" in page.locator("#rp-status").inner_text()
    finally:
        page.close()
    r = httpx.get(f"{srv.base}/reports?token={tokens['a1']}", follow_redirects=True)
    assert r.status_code == 403
