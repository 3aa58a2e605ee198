"""Alerts where people look, in a real headless Chromium against `callboard serve` in its own
process on real PostgreSQL: a breach is on the wall within 2 s of the tick that saw it and goes
when the metric is back; a supervisor acknowledges it on /sup with a mouse click, and /sup and
the wall then say who and when; an agent sees their own alert and nobody else's. Screenshots
land in the screenshots folder (tests/browser.py) as alerts-*.png."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import tomli_w
from playwright.sync_api import expect

from app.auth.service import create_token
from tests.alerts.conftest import TEAMS, abandoned, queued
from tests.browser import charts_drawn, launched, shot
from tests.conftest import libpq
from tests.e2e.conftest import Server
from tests.e2e.test_screens import fits

CONFIG = {
    "queues": {"billing": {}},
    "teams": TEAMS,
    "alerts": [
        {
            "name": "billing backlog",
            "scope": "queue:billing",
            "metric": "waiting_now",
            "above": 2,
            "severity": "critical",
        },
        {
            "name": "long wrap-up",
            "scope": "center",
            "each_agent": True,
            "metric": "wrap_up_s",
            "above": 20,
            "severity": "info",
        },
    ],
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as b:
        yield b


@pytest.fixture
def served(
    live_db: tuple[str, dict[str, str]], tmp_path: Path
) -> Iterator[tuple[Server, dict[str, str]]]:
    """The server, and besides live_db's tokens a supervisor of north who is a person
    ("Anna Petrova", the token's label: who acknowledged)."""
    url, tokens = live_db
    with psycopg.connect(libpq(url)) as conn:
        anna = create_token(conn, role="supervisor", teams=("north",), label="Anna Petrova")
        conn.commit()
    srv = Server(url, tmp_path, config=tomli_w.dumps(CONFIG))
    srv.start()
    try:
        yield srv, {**tokens, "anna": anna}
    finally:
        srv.stop()


def alerts(srv: Server, token: str, *, all: bool = False) -> list[dict[str, Any]]:
    r = httpx.get(
        f"{srv.base}/api/v1/alerts" + ("?all=true" if all else ""),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    return list(body["active"]) + list(body.get("cleared") or [])


def ms(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


# when the banner's first line appears on the page and when the last one goes (the page's
# clock, the server's machine: the same clock)
WATCH = """() => {
  const seen = window.__banner = {shown: null, gone: null};
  const look = () => {
    const on = !!document.querySelector('#wall-alerts .cb-alert-line');
    if (on && seen.shown === null) seen.shown = Date.now();
    if (!on && seen.shown !== null && seen.gone === null) seen.gone = Date.now();
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true});
}"""

# every tone the page plays (the chime's oscillators), by pitch
EARS = """
window.__chimes = [];
const Real = window.AudioContext;
window.AudioContext = function () {
  const ctx = new Real();
  const make = ctx.createOscillator.bind(ctx);
  ctx.createOscillator = () => {
    const osc = make();
    const start = osc.start.bind(osc);
    osc.start = (t) => { window.__chimes.push(osc.frequency.value); return start(t); };
    return osc;
  };
  return ctx;
};
"""

# is the figure on top where it is drawn (nothing covers it), and inside the screen?
UNCOVERED = """(sel) => {
  const el = document.querySelector(sel);
  const r = el.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  const top = document.elementFromPoint(x, y);
  return !!top && el.contains(top) && r.bottom <= innerHeight && r.right <= innerWidth;
}"""


def line_size(page: Any) -> float:
    return float(
        page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('#wall-alerts .cb-alert-line'))"
            ".fontSize)"
        )
    )


def test_a_breach_is_on_the_wall_within_2_s_of_its_tick_and_goes_when_the_metric_is_back(
    served: tuple[Server, dict[str, str]], browser: Any
) -> None:
    srv, tokens = served
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.add_init_script(EARS)
    try:
        page.goto(f"{srv.base}/wall?sound=1&token={tokens['wallboard']}")
        expect(page.locator("#freshness")).to_have_class("fresh live", timeout=20_000)
        charts_drawn(page)
        topics = page.evaluate("callboard.page.topics")
        assert topics == ["center", "feed", "alerts"]
        page.evaluate(WATCH)
        srv.post(tokens["ingest"], queued(3, "wb"))
        page.wait_for_function("window.__banner.shown !== null", timeout=20_000)
        [alert] = alerts(srv, tokens["admin"])
        late = page.evaluate("window.__banner.shown") - ms(alert["raised_at"])
        print(f"banner on the wall {late:.0f} ms after the tick that raised it")
        assert late <= 2000
        line = page.locator(f"#cb-banner-{alert['id']}")
        expect(line).to_have_text("Queue billingwaiting now is 3, above 2")
        assert "cb-alert-critical" in str(line.get_attribute("class"))
        # ?sound=1: one chime for the new alert, the critical pitch, not one per frame
        page.wait_for_function("window.__chimes.length > 0", timeout=5_000)
        page.wait_for_timeout(1500)
        assert page.evaluate("window.__chimes") == [880]
        # readable from 5 m: 7vh on a 1080p TV, about 75 px; nothing of the wall covered or cut
        assert line_size(page) >= 64
        page.wait_for_timeout(500)
        for figure in ("#waiting-billing", "#longest-billing", "#center-waiting"):
            assert page.evaluate(UNCOVERED, figure), figure
        assert fits(page) == []
        shot(page, "alerts-wall-16x9", docs=True)
        page.set_viewport_size({"width": 1080, "height": 1920})
        page.wait_for_timeout(800)
        assert line_size(page) >= 56  # 5.5vw on a portrait TV
        for figure in ("#waiting-billing", "#longest-billing", "#center-waiting"):
            assert page.evaluate(UNCOVERED, figure), figure
        assert fits(page) == []
        shot(page, "alerts-wall-9x16")
        page.set_viewport_size({"width": 1920, "height": 1080})

        # the callers leave: back within the threshold, the banner goes
        srv.post(tokens["ingest"], abandoned(3, "wb"))
        page.wait_for_function("window.__banner.gone !== null", timeout=20_000)
        [cleared] = alerts(srv, tokens["admin"], all=True)
        assert cleared["cleared_at"] is not None
        late = page.evaluate("window.__banner.gone") - ms(cleared["cleared_at"])
        print(f"banner gone {late:.0f} ms after the tick that cleared it")
        assert late <= 2000
        assert page.locator("#wall-alerts").inner_html() == ""
    finally:
        page.close()


def test_a_supervisor_acknowledges_on_sup_and_the_wall_says_who(
    served: tuple[Server, dict[str, str]], browser: Any
) -> None:
    srv, tokens = served
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    sup = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        wall.goto(f"{srv.base}/wall?token={tokens['wallboard']}")
        sup.goto(f"{srv.base}/sup?token={tokens['anna']}")
        expect(sup.locator("#panel-alerts")).to_contain_text("No active alerts", timeout=20_000)
        assert sup.evaluate("callboard.page.topics") == [
            "center",
            "team:north",
            "sources",
            "alerts",
            "alerts:team:north",
        ]
        srv.post(tokens["ingest"], queued(4, "ack"))
        button = sup.locator("#panel-alerts button.cb-alert-ack")
        expect(button).to_be_visible(timeout=20_000)
        [alert] = alerts(srv, tokens["admin"])
        item = sup.locator(f"#cb-alert-{alert['id']}")
        expect(item).to_contain_text("Critical")
        expect(item).to_contain_text("Queue billing")
        expect(item).to_contain_text("waiting now is 4, above 2")
        banner = wall.locator(f"#cb-banner-{alert['id']}")
        expect(banner).to_be_visible(timeout=20_000)
        # the list sits above the queues, which stay above the fold
        queues = sup.locator("#table-queues").bounding_box()
        assert queues is not None and queues["y"] + 60 <= 900
        shot(sup, "alerts-sup")

        box = button.bounding_box()
        assert box is not None
        sup.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        said = item.locator(".cb-alert-ackd")
        expect(said).to_contain_text("Acknowledged by Anna Petrova at ", timeout=10_000)
        [acked] = alerts(srv, tokens["admin"])
        assert acked["acknowledged_by"] == "Anna Petrova"
        at = datetime.fromisoformat(acked["acknowledged_at"].replace("Z", "+00:00"))
        assert abs(at - datetime.now(UTC)) < timedelta(seconds=30)
        when = at.astimezone(UTC).strftime("%H:%M")  # the center's time (UTC here)
        expect(said).to_have_text(f"Acknowledged by Anna Petrova at {when}")
        expect(item.locator("button")).to_have_count(0)

        # the wall: the alert stays (the queue is still out), calm, and says who took it
        expect(banner).to_contain_text(f"✓ Acknowledged by Anna Petrova at {when}", timeout=3_000)
        assert "cb-alert-acked" in str(banner.get_attribute("class"))
        banner_class = wall.locator("#wall-alerts .cb-alert-banner").get_attribute("class")
        assert "cb-alert-calm" in str(banner_class)
        assert wall.evaluate(
            "getComputedStyle(document.querySelector('#wall-alerts .cb-alert-line')).animationName"
        ) in ("none", "")
        shot(wall, "alerts-wall-acknowledged")

        # from the server, not only from the page that clicked: a new /sup says the same
        sup.reload()
        expect(sup.locator(f"#cb-alert-{alert['id']} .cb-alert-ackd")).to_have_text(
            f"Acknowledged by Anna Petrova at {when}", timeout=20_000
        )
        shot(sup, "alerts-sup-acknowledged")
    finally:
        wall.close()
        sup.close()


def _wrap_up(agent: str, seconds_ago: float) -> dict[str, Any]:
    return {
        "id": f"wrap-{agent}",
        "ts": (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat(),
        "type": "agent.state",
        "agent": agent,
        "state": "wrap_up",
        "queues": ["billing"],
    }


def test_an_agent_sees_their_own_alert_and_nobody_elses(
    served: tuple[Server, dict[str, str]], browser: Any
) -> None:
    srv, tokens = served
    # a1 (north) and a3 (south) both in wrap-up for over three minutes
    srv.post(tokens["ingest"], [_wrap_up("a1", 200), _wrap_up("a3", 260)])
    deadline = time.monotonic() + 20
    while len(alerts(srv, tokens["admin"])) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # no screen is open yet: the server's own runner evaluates
    assert {a["scope"] for a in alerts(srv, tokens["admin"])} == {"agent:a1", "agent:a3"}

    page = browser.new_page(viewport={"width": 360, "height": 480})
    try:
        page.goto(f"{srv.base}/agent/a1?token={tokens['a1']}")
        mine = page.locator("#agent-alerts .cb-alert-item")
        expect(mine).to_have_count(1, timeout=20_000)
        # 200 s in wrap-up: 3 whole minutes (4 if this machine is slow to get here)
        expect(mine).to_have_text(re.compile(r"^InfoWrap-up running for [34] min$"))
        assert page.evaluate("callboard.page.topics") == ["agent:a1", "feed", "alerts:agent:a1"]
        assert page.locator("#agent-alerts button").count() == 0  # an agent does not acknowledge
        assert page.evaluate("document.documentElement.scrollHeight") <= 480
        assert "a3" not in page.locator("#screen").inner_text()
        shot(page, "alerts-agent")
        # the agent's token cannot follow another agent's alerts, nor their team's
        for topic in ("alerts:agent:a3", "alerts:team:north"):
            refused = page.evaluate(
                """(topic) => new Promise((done) => {
                  const url = 'ws://' + location.host + '/api/v1/live?topics=' + topic;
                  const ws = new WebSocket(url);
                  ws.onclose = (e) => done(e.code);
                })""",
                topic,
            )
            assert refused == 4403, topic
    finally:
        page.close()

    # a1's supervisor, on a1's widget: the same alert, which they may acknowledge
    page = browser.new_page(viewport={"width": 360, "height": 480})
    try:
        page.goto(f"{srv.base}/agent/a1?token={tokens['anna']}")
        expect(page.locator("#agent-alerts .cb-alert-item")).to_have_count(1, timeout=20_000)
        expect(page.locator("#agent-alerts button.cb-alert-ack")).to_be_visible()
    finally:
        page.close()

    # on /sup, north's supervisor has a1's and not a3's; the wall has neither
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(f"{srv.base}/sup?token={tokens['anna']}")
        listed = page.locator("#panel-alerts .cb-alert-item")
        expect(listed).to_have_count(1, timeout=20_000)
        expect(listed).to_contain_text("Agent a1")
        page.goto(f"{srv.base}/wall?token={tokens['wallboard']}")
        expect(page.locator("#freshness")).to_have_class("fresh live", timeout=20_000)
        page.wait_for_timeout(1000)
        assert page.locator("#wall-alerts").inner_html() == ""
    finally:
        page.close()
