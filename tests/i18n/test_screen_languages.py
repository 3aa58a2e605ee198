"""Each screen in each language at each of its sizes, in real Chromium against a real server:
the page speaks the language asked for (its words, not English and never a raw key), and no
text is cut or pushed off the screen (Chinese labels are short, Russian ones long). Every
screen carries active alerts while it is looked at (the wall's banner, the supervisor's list,
the agent's own line), since those are the longest sentences a screen shows.
Screenshots land in the screenshots folder (tests/browser.py), under i18n/."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.i18n import LANGS, t
from tests.i18n.overflow import overflows

pytest.importorskip("app.screens", reason="the screens' view model is not in this tree yet")

from tests.browser import SHOTS as ARTIFACTS
from tests.browser import chinese_font, require_chinese_font
from tests.e2e.conftest import Server

SHOTS = ARTIFACTS / "i18n"
WALL_SIZES = {
    "16x9": (1920, 1080),
    "16x10": (1920, 1200),
    "5x4": (1280, 1024),
    "4x3": (1024, 768),
    "9x16": (1080, 1920),
}
AGENT_SIZES = {"360x480": (360, 480)}
SUP_SIZES = {"1440x900": (1440, 900)}
# the teams of tests/conftest.py::LIVE_TEAMS; a board configured in Russian (its language
# without ?lang=); a staleness limit this busy machine does not reach while it resizes pages;
# alerts that the floor below raises at once: two on the wall (a critical backlog and a
# service level in long words), and north's agents' own (a1 on a long call, a2 in wrap-up)
I18N_CONFIG = """
[teams.north]
agents = ["a1", "a2"]
[teams.south]
agents = ["a3"]

[queues.billing]
targets = { service_level = 0.8 }
[queues.sales]
[queues.support]
[queues.claims]

[[alerts]]
name = "billing backlog"
scope = "queue:billing"
metric = "waiting_now"
above = 0
severity = "critical"

[[alerts]]
name = "sales service level"
scope = "queue:sales"
metric = "service_level"
below = 0.99
severity = "warning"

[[alerts]]
name = "long call"
scope = "team:north"
each_agent = true
metric = "on_call_s"
above = 30
severity = "info"

[[alerts]]
name = "long wrap-up"
scope = "team:north"
each_agent = true
metric = "wrap_up_s"
above = 30
severity = "warning"

[screens]
stale_after_s = 60

[wallboards.floor2]
title = "Floor 2"
queues = ["billing", "sales", "support", "claims"]
rotation_s = 300

