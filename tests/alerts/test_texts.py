"""Alert texts: every language has every key with the same placeholders; notifications are
rendered in the target's language; the screens' English fallback matches the catalogue."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.alerts.texts import number, subject, text
from app.i18n import CATALOGUES, LANGS

ROOT = Path(__file__).resolve().parents[2]
EN = json.loads((CATALOGUES / "en" / "alerts.json").read_text(encoding="utf-8"))
ALERT = {
    "name": "billing backlog",
    "severity": "critical",
    "scope": "queue:billing",
    "metric": "waiting_now",
    "value": 7,
    "threshold": 2,
    "code": "above",
    "params": {"value": 7, "threshold": 2, "unit": "count"},
}


def placeholders(s: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", s))


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_has_every_alert_key_with_its_placeholders(lang: str) -> None:
    own = json.loads((CATALOGUES / lang / "alerts.json").read_text(encoding="utf-8"))
    assert set(own) == set(EN)
    for key, words in own.items():
        assert placeholders(words) == placeholders(EN[key]), key


def test_notifications_in_the_targets_language() -> None:
    assert (
        text("en", "raised", ALERT) == "Queue billing: billing backlog: waiting now is 7, above 2"
    )
    assert subject("en", "raised", ALERT) == "[Critical] billing backlog"
    assert subject("ru", "cleared", ALERT) == "[Снято] billing backlog"
    assert text("ru", "raised", ALERT).startswith("Очередь billing: billing backlog:")
    assert subject("zh-CN", "raised", ALERT) == "[严重] billing backlog"
    agent = {
        **ALERT,
        "scope": "agent:a1",
        "code": "break_ending",
        "params": {"minutes": 2, "unit": "seconds", "value": 100},
    }
    assert text("en", "raised", agent) == "Agent a1: Break ends in 2 min"


def test_numbers_as_a_floor_reads_them() -> None:
    assert number(0.825, "ratio") == "82.5%"
    assert number(0.8, "ratio") == "80%"
    assert number(125, "seconds") == "2:05"
    assert number(42, "seconds") == "42 sec"
    assert number(7.0, "count") == "7"
    assert number(None, "count") == "-"


def test_the_screens_english_fallback_matches_the_catalogue() -> None:
    js = (ROOT / "dashboard" / "assets" / "alerts.js").read_text(encoding="utf-8")
    block = js[js.index("const EN = {") : js.index("};", js.index("const EN = {"))]
    pairs = dict(re.findall(r'"(alert\.[\w.]+)": "([^"]*)"', block))
    assert pairs, "no English fallback found in alerts.js"
    for key, words in pairs.items():
        assert EN.get(key) == words, key
