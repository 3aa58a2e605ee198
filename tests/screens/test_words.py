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
