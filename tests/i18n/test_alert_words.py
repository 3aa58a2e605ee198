"""Notifications (webhooks, e-mail) in the language each target is set to: the alert's words,
the metric's name and its value as that language writes them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.alerts.config import EmailList, Webhook
from app.alerts.texts import subject, text

ALERT = {
    "code": "above",
    "name": "billing backlog",
    "metric": "abandon_rate",
    "scope": "queue:billing",
    "severity": "critical",
    "value": 0.125,
    "threshold": 0.1,
    "params": {"unit": "ratio"},
}


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "Queue billing · billing backlog: abandon rate is 12.5%, above 10%"),
        ("zh-CN", "队列 billing · billing backlog：放弃率为 12.5%，高于 10%"),
        ("zh-TW", "佇列 billing · billing backlog：放棄率為 12.5%，高於 10%"),
        (
            "ru",
            "Очередь billing · billing backlog: процент потерянных вызовов — 12,5\xa0%,"
            " выше порога 10\xa0%",
        ),
    ],
)
def test_an_alert_in_each_language(lang: str, words: str) -> None:
    assert text(lang, "raised", ALERT) == words


def test_seconds_and_subjects() -> None:
    wait = {
        **ALERT,
        "metric": "longest_wait_now_s",
        "value": 125,
        "threshold": 45,
        "params": {"unit": "seconds"},
    }
    assert text("ru", "raised", wait).endswith("максимальное ожидание — 2:05, выше порога 45 с")
    assert subject("zh-TW", "raised", ALERT) == "[嚴重] billing backlog"
    assert subject("ru", "cleared", ALERT) == "[Снято] billing backlog"


def test_a_targets_language_is_normalised_or_refused() -> None:
    assert Webhook(url="http://127.0.0.1/x", language="zh_tw").language == "zh-TW"
    assert EmailList(to=["a@b.c"], language="RU").language == "ru"
    with pytest.raises(ValidationError, match="unknown language 'de'"):
        Webhook(url="http://127.0.0.1/x", language="de")
