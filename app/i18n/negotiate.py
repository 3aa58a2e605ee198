"""Which language a screen speaks: `?lang=`, else the wallboard's configured `lang`, else the
browser's Accept-Language (RFC 9110 q-values), else English.

Language tags are matched by their meaning, not their spelling: `zh-Hant`, `zh-TW`, `zh-HK`
and `zh-MO` are Traditional Chinese (our zh-TW catalogue); `zh`, `zh-Hans`, `zh-CN`, `zh-SG`
are Simplified (zh-CN); any `ru-*` is Russian, any `en-*` English. A script subtag wins over a
region (`zh-Hans-HK` is Simplified).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator
from starlette.requests import Request

from app.i18n import DEFAULT_LANG, LANGS

_TRADITIONAL = {"hant", "tw", "hk", "mo"}


def supported(tag: str | None) -> str | None:
    """The supported language a tag means (`zh_tw`, `ZH-Hant`, `ru-RU`...), or None."""
    if not tag:
        return None
    parts = [p for p in tag.strip().replace("_", "-").lower().split("-") if p]
    if not parts:
        return None
    primary, rest = parts[0], parts[1:]
    if primary in LANGS:  # a language of one variant: en, ru
        return primary
    if primary == "zh":
        scripts = [p for p in rest if len(p) == 4]
        if scripts:
            return "zh-TW" if scripts[0] == "hant" else "zh-CN"
        return "zh-TW" if any(p in _TRADITIONAL for p in rest) else "zh-CN"
    return None


def check_lang(tag: str) -> str:
    """A configured language, normalised (`zh_tw` -> `zh-TW`); a clear error for any other,
    for configuration validators (pydantic turns the ValueError into a positioned error)."""
    lang = supported(tag)
    if lang is None:
        raise ValueError(f"unknown language {tag!r}: choose one of {', '.join(LANGS)}")
    return lang


# A language setting in callboard.toml: `lang: Lang | None = None` normalises `zh_tw` to
# `zh-TW` and rejects a language callboard does not have, naming the choices.
Lang = Annotated[str, AfterValidator(check_lang)]


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (ties keep the header's order);
    tags with q=0 (not acceptable) and malformed entries are left out."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    # a browser sends a handful of tags: the first 50 are read, whatever the header's length
    for position, item in enumerate(header[:2048].split(",", 50)[:50]):
        tag, *params = (p.strip() for p in item.split(";"))
        if not tag:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if not 0 < q <= 1:
            continue
        weighted.append((-q, position, tag))
    return [tag for _, _, tag in sorted(weighted)]


def from_accept_language(header: str | None) -> str | None:
    """The first supported language the browser asks for, or None."""
    for tag in parse_accept_language(header):
        lang = supported(tag)
        if lang is not None:
            return lang
    return None


def negotiate(
    query: str | None,
    configured: str | None,
    accept_language: str | None,
    *,
    default: str | None = None,
) -> str:
    """The language of a screen: `?lang=` if it names a supported language, else the
    wallboard's configured one, else the browser's, else `default` (a site-wide setting),
    else English. An unknown `?lang=` falls through (a link with `?lang=fr` still shows a page
    in a language the viewer reads)."""
    return (
        supported(query)
        or supported(configured)
        or from_accept_language(accept_language)
        or supported(default)
        or DEFAULT_LANG
    )


def request_lang(
    request: Request, configured: str | None = None, *, default: str | None = None
) -> str:
    """`negotiate` for a FastAPI/Starlette request (its `?lang=` and Accept-Language)."""
    return negotiate(
        request.query_params.get("lang"),
        configured,
        request.headers.get("accept-language"),
        default=default,
    )
