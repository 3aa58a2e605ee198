"""Words for notifications (webhooks, e-mail): the alert's code and parameters through the
message catalogues (`alert.<code>` in app/i18n/catalogues/<lang>/alerts.json), in the
language each target is configured for. Screens do the same in the browser."""

from __future__ import annotations

from typing import Any

from app.i18n import formats, t

COLORS = {"info": "#3b82f6", "warning": "#f59e0b", "critical": "#dc2626", "cleared": "#16a34a"}


def number(value: Any, unit: str | None, lang: str = "en") -> str:
    """A value as a floor reads it, in the locale (app/i18n/formats.py): 82% (82 % in Russian)
    for a ratio, 45 sec / 2:05 for seconds, 7 for a count."""
    if value is None:
        return "-"
    v = float(value)
    if unit == "ratio":
        return formats.percent(lang, v, 0 if round(v * 100, 1).is_integer() else 1)
    if unit == "seconds":
        return formats.duration(lang, v) if round(v) < 60 else formats.clock(lang, v)
    if unit == "count" or v.is_integer():
        return formats.number(lang, v, 0)
    return formats.number(lang, v, 1)


def metric_name(lang: str, metric: str) -> str:
    """The catalogue's word for the metric; without one, the name made plain
    (waiting_now -> "waiting now", aht_s -> "aht")."""
    key = f"metric.{metric}"
    word = t(lang, key)
    return metric.removesuffix("_s").replace("_", " ") if word == key else word


def scope_words(lang: str, scope: str) -> str:
    kind, _, name = scope.partition(":")
    return t(lang, f"alert.scope.{kind}", name=name)


def rule_name(lang: str, alert: dict[str, Any]) -> str:
    """The rule's name in `lang` ([[alerts]] names), its English one, else its own."""
    names = alert.get("names") or {}
    return str(names.get(lang) or names.get("en") or alert["name"])


def _params(lang: str, alert: dict[str, Any]) -> dict[str, Any]:
    params = dict(alert.get("params") or {})
    unit = params.get("unit")
    params.update(
        name=rule_name(lang, alert),
        metric=metric_name(lang, alert["metric"]),
        value=number(params.get("value", alert.get("value")), unit, lang),
        threshold=number(params.get("threshold", alert.get("threshold")), unit, lang),
    )
    params.setdefault("minutes", 0)
    return params


def alert_text(lang: str, alert: dict[str, Any]) -> str:
    """The alert's own sentence ("waiting now is 7, above 2"): what is out, not the rule's
    name (a screen shows where, a notification says the name once in its line)."""
    return t(lang, f"alert.{alert['code']}", **_params(lang, alert))


def text(lang: str, event: str, alert: dict[str, Any]) -> str:
    """A notification's text: where, which rule, and what."""
    words = (
        t(lang, "alert.cleared", **_params(lang, alert))
        if event == "cleared"
        else alert_text(lang, alert)
    )
    return t(
        lang,
        "alert.line",
        scope=scope_words(lang, alert["scope"]),
        name=rule_name(lang, alert),
        text=words,
    )


def subject(lang: str, event: str, alert: dict[str, Any]) -> str:
    severity = t(lang, f"alert.severity.{alert['severity']}")
    return t(lang, f"alert.subject.{event}", severity=severity, name=rule_name(lang, alert))


def color(event: str, severity: str) -> str:
    return COLORS["cleared"] if event == "cleared" else COLORS.get(severity, COLORS["info"])
