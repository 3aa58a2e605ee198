"""The three screens in a real browser: events POSTed over HTTP show up with the right values;
the wallboard turns stale when the feed stops and comes back by itself; the supervisor drills
down and exports. Screenshots land in artifacts/screens/."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import Server, shot


def _at(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def floor(prefix: str = "") -> list[dict[str, Any]]:
    """Three agents on, one call answered and ended, three callers waiting in billing."""
    events: list[dict[str, Any]] = [
        {
            "id": f"{prefix}s{a}",
            "ts": _at(600),
            "type": "agent.state",
            "agent": a,
            "state": "available",
            "queues": ["billing", "sales"],
        }
        for a in ("a1", "a2", "a3")
    ]
    events += [
        {
            "id": f"{prefix}q0",
            "ts": _at(300),
            "type": "call.queued",
            "call_id": f"{prefix}c0",
            "queue": "billing",
            "customer": "k0",
        },
        {
            "id": f"{prefix}a0",
            "ts": _at(290),
            "type": "call.answered",
            "call_id": f"{prefix}c0",
            "queue": "billing",
            "agent": "a1",
        },
        {
            "id": f"{prefix}e0",
            "ts": _at(110),
            "type": "call.ended",
            "call_id": f"{prefix}c0",
            "queue": "billing",
            "agent": "a1",
            "ended_by": "customer",
        },
        {
            "id": f"{prefix}w0",
            "ts": _at(100),
            "type": "call.wrapped",
            "call_id": f"{prefix}c0",
            "agent": "a1",
        },
    ]
    events += [
        {
            "id": f"{prefix}q{i}",
            "ts": _at(60 - i),
            "type": "call.queued",
            "call_id": f"{prefix}c{i}",
            "queue": "billing",
        }
        for i in (1, 2, 3)
    ]
    return events


def test_pages_need_a_token_of_the_right_role(server: tuple[Server, dict[str, str]]) -> None:
    srv, tokens = server
    assert httpx.get(f"{srv.base}/wall").status_code == 401
    # ?token= is traded for a cookie and a redirect to the clean address (issue 10)
    get = partial(httpx.get, follow_redirects=True)
    assert get(f"{srv.base}/sup?token={tokens['wallboard']}").status_code == 403
    assert get(f"{srv.base}/agent/a2?token={tokens['a1']}").status_code == 403
    assert get(f"{srv.base}/agent/a1?token={tokens['a1']}").status_code == 200
    assert httpx.get(f"{srv.base}/api/v1/nothing-here").status_code == 404


def test_the_wallboard_shows_the_floor_goes_stale_and_comes_back(
    server: tuple[Server, dict[str, str]], browser: Any
) -> None:
    srv, tokens = server
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{srv.base}/wall?token={tokens['wallboard']}")
    expect(page.locator("#freshness")).to_contain_text("live", timeout=15_000)
    srv.post(tokens["ingest"], floor())
    expect(page.locator("#waiting-billing")).to_have_text("3", timeout=10_000)
    expect(page.locator("#available-billing")).to_have_text("3 / 3")
    expect(page.locator("#sl-billing")).to_have_text("100%")  # one answered within 20 s
    expect(page.locator("#wall-balances")).to_contain_text("90/90")
    longest = page.locator("#longest-billing").inner_text()
    time.sleep(2.2)
    assert page.locator("#longest-billing").inner_text() != longest, "the longest wait ticks"
    shot(page, "wall")

    srv.stop()  # the feed stops: the board says so
    expect(page.locator("#freshness")).to_contain_text("STALE", timeout=20_000)
    expect(page.locator("#freshness")).to_have_class("fresh stale")
    shot(page, "wall-stale")
    srv.start()  # same address: the board reconnects by itself, no keyboard
    expect(page.locator("#freshness")).to_contain_text("live", timeout=30_000)
    expect(page.locator("#waiting-billing")).to_have_text("3", timeout=10_000)
    page.close()


def test_the_agent_widget_shows_their_state_kpis_and_queues(
    server: tuple[Server, dict[str, str]], browser: Any
) -> None:
    srv, tokens = server
    srv.post(tokens["ingest"], floor())
    page = browser.new_page(viewport={"width": 360, "height": 480})
    page.goto(f"{srv.base}/agent/a1?token={tokens['a1']}")
    expect(page.locator("#agent-state")).to_contain_text("available", timeout=15_000)
    expect(page.locator("#agent-kpi-handled")).to_have_text("1")
    expect(page.locator("#agent-waiting-billing")).to_have_text("3")
    expect(page.locator("#agent-score")).to_be_visible()
    expect(page.locator("#agent-flags")).to_contain_text("too few to judge")
    srv.post(
        tokens["ingest"],
        [
            {
                "id": "live-a",
                "ts": _at(1),
                "type": "call.answered",
                "call_id": "c1",
                "queue": "billing",
                "agent": "a1",
            },
        ],
    )
    expect(page.locator("#agent-state")).to_contain_text("on call", timeout=10_000)
    expect(page.locator("#agent-waiting-billing")).to_have_text("2")
    shot(page, "agent")
    page.close()


def test_the_supervisor_drills_down_and_exports(
    server: tuple[Server, dict[str, str]], browser: Any
) -> None:
    srv, tokens = server
    srv.post(tokens["ingest"], floor())
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{srv.base}/sup?token={tokens['north']}")
    queues = page.locator("#table-queues")
    expect(queues).to_contain_text("billing", timeout=15_000)
    expect(page.locator("#agent-grid")).to_contain_text("a1")
    expect(page.locator("#agent-grid")).not_to_contain_text("a3")  # south is not theirs
    expect(page.locator("#table-scorecards")).to_contain_text("a1")
    expect(page.locator("#table-scorecards")).not_to_contain_text("a3")
    page.locator("#table-queues tr.pick", has_text="billing").click()
    expect(page.locator(".crumbs")).to_contain_text("center › billing")
    expect(page.locator("#table-contacts")).to_contain_text("c0", timeout=10_000)
    expect(page.locator(".js-plotly-plot .gtitle")).to_contain_text("billing", timeout=10_000)
    with page.expect_download() as download:
        page.locator("#table-queues").locator("xpath=..").locator("button.csv").click()
    content = download.value.path().read_text()
    assert content.startswith("key,") and "billing" in content
    shot(page, "sup")
    page.close()