[wallboards.moscow]
title = "Москва"
queues = ["billing", "sales", "support", "claims"]
rotation_s = 300
lang = "ru"
"""
KEY = re.compile(r"\b(?:wall|agent|sup|common|flag|metric|state|reason|term|alert)\.[a-z_.]+\b")
QUEUES = ("billing", "sales", "support", "claims")


def _at(seconds_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def floor() -> list[dict[str, Any]]:
    """Four queues over the last 25 minutes; a1 cuts calls short and hangs up (so their widget
    carries several notes), a2 in wrap-up, a3 away at lunch, callers waiting everywhere."""
    ev: list[dict[str, Any]] = [
        {
            "id": f"s-{a}",
            "ts": _at(1500),
            "type": "agent.state",
            "agent": a,
            "state": "available",
            "queues": list(QUEUES),
        }
        for a in ("a1", "a2", "a3")
    ]
    n = 0
    for k, q in enumerate(QUEUES):
        for j in range(5):
            n += 1
            cid, start = f"c{n}", 1400 - j * 200 - k * 20
            ev.append(
                {
                    "id": f"{cid}q",
                    "ts": _at(start),
                    "type": "call.queued",
                    "call_id": cid,
                    "queue": q,
                    "customer": f"k{n}",
                }
            )
            if (j + k) % 4 == 3:
                ev.append(
                    {
                        "id": f"{cid}x",
                        "ts": _at(start - 45),
                        "type": "call.abandoned",
                        "call_id": cid,
                        "queue": q,
                    }
                )
                continue
            agent = "a1" if j % 2 == 0 else "a2"
            talk = 6 if agent == "a1" else 180
            wait = 10 + 12 * ((j + k) % 3)
            ev += [
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
                    "ts": _at(start - wait - talk),
                    "type": "call.ended",
                    "call_id": cid,
                    "queue": q,
                    "agent": agent,
                    "ended_by": "agent" if agent == "a1" else "customer",
                },
                {
                    "id": f"{cid}w",
                    "ts": _at(start - wait - talk - 20),
                    "type": "call.wrapped",
                    "call_id": cid,
                    "agent": agent,
                },
            ]
    ev += [
        {
            "id": "on-a1",
            "ts": _at(100),
            "type": "call.queued",
            "call_id": "live1",
            "queue": "billing",
            "customer": "k99",
        },
        {
            "id": "on-a1a",
            "ts": _at(90),
            "type": "call.answered",
            "call_id": "live1",
            "queue": "billing",
            "agent": "a1",
        },
        {
            "id": "wu-a2",
            "ts": _at(60),
            "type": "agent.state",
            "agent": "a2",
            "state": "wrap_up",
            "queues": list(QUEUES),
        },
        {
            "id": "aw-a3",
            "ts": _at(200),
            "type": "agent.state",
            "agent": "a3",
            "state": "away",
            "reason": "lunch",
            "queues": list(QUEUES),
        },
    ]
    ev += [
        {
            "id": f"wq{k}",
            "ts": _at(30 + 7 * k),
            "type": "call.queued",
            "call_id": f"wq{k}",
            "queue": q,
        }
        for k, q in enumerate(QUEUES)
    ]
    return ev


def _ready(page: Any, alerts: str | None = None) -> None:
    # the figures have come (before them the mark says "connecting": on a loaded machine a
    # second was not always enough)
    page.locator("#freshness.fresh.live").first.wait_for(timeout=30_000)
    if alerts:  # the alerts the floor raised, on the page
        page.locator(alerts).first.wait_for(timeout=30_000)
    time.sleep(1.0)  # one more frame, so every tile has its figures


def _speaks(page: Any, lang: str, keys: tuple[str, ...]) -> list[str]:
    """What is wrong with the language of the page: its html lang, words missing, raw keys."""
    wrong = []
    shown = page.evaluate("document.documentElement.lang")
    if shown != lang:
        wrong.append(f"<html lang={shown!r}>, wanted {lang!r}")
    text = page.locator("body").inner_text()
    for key in keys:
        word = t(lang, key)
        if word.casefold() not in text.casefold():  # CSS may show it in capitals
            wrong.append(f"{key} ({word!r}) is not on the page")
    wrong += [f"a raw key on the page: {k}" for k in sorted(set(KEY.findall(text)))]
    return wrong


def _render(
    page: Any,
    url: str,
    lang: str,
    sizes: dict[str, tuple[int, int]],
    keys: tuple[str, ...],
    name: str,
    *,
    scroll_y: bool = False,
    alerts: tuple[str, int, tuple[str, ...]] | None = None,
) -> list[str]:
    """`alerts`: the selector of one shown alert, how many the screen must show, and the
    scopes ("queue:billing") whose words must be on it."""
    page.goto(url)
    _ready(page, alerts[0] if alerts else None)
    problems = [f"{name} {lang}: {p}" for p in _speaks(page, lang, keys)]
    if alerts:
        selector, count, scopes = alerts
        shown = page.locator(selector).all_inner_texts()
        if len(shown) != count:
            problems.append(f"{name} {lang}: {len(shown)} alerts shown, wanted {count}: {shown}")
        for scope in scopes:
            kind, _, who = scope.partition(":")
            where = t(lang, f"alert.scope.{kind}", name=who)
            if not any(where in s for s in shown):
                problems.append(f"{name} {lang}: no alert says {where!r}: {shown}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (w, h) in sizes.items():
        page.set_viewport_size({"width": w, "height": h})
        time.sleep(0.6)
        page.screenshot(path=str(SHOTS / f"{name}-{lang}-{size}.png"))
        problems += [f"{name} {lang} {size}: {o}" for o in overflows(page, scroll_y=scroll_y)]
    return problems


def test_a_chinese_font_is_installed() -> None:
    """Without one, Chinese renders as empty boxes of the wrong width and nothing here means
    anything. `make test` installs Debian's fonts-noto-cjk where it may; where it cannot, this
    and the language tests skip, saying so."""
    require_chinese_font()
    assert chinese_font()


@pytest.fixture
def floor_server(live_db: tuple[str, dict[str, str]], tmp_path: Path) -> Any:
    url, tokens = live_db
    srv = Server(url, tmp_path, config=I18N_CONFIG)
    srv.start()
    try:
        srv.post(tokens["ingest"], floor())
        yield srv, tokens
    finally:
        srv.stop()


def test_the_wallboard_in_each_language_fits_every_screen(
    floor_server: tuple[Server, dict[str, str]], browser: Any, chinese_font: None
) -> None:
    srv, tokens = floor_server
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    problems: list[str] = []
    # a3 is away at lunch: the reason in the floor's words too
    keys = ("wall.waiting", "wall.longest_wait", "wall.sl_today", "wall.asa", "reason.lunch")
    keys += ("metric.waiting_now", "metric.service_level")  # in the banner's sentences
    banner = ("#wall-alerts .cb-alert-line", 2, ("queue:billing", "queue:sales"))
    for lang in LANGS:
        url = f"{srv.base}/wall/floor2?token={tokens['wallboard']}&lang={lang}"
        problems += _render(page, url, lang, WALL_SIZES, keys, "wall", alerts=banner)
    # the board set to Russian in callboard.toml speaks Russian without ?lang=
    page.goto(f"{srv.base}/wall/moscow?token={tokens['wallboard']}")
    _ready(page)
    problems += [f"wall/moscow: {p}" for p in _speaks(page, "ru", keys)]
    page.close()
    assert not problems, "\n".join(problems)


def test_the_agent_widget_with_notes_fits_360x480_in_each_language(
    floor_server: tuple[Server, dict[str, str]], browser: Any, chinese_font: None
) -> None:
    srv, tokens = floor_server
    page = browser.new_page(viewport={"width": 360, "height": 480})
    problems: list[str] = []
    keys = ("agent.card", "agent.kpi.handled", "alert.severity.info")
    own = ("#agent-alerts .cb-alert-item", 1, ())  # a1's long call; not a2's wrap-up
    for lang in LANGS:
        url = f"{srv.base}/agent/a1?token={tokens['a1']}&lang={lang}"
        problems += _render(page, url, lang, AGENT_SIZES, keys, "agent", alerts=own)
        # the notes, opened by a click: every note in words, none cut
        page.locator("#agent-flags-line").click()
        page.locator("#agent-flags li").first.wait_for(timeout=10_000)
        notes = page.locator("#agent-flags li").all_inner_texts()
        if len(notes) < 2:
            problems.append(f"agent {lang}: {len(notes)} notes, wanted the floor's 2 or more")
        page.screenshot(path=str(SHOTS / f"agent-{lang}-notes.png"))
        problems += [f"agent {lang} notes: {p}" for p in _speaks(page, lang, ())]
        problems += [f"agent {lang} notes: {o}" for o in overflows(page, scroll_y=True)]
    page.close()
    assert not problems, "\n".join(problems)


def test_the_supervisor_screen_in_each_language_fits_1440x900(
    floor_server: tuple[Server, dict[str, str]], browser: Any, chinese_font: None
) -> None:
    srv, tokens = floor_server
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    problems: list[str] = []
    keys = ("sup.queues", "sup.agents", "sup.col.queue", "alert.title", "alert.acknowledge")
    # the floor's two and north's agents' two, each with its Acknowledge
    listed = ("#panel-alerts .cb-alert-item", 4, ("queue:billing", "agent:a1", "agent:a2"))
    for lang in LANGS:
        url = f"{srv.base}/sup?token={tokens['north']}&lang={lang}"
        problems += _render(page, url, lang, SUP_SIZES, keys, "sup", scroll_y=True, alerts=listed)
    page.close()
    assert not problems, "\n".join(problems)


def test_the_browser_language_decides_without_lang(
    floor_server: tuple[Server, dict[str, str]], browser: Any, chinese_font: None
) -> None:
    srv, tokens = floor_server
    cases = (
        ("zh-TW,zh;q=0.9", None, "zh-TW"),
        ("fr-FR,ru;q=0.8,en;q=0.5", None, "ru"),  # by q-value, past a language we lack
        ("en;q=0.3,ru-RU;q=0.7", None, "ru"),
        (None, "zh-HK", "zh-TW"),  # a browser set to Hong Kong reads Traditional
        (None, "zh-SG", "zh-CN"),
    )
    wrong = []
    for header, locale, lang in cases:
        ctx = browser.new_context(
            viewport={"width": 1920, "height": 1080},
            locale=locale,
            extra_http_headers={"Accept-Language": header} if header else None,
        )
        page = ctx.new_page()
        page.goto(f"{srv.base}/wall?token={tokens['wallboard']}")
        _ready(page)
        wrong += [f"{header or locale}: {p}" for p in _speaks(page, lang, ("wall.waiting",))]
        ctx.close()
    assert not wrong, "\n".join(wrong)
