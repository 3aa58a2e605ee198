"""Every word the screens show is in every language's catalogue, with the same parameters,
and no screen script writes words of its own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.i18n import CATALOGUES, LANGS

ROOT = Path(__file__).resolve().parents[2]


def _screens(lang: str) -> dict[str, str]:
    return dict(json.loads((CATALOGUES / lang / "screens.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_every_screen_word_is_translated_with_its_parameters(lang: str) -> None:
    en, other = _screens("en"), _screens(lang)
    assert set(other) == set(en)
    for key, text in en.items():
        wanted = set(re.findall(r"\{(\w+)\}", text))
        assert set(re.findall(r"\{(\w+)\}", other[key])) == wanted, (lang, key)


def test_every_key_the_scripts_and_views_use_is_in_the_catalogue() -> None:
    en = _screens("en")
    used: set[str] = set()
    sources = list((ROOT / "dashboard" / "assets").glob("*.js"))
    sources += list((ROOT / "app" / "screens").glob("*.py"))
    for path in sources:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"[\"']((?:wall|agent|sup|common|flag)\.[a-z0-9_.]+)[\"']", text))
    # keys built at run time: states, outcomes, peers, windows, flags, levels
    prefixes = (
        "common.state.",
        "common.level.",
        "common.window.",
        "sup.outcome.",
        "sup.ended_by.",
        "sup.event.",
        "agent.you_are.",
        "flag.",
        "agent.persp.",
    )
    missing = {
        k for k in used if k not in en and not k.endswith(".") and not k.startswith(prefixes)
    }
    assert missing == set()
    from app.scorecard.scoring import DEFAULT_CARD  # noqa: F401  (flags come from here)

    for code in (
        "aht_s_but_fcr",
        "aht_s_but_csat",
        "calls_per_hour_but_qa_score",
        "aht_s_weak_below_target",
        "short_call_rate",
        "agent_hangup_rate",
        "few_contacts",
    ):
        assert f"flag.{code}" in en


def test_csv_cells_are_written_as_the_screen_shows_them() -> None:
    from app.screens.words import csv_header, csv_value

    tz = "Europe/Berlin"
    assert csv_header("queued_at", tz) == "queued_at (Europe/Berlin)"
    assert csv_header("agent", tz) == "agent"
    # times in the screen's zone (winter: UTC+1), to the second
    assert csv_value("queued_at", "2026-12-07T09:15:42.123456+00:00", tz) == "2026-12-07 10:15:42"
    # the float's binary tail goes; shares to the whole per cent, seconds whole
    assert csv_value("aht_s", 216.40599999999998, tz) == 216
    assert csv_value("service_level", 0.8372727, tz) == 0.84
    assert csv_value("score", 71.666666, tz) == 71.67
    assert csv_value("answered", 12.0, tz) == 12
    assert csv_value("customer", "+4930", tz) == "+4930"
    assert csv_value("nps", float("nan"), tz) is None


def test_every_state_and_event_a_screen_says_has_its_words() -> None:
    """Keys made at run time: the agent's sentence per state ("you are in wrap-up"), a
    contact's events in words ("entered the queue", never call.queued)."""
    from ingest.contract import EVENT_TYPES

    en = _screens("en")
    for state in ("available", "on_call", "wrap_up", "away", "logged_out", "none"):
        assert f"agent.you_are.{state}" in en
    for kind in EVENT_TYPES:
        assert f"sup.event.{kind}" in en
    from app.screens.service import TIMELINE_DETAILS

    for name in TIMELINE_DETAILS:
        assert f"sup.event.detail.{name}" in en
