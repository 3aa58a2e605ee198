"""Which language a screen speaks: ?lang=, then the wallboard's setting, then the browser."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from app.i18n.negotiate import (
    Lang,
    check_lang,
    negotiate,
    parse_accept_language,
    request_lang,
    supported,
)


@pytest.mark.parametrize(
    ("tag", "lang"),
    [
        ("en", "en"),
        ("en-US", "en"),
        ("EN_gb", "en"),
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("ru-UA", "ru"),
        ("ru_KZ", "ru"),
        ("zh", "zh-CN"),
        ("zh-CN", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("zh-SG", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("zh-Hans-HK", "zh-CN"),
        ("zh-TW", "zh-TW"),
        ("zh-Hant", "zh-TW"),
        ("zh-HK", "zh-TW"),
        ("zh-MO", "zh-TW"),
        ("zh-Hant-TW", "zh-TW"),
        ("zh_tw", "zh-TW"),
        ("ZH-hant-cn", "zh-TW"),
        ("fr", None),
        ("", None),
        (None, None),
        ("*", None),
        ("-", None),
        ("english", None),
    ],
)
def test_tags_mean_languages(tag: str | None, lang: str | None) -> None:
    assert supported(tag) == lang


def test_q_values_order_and_exclude() -> None:
    assert parse_accept_language("fr;q=0.9, ru;q=0.8, en;q=0.1") == ["fr", "ru", "en"]
    assert parse_accept_language("en;q=0.5, zh-TW") == ["zh-TW", "en"]  # default q=1
    assert parse_accept_language("ru;q=0, en") == ["en"]  # q=0: not acceptable
    assert parse_accept_language("ru;q=abc, en;q=2, zh;Q=0.3") == ["zh"]  # malformed left out
    assert parse_accept_language("de, ru, en") == ["de", "ru", "en"]  # ties keep order
    assert parse_accept_language(" , ;q=1") == []
    assert parse_accept_language(None) == []


def test_negotiate_order() -> None:
    header = "fr-FR,fr;q=0.9,zh-HK;q=0.8,en;q=0.7"
    assert negotiate("ru", "zh-CN", header) == "ru"  # ?lang= first
    assert negotiate(None, "zh-CN", header) == "zh-CN"  # then the wallboard's setting
    assert negotiate(None, None, header) == "zh-TW"  # then the browser (fr is not offered)
    assert negotiate("xx", None, header) == "zh-TW"  # an unknown ?lang= falls through
    assert negotiate("", "", "") == "en"
    assert negotiate(None, None, "de, ja;q=0.5") == "en"
    assert negotiate(None, None, "en-US,en;q=0.9,ru;q=0.8") == "en"
    assert negotiate(None, None, "ru;q=0.8, zh-Hans;q=0.9") == "zh-CN"
    # a site-wide default comes after the browser, before English
    assert negotiate(None, None, "de", default="ru") == "ru"
    assert negotiate(None, None, "zh-TW", default="ru") == "zh-TW"
    assert negotiate(None, None, None, default="nonsense") == "en"


def test_check_lang_normalises_or_names_the_choices() -> None:
    assert check_lang("zh_tw") == "zh-TW"
    with pytest.raises(ValueError, match=r"unknown language 'de'.*en, zh-CN, zh-TW, ru"):
        check_lang("de")


def test_lang_as_a_config_field() -> None:
    class Board(BaseModel):
        lang: Lang | None = None

    assert Board.model_validate({"lang": "ZH-hant"}).lang == "zh-TW"
    assert Board.model_validate({}).lang is None
    with pytest.raises(ValidationError, match=r"unknown language 'de'"):
        Board.model_validate({"lang": "de"})


def test_request_lang_reads_the_query_and_the_header() -> None:
    app = FastAPI()

    @app.get("/x")
    def x(request: Request) -> dict[str, str]:
        return {"lang": request_lang(request, configured=None)}

    @app.get("/wall")
    def wall(request: Request) -> dict[str, str]:
        return {"lang": request_lang(request, configured="ru")}

    client = TestClient(app)
    assert client.get("/x?lang=zh-TW").json() == {"lang": "zh-TW"}
    assert client.get("/x", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json()["lang"] == (
        "zh-CN"
    )
    assert client.get("/wall", headers={"Accept-Language": "zh-CN"}).json()["lang"] == "ru"
    assert client.get("/wall?lang=en").json()["lang"] == "en"
    assert client.get("/x").json()["lang"] == "en"
