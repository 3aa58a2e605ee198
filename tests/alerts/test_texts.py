"""Alert texts: every language has every key with the same placeholders; notifications are
rendered in the target's language; the screens draw them with the page's catalogue."""

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
        text("en", "raised", ALERT) == "Queue billing · billing backlog: waiting now is 7, above 2"
    )
    assert subject("en", "raised", ALERT) == "[Critical] billing backlog"
    assert subject("ru", "cleared", ALERT) == "[Снято] billing backlog"
    assert text("ru", "raised", ALERT).startswith("Очередь billing · billing backlog:")
    assert subject("zh-CN", "raised", ALERT) == "[严重] billing backlog"
    agent = {
        **ALERT,
        "scope": "agent:a1",
        "code": "break_ending",
        "params": {"minutes": 2, "unit": "seconds", "value": 100},
    }
    assert text("en", "raised", agent) == "Agent a1 · billing backlog: Break ends in 2 min"


def test_a_rule_is_named_in_the_target_s_language_where_it_has_a_name() -> None:
    named = {**ALERT, "names": {"zh-CN": "账务积压", "en": "Billing backlog"}}
    assert subject("zh-CN", "raised", named) == "[严重] 账务积压"
    assert text("zh-CN", "raised", named).startswith("队列 billing · 账务积压：")
    assert subject("ru", "raised", named) == "[Критично] Billing backlog"  # English, then own
    assert subject("ru", "raised", ALERT) == "[Критично] billing backlog"


def test_numbers_as_a_floor_reads_them() -> None:
    assert number(0.825, "ratio") == "82.5%"
    assert number(0.8, "ratio") == "80%"
    assert number(125, "seconds") == "2:05"
    assert number(42, "seconds") == "42 sec"
    assert number(7.0, "count") == "7"
    assert number(None, "count") == "-"


def test_the_screens_draw_alerts_with_the_page_s_catalogue_and_formatter() -> None:
    """One catalogue, one way of writing values: alerts.js keeps no words or number formats of
    its own (it had an English copy of the catalogue and a formatter beside cb.fmt)."""
    js = (ROOT / "dashboard" / "assets" / "alerts.js").read_text(encoding="utf-8")
    assert "const EN" not in js and "Intl.NumberFormat" not in js
    for key, words in EN.items():
        assert f'"{words}"' not in js, key
    assert "cb.fmt(" in js and "cb.w(" in js
