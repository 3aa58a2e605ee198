"""The shipped catalogues are complete, and the check finds each kind of fault it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.i18n import LANGS, catalogue, own, t
from app.i18n.check import check, required_keys
from app.metrics.registry import METRICS


def test_every_catalogue_is_complete() -> None:
    problems = check()
    assert not problems, "\n" + "\n".join(map(str, problems))


def test_every_metric_has_a_name_and_a_short_label_in_every_language() -> None:
    for lang in LANGS:
        for m in METRICS:
            name, short = t(lang, f"metric.{m.name}"), t(lang, f"metric.{m.name}.short")
            assert name != f"metric.{m.name}" and short != f"metric.{m.name}.short"
            assert len(short) <= len(name) or len(short) <= 16, (lang, m.name, short)


def test_the_floors_words_are_used() -> None:
    # terms floors use (mainland: 座席, Taiwan: 專員 and 佇列, Russian: оператор)
    assert t("zh-CN", "term.agent") == "座席"
    assert t("zh-TW", "term.agent") == "專員"
    assert t("zh-TW", "term.queue") == "佇列"
    assert t("zh-TW", "state.available") == "就緒"
    assert t("zh-CN", "metric.service_level") == "服务水平"
    assert t("ru", "metric.abandoned") == "Потерянные вызовы"
    assert t("ru", "state.wrap_up") == "Постобработка"


def test_zh_tw_is_its_own_catalogue_not_a_copy() -> None:
    cn, tw = own("zh-CN"), own("zh-TW")
    same = [k for k in cn if cn[k] == tw.get(k) and any("\u4e00" <= c <= "\u9fff" for c in cn[k])]
    assert len(same) < len(cn) // 3, same


def test_russian_plurals_follow_the_russian_rule() -> None:
    assert t("ru", "count.agents", count=1) == "1 оператор"
    assert t("ru", "count.agents", count=3) == "3 оператора"
    assert t("ru", "count.agents", count=5) == "5 операторов"
    assert t("ru", "count.agents", count=21) == "21 оператор"
    assert t("en", "count.agents", count=1) == "1 agent"
    assert t("en", "count.agents", count=1234) == "1,234 agents"
    assert t("zh-CN", "count.agents", count=2) == "2 名座席"


def test_t_falls_back_and_never_fails_a_page() -> None:
    assert t("fr", "term.queue") == "Queue"  # unknown language: English
    assert t("ru", "no.such.key") == "no.such.key"  # unknown key: visible, named by the check
    assert t("en", "scorecard.capped_by") == "Capped by {metric}"
    assert t("en", "window.last_minutes") == "Last {minutes} min"
    assert t("en", "window.last_minutes", other=1) == "Last {minutes} min"  # a missing param
    assert t("zh-CN", "window.last_minutes", minutes=30) == "近30分钟"


def _write(root: Path, lang: str, name: str, data: dict[str, str] | str) -> None:
    (root / lang).mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    (root / lang / name).write_text(text, encoding="utf-8")


def _found(problems: list[object]) -> set[tuple[str, str]]:
    return {(p.lang, p.key) for p in problems}  # type: ignore[attr-defined]


def test_the_check_finds_each_kind_of_fault(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "en",
        "a.json",
        {
            "hello": "Hello {name}",
            "bye": "Bye",
            "n.one": "{count} agent",
            "n.other": "{count} agents",
        },
    )
    _write(tmp_path, "en", "b.json", {"only.here": "Only here"})
    _write(tmp_path, "zh-CN", "a.json", {"hello": "你好", "bye": "再见", "n.other": "{count} 名"})
    _write(tmp_path, "zh-CN", "b.json", {"only.here": "  "})
    _write(
        tmp_path,
        "zh-TW",
        "a.json",
        {
            "hello": "{name} 你好",
            "bye": "再見",
            "n.other": "{count} 位",
            "stale": "舊",
        },
    )
    _write(tmp_path, "zh-TW", "b.json", {"only.here": "只有", "bye": "again"})
    _write(
        tmp_path,
        "ru",
        "a.json",
        {
            "hello": "Привет {nam}",
            "bye": "Пока {",
            "n.one": "{count} оператор",
            "n.other": "{count}",
        },
    )
    _write(tmp_path, "ru", "b.json", '{"only.here": "a", "only.here": "b"}')
    problems = check(tmp_path, required=["bye", "needed.by.code"])
    messages = {(p.lang, p.key): p.message for p in problems}
    assert _found(problems) == {
        ("en", "needed.by.code"),  # named by the code, no English text
        ("zh-CN", "hello"),  # lacks {name}
        ("zh-CN", "only.here"),  # empty text
        ("zh-TW", "stale"),  # not an English key
        ("zh-TW", "bye"),  # in two files
        ("ru", "hello"),  # {nam} instead of {name}
        ("ru", "bye"),  # braces do not parse
        ("ru", "b.json"),  # a duplicated key makes the file unreadable
        ("ru", "only.here"),  # ... so its key is missing
        ("ru", "n.few"),  # Russian needs few and many
        ("ru", "n.many"),
    }, "\n".join(map(str, problems))
    assert "lacks {name}" in messages[("zh-CN", "hello")]
    assert "{nam}" in messages[("ru", "hello")]
    assert "appears twice" in messages[("ru", "b.json")]


def test_required_keys_cover_the_registry_states_and_perspectives() -> None:
    keys = set(required_keys())
    assert {"metric.aht_s", "metric.aht_s.short", "state.wrap_up", "reason.lunch"} <= keys
    assert "perspective.employee.help" in keys
    assert keys <= set(catalogue("en"))


@pytest.mark.parametrize("args", [["check"], ["check", "--lang", "ru"]])
def test_python_m_app_i18n_check_passes_on_the_shipped_catalogues(args: list[str]) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "app.i18n", *args], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "complete" in run.stdout


def test_state_words_with_reasons_known_and_free() -> None:
    from app.i18n import state_words

    assert state_words("en", "on_call") == "On a call"
    assert state_words("zh-CN", "away", "lunch") == "示忙 · 午餐"
    assert state_words("zh-TW", "away", "Training") == "未就緒 · 訓練"
    assert state_words("ru", "away", None) == "Не готов · Без причины"
    assert state_words("ru", "away", "визит к врачу") == "Не готов · визит к врачу"
    assert state_words("en", "ringing") == "ringing"  # a state we have no word for, as sent
    assert state_words("ru", None) == "Нет данных"
