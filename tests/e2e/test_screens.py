"""The three screens in a real browser (headless Chromium): events POSTed over HTTP show up
with the same figures as /api/v1/metrics; every screen fits its sizes; stale data greys the
whole screen, with the socket up or down; the supervisor drills down by real mouse clicks.
Screenshots land in artifacts/screens/ (and the README's in docs/screens/)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from playwright.sync_api import expect

from app.screens.words import fmt
from tests.conftest import libpq
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


def busy_floor() -> list[dict[str, Any]]:
    """Four queues, answered and abandoned calls over the last 40 minutes, agents away."""
    events: list[dict[str, Any]] = []
    queues = ["billing", "sales", "support", "claims"]
    for a in ("a1", "a2", "a3"):
        events.append(
            {
                "id": f"bs{a}",
                "ts": _at(2700),
                "type": "agent.state",
                "agent": a,
                "state": "available",
                "queues": queues,
            }
        )
    events.append(
        {
            "id": "bsaway",
            "ts": _at(200),
            "type": "agent.state",
            "agent": "a3",
            "state": "away",
            "reason": "lunch",
            "queues": queues,
        }
    )
    n = 0
    for k, q in enumerate(queues):
        for j in range(6):
            n += 1
            start = 2400 - j * 360 - k * 30
            cid = f"b{n}"
            events.append(
                {
                    "id": f"{cid}q",
                    "ts": _at(start),
                    "type": "call.queued",
                    "call_id": cid,
                    "queue": q,
                }
            )
            if (j + k) % 4 == 3:
                events.append(
                    {
                        "id": f"{cid}x",
                        "ts": _at(start - 40),
                        "type": "call.abandoned",
                        "call_id": cid,
                        "queue": q,
                    }
                )
                continue
            agent = ("a1", "a2")[j % 2]
            wait = 8 + 15 * ((j + k) % 3)
            events += [
                {
                    "id": f"{cid}a",
                    "ts": _at(start - wait),
                    "type": "call.answered",
                    "call_id": cid,
                    "queue": q,
                    "agent": agent,
                },
                {
                    "id": f"{cid}e",
                    "ts": _at(start - wait - 120),
                    "type": "call.ended",
                    "call_id": cid,
                    "queue": q,
                    "agent": agent,
                    "ended_by": "customer",
                },
                {
                    "id": f"{cid}w",
                    "ts": _at(start - wait - 150),
                    "type": "call.wrapped",
                    "call_id": cid,
                    "agent": agent,
                },
            ]
    for k, q in enumerate(queues):
        events.append(
            {
                "id": f"bw{k}",
                "ts": _at(25 + 10 * k),
                "type": "call.queued",
                "call_id": f"bw{k}",
                "queue": q,
            }
        )
    return events


def n(page: Any, selector: str) -> str:
    """The figure of a shown value (without its level glyph)."""
    return str(page.locator(f"{selector} .n").first.inner_text())


def fits(page: Any) -> list[str]:
    """What is cut: elements whose content overflows them, or that leave the viewport."""
    return list(
        page.evaluate(
            """() => {
              const out = [];
              const W = window.innerWidth, H = window.innerHeight;
              if (document.documentElement.scrollHeight > H + 1) out.push('page scrolls');
              const all = '.tile, .tile *, .wall-head, .wall-head *';
              for (const el of document.querySelectorAll(all)) {
                const r = el.getBoundingClientRect();
                if (r.width === 0 && r.height === 0) continue;
                if (r.bottom > H + 1 || r.right > W + 1)
                  out.push((el.id || el.className || el.tagName) + ' leaves the screen');
              }
              for (const el of document.querySelectorAll('.tile')) {
                if (el.scrollHeight > el.clientHeight + 1) out.push(el.id + ' overflows');
              }
              return out;
            }"""
        )
    )


def test_pages_need_a_token_of_the_right_role(server: tuple[Server, dict[str, str]]) -> None:
    srv, tokens = server
    assert httpx.get(f"{srv.base}/wall").status_code == 401
    assert httpx.get(f"{srv.base}/sup?token={tokens['wallboard']}").status_code == 403
    assert httpx.get(f"{srv.base}/agent/a2?token={tokens['a1']}").status_code == 403
    assert httpx.get(f"{srv.base}/agent/a1?token={tokens['a1']}").status_code == 200
    assert httpx.get(f"{srv.base}/wall/floor2?token={tokens['wallboard']}").status_code == 200
    assert httpx.get(f"{srv.base}/wall/nowhere?token={tokens['wallboard']}").status_code == 404
    assert httpx.get(f"{srv.base}/api/v1/nothing-here").status_code == 404


SIZES = {
    "16x9": (1920, 1080),
    "16x10": (1920, 1200),
    "5x4": (1280, 1024),
    "4x3": (1024, 768),
    "9x16": (1080, 1920),
}


def test_the_wallboard_shows_the_api_figures_and_fits_every_screen(
    server: tuple[Server, dict[str, str]], browser: Any
) -> None:
    srv, tokens = server
    srv.post(tokens["ingest"], busy_floor())
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{srv.base}/wall/floor2?token={tokens['wallboard']}")
    expect(page.locator("#freshness")).to_have_class("fresh live", timeout=20_000)
    expect(page.locator("#tile-claims")).to_be_visible(timeout=10_000)
    api = httpx.get(
        f"{srv.base}/api/v1/metrics?by=queue&window=today",
        headers={"Authorization": f"Bearer {tokens['admin']}"},
    ).json()
    for row in api["rows"]:
        q = row["key"]
        assert n(page, f"#sl-{q}") == fmt(row["service_level"], "percent"), q
        assert n(page, f"#asa-{q}") == fmt(row["asa_s"], "seconds"), q
        assert n(page, f"#abandon-{q}") == fmt(row["abandon_rate"], "percent"), q
        assert n(page, f"#waiting-{q}") == fmt(row["waiting_now"], "count"), q
    # non-colour cues: every figure with a level carries a glyph
    assert page.locator("#tile-billing .glyph").count() >= 4
    expect(page.locator("#agents-billing")).to_contain_text("lunch")
    for name, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        time.sleep(0.5)
        assert fits(page) == [], name
        shot(page, f"wall-{name}", docs=name == "16x9")
    page.close()


def _freeze_the_tick(url: str) -> psycopg.Connection[Any]:
    """A transaction that holds the tables the live tick reads: the tick hangs (as it would
    on a stuck query), the server and its socket stay up."""
    conn = psycopg.connect(libpq(url))
    conn.execute("LOCK TABLE agent_states, contact_segments IN ACCESS EXCLUSIVE MODE")
    return conn


def test_stale_data_greys_the_screen_with_the_socket_up_and_down(
    server: tuple[Server, dict[str, str]], browser: Any, live_db: tuple[str, dict[str, str]]
) -> None:
    srv, tokens = server
    srv.post(tokens["ingest"], floor())
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{srv.base}/wall?token={tokens['wallboard']}")
    expect(page.locator("#waiting-billing .n")).to_have_text("3", timeout=20_000)
    expect(page.locator("#freshness")).to_have_class("fresh live")
    expect(page.locator("#stale-banner")).to_be_hidden()
    longest = n(page, "#longest-billing")
    time.sleep(2.2)
    assert n(page, "#longest-billing") != longest, "the longest wait ticks while live"

    # 1. the socket stays up (heartbeats keep coming) but no new figures are computed
    frozen = _freeze_the_tick(live_db[0])
    try:
        expect(page.locator("#stale-banner")).to_be_visible(timeout=20_000)
        expect(page.locator("#stale-banner")).to_contain_text("NOT LIVE")
        expect(page.locator("#stale-banner")).to_contain_text("sends no new figures")
        assert page.evaluate("document.body.classList.contains('stale')")
        stopped = n(page, "#longest-billing")
        time.sleep(2.2)
        assert n(page, "#longest-billing") == stopped, "timers stop on a stale screen"
        banner = page.locator("#stale-banner .big").bounding_box()
        assert banner is not None and banner["height"] >= 50  # readable from 5 m on a TV
        shot(page, "wall-stale-socket-up", docs=True)
    finally:
        frozen.rollback()
        frozen.close()
    expect(page.locator("#stale-banner")).to_be_hidden(timeout=20_000)

    # 2. the server goes away
    srv.stop()
    expect(page.locator("#stale-banner")).to_be_visible(timeout=20_000)
    expect(page.locator("#stale-banner")).to_contain_text("no connection")
    srv.start()  # same address: the board reconnects by itself, no keyboard
    expect(page.locator("#stale-banner")).to_be_hidden(timeout=30_000)
    expect(page.locator("#waiting-billing .n")).to_have_text("3", timeout=10_000)
    page.close()


def test_a_refused_token_says_what_to_do_and_keeps_trying(
    server: tuple[Server, dict[str, str]], browser: Any, live_db: tuple[str, dict[str, str]]
) -> None:
    srv, tokens = server
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{srv.base}/wall?token={tokens['wallboard']}")
    expect(page.locator("#freshness")).to_have_class("fresh live", timeout=20_000)
    with psycopg.connect(libpq(live_db[0])) as conn:
        conn.execute("UPDATE tokens SET revoked_at = now() WHERE role = 'wallboard'")
    srv.stop()
    srv.start()  # the screen reconnects with its (now revoked) token
    expect(page.locator("#stale-banner")).to_contain_text("refused", timeout=30_000)
    expect(page.locator("#stale-banner")).to_contain_text("callboard token create")
    shot(page, "wall-refused")
    with psycopg.connect(libpq(live_db[0])) as conn:
        conn.execute("UPDATE tokens SET revoked_at = NULL WHERE role = 'wallboard'")
    expect(page.locator("#stale-banner")).to_be_hidden(timeout=30_000)
    expect(page.locator("#freshness")).to_have_class("fresh live", timeout=20_000)
    page.close()
