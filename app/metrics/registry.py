"""Every metric, declared once: name, unit, the stored parts it is made of, its formula.

The API, the CLI and the screens read this list. Formulas are ratios of sums of parts (never
averages of ratios); a zero denominator is None ("no data"), never 0 or 100. The definitions
and every choice made where METRICS.md is silent are in docs/METRICS.md.

Each formula declares the parts it reads (`ratio`, `count` and `value` from their arguments,
hand-written formulas with `@reads`); importing app.metrics checks every one of them against
the parts the queries produce (`check_parts`), so a misspelt part fails at once instead of
showing "no data" for ever.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

Level = Literal["center", "queue", "team", "agent"]
LEVELS: tuple[Level, ...] = ("center", "queue", "team", "agent")
ALL: frozenset[Level] = frozenset(LEVELS)
QUEUEISH: frozenset[Level] = frozenset({"center", "queue"})
PEOPLE: frozenset[Level] = frozenset({"center", "team", "agent"})

Parts = Mapping[str, Any]


class Formula(Protocol):
    """A metric's formula, and the names of the parts it reads."""

    parts: tuple[str, ...]

    def __call__(self, parts: Parts, /) -> Any: ...


def reads(*names: str) -> Callable[[Callable[[Parts], Any]], Formula]:
    """Declares the parts a hand-written formula reads (every part it may read, whatever
    the values)."""

    def declare(formula: Callable[[Parts], Any]) -> Formula:
        declared = cast(Formula, formula)
        declared.parts = tuple(dict.fromkeys(names))
        return declared

    return declare


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Literal["count", "ratio", "seconds", "per_hour", "score", "nps", "state"]
    description: str
    formula: Formula
    levels: frozenset[Level] = ALL
    digits: int | None = None

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts the formula reads."""
        return self.formula.parts


class UnknownPart(ValueError):
    """A metric reads a part that nothing produces (it would be "no data" for ever)."""


def check_parts(metrics: Iterable[Metric], known: Collection[str]) -> None:
    """Every part every metric reads is one of `known` (the parts the queries and the service
    produce: app.metrics.parts.PRODUCED). Raises UnknownPart naming each metric, its unknown
    part and the nearest known name."""
    problems = []
    for m in metrics:
        declared = getattr(m.formula, "parts", None)
        if not declared:
            problems.append(
                f"metric {m.name!r} declares no parts: build its formula with ratio(), count()"
                " or value(), or declare what it reads with @reads(...)"
            )
            continue
        for part in declared:
            if part not in known:
                near = difflib.get_close_matches(part, sorted(known), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                problems.append(
                    f"metric {m.name!r} reads part {part!r}, which no query produces{hint}"
                )
    if problems:
        raise UnknownPart(
            "; ".join(problems) + ". The parts are the column aliases of the queries in"
            " app/metrics/parts.py and its PYTHON_PARTS."
        )


def _p(parts: Parts, name: str) -> float:
    return float(parts.get(name) or 0)


def ratio(num: str | tuple[str, ...], den: str | tuple[str, ...]) -> Formula:
    nums = (num,) if isinstance(num, str) else num
    dens = (den,) if isinstance(den, str) else den
    declare = reads(*nums, *dens)
    if len(nums) == 1 and len(dens) == 1:  # the common case, evaluated 100,000s of times a tick
        n, d = nums[0], dens[0]

        def simple(parts: Parts) -> float | None:
            den_value = parts.get(d)
            return float(parts.get(n) or 0) / den_value if den_value else None

        return declare(simple)

    def f(parts: Parts) -> float | None:
        get = parts.get
        d = 0.0  # added in order, as sum() would: the same float
        for x in dens:
            d += float(get(x) or 0)
        if d == 0:
            return None
        n = 0.0
        for x in nums:
            n += float(get(x) or 0)
        return n / d

    return declare(f)


def count(name: str) -> Formula:
    return reads(name)(lambda parts: int(parts.get(name) or 0))


def value(name: str) -> Formula:
    """The part as it is: None when the group has none (a now value, a time)."""
    return reads(name)(lambda parts: parts.get(name))


@reads(
    "sl_formula",
    "answered",
    "answered_in_sl",
    "abandoned",
    "abandoned_in_sl",
    "short_abandoned",
    "overflowed",
)
def service_level(parts: Parts) -> float | None:
    """By the row's sl_formula (METRICS.md)."""
    formula = parts.get("sl_formula", "standard")
    a, a_sl = _p(parts, "answered"), _p(parts, "answered_in_sl")
    ab, ab_sl, short = (
        _p(parts, "abandoned"),
        _p(parts, "abandoned_in_sl"),
        _p(parts, "short_abandoned"),
    )
    if formula == "answered_only":
        num, den = a_sl, a
    elif formula == "abandons_met":
        num, den = a_sl + ab_sl + short, a + ab + short
    elif formula == "with_overflow":
        num, den = a_sl, a + ab + _p(parts, "overflowed")
    else:
        num, den = a_sl, a + ab
    return None if den == 0 else num / den


@reads("nps_n", "nps_promoters", "nps_detractors")
def nps(parts: Parts) -> float | None:
    n = _p(parts, "nps_n")
    return (
        None if n == 0 else 100.0 * (_p(parts, "nps_promoters") - _p(parts, "nps_detractors")) / n
    )


@reads("callbacks_done", "callbacks_connected")
def callbacks_failed(parts: Parts) -> float:
    return _p(parts, "callbacks_done") - _p(parts, "callbacks_connected")


@reads("t_logged_in", "handled")
def calls_per_hour(parts: Parts) -> float | None:
    hours = _p(parts, "t_logged_in") / 3600
    return None if hours == 0 else _p(parts, "handled") / hours


@reads("fcr_n", "fcr_open", "fcr_resolved", "fcr_pending")
def fcr_mature(p: Parts) -> float | None:
    """FCR over the contacts whose repeat window has passed."""
    return (
        None
        if _p(p, "fcr_n") - _p(p, "fcr_open") <= 0
        else (_p(p, "fcr_resolved") - _p(p, "fcr_pending")) / (_p(p, "fcr_n") - _p(p, "fcr_open"))
    )


METRICS: tuple[Metric, ...] = (
    # queue outcome, dated when the contact left the queue
    Metric("arrived", "count", "contacts that entered the queue", count("arrived"), QUEUEISH),
    Metric("answered", "count", "contacts answered", count("answered")),
    Metric("answered_in_sl", "count", "answered with wait <= T", count("answered_in_sl")),
    Metric(
        "abandoned", "count", "abandons after more than S seconds", count("abandoned"), QUEUEISH
    ),
    Metric(
        "short_abandoned", "count", "abandons within S seconds", count("short_abandoned"), QUEUEISH
    ),
    Metric(
        "abandoned_in_sl",
        "count",
        "abandons with S < wait <= T",
        count("abandoned_in_sl"),
        QUEUEISH,
    ),
    Metric(
        "overflowed",
        "count",
        "contacts routed out of the queue unanswered",
        count("overflowed"),
        QUEUEISH,
    ),
    Metric(
        "service_level",
        "ratio",
        "by the queue's sl_formula; standard: answered_in_sl / (answered + abandoned)",
        service_level,
        QUEUEISH,
        4,
    ),
    Metric(
        "asa_s",
        "seconds",
        "mean wait of answered contacts",
        ratio("wait_answered_sum", "wait_answered_n"),
        ALL,
        1,
    ),
    Metric(
        "abandon_rate",
        "ratio",
        "abandoned / (answered + abandoned)",
        ratio("abandoned", ("answered", "abandoned")),
        QUEUEISH,
        4,
    ),
    Metric(
        "avg_abandon_wait_s",
        "seconds",
        "mean wait of (not short) abandons",
        ratio("wait_abandoned_sum", "wait_abandoned_n"),
        QUEUEISH,
        1,
    ),
    # now
    Metric("waiting_now", "count", "contacts waiting in queue now", value("waiting_now"), QUEUEISH),
    Metric(
        "longest_wait_now_s",
        "seconds",
        "age of the oldest contact waiting now",
        value("longest_wait_now_s"),
        QUEUEISH,
        1,
    ),
    # callbacks (EVENTS.md, Callbacks): waiting apart from the line, dated like the outcomes
    Metric(
        "callbacks_waiting_now",
        "count",
        "callbacks requested and not yet answered or failed",
        value("callbacks_waiting_now"),
        QUEUEISH,
    ),
    Metric(
        "oldest_callback_s",
        "seconds",
        "age of the oldest callback waiting now",
        value("oldest_callback_s"),
        QUEUEISH,
        1,
    ),
    Metric(
        "callbacks_requested",
        "count",
        "contacts that left the line for a callback (not abandons)",
        count("callbacks_requested"),
        QUEUEISH,
    ),
    Metric(
        "callbacks_connected",
        "count",
        "callbacks that reached the customer",
        count("callbacks_connected"),
        QUEUEISH,
    ),
    Metric(
        "callbacks_failed",
        "count",
        "callbacks that ended without reaching the customer",
        callbacks_failed,
        QUEUEISH,
    ),
    Metric(
        "callback_target_rate",
        "ratio",
        "callbacks reaching the customer within callback_target_s of the request / callbacks ended",
        ratio("callbacks_in_target", "callbacks_done"),
        QUEUEISH,
        4,
    ),
    Metric(
        "attempts_per_callback",
        "count",
        "calls to the customer per callback ended",
        ratio("callback_attempts", "callbacks_done"),
        QUEUEISH,
        2,
    ),
    Metric(
        "agents_by_state",
        "state",
        "agents now in each state, and each away reason",
        value("agents_by_state"),
        frozenset({"center", "queue", "team"}),
    ),
    # handling, dated when handling finished
    Metric("handled", "count", "contacts whose handling finished", count("handled")),
    Metric(
        "aht_s",
        "seconds",
        "(talk + hold + wrap-up) / handled contacts with a known talk time",
        ratio("handle_sum", "handle_n"),
        ALL,
        1,
    ),
    Metric("talk_s", "seconds", "mean talk time", ratio("talk_sum", "talk_n"), ALL, 1),
    Metric(
        "hold_s",
        "seconds",
        "mean hold time (no data when the source reports none)",
        ratio("hold_sum", "hold_n"),
        ALL,
        1,
    ),
    Metric(
        "acw_s",
        "seconds",
        "mean wrap-up time (no data when the source reports none)",
        ratio("acw_sum", "acw_n"),
        ALL,
        1,
    ),
    Metric(
        "transfer_rate", "ratio", "transferred / handled", ratio("transferred", "handled"), ALL, 4
    ),
    Metric(
        "short_call_rate",
        "ratio",
        "handled with talk < 10 s / handled",
        ratio("short_calls", "handled"),
        ALL,
        4,
    ),
    Metric(
        "agent_hangup_rate",
        "ratio",
        "ended by the agent / handled",
        ratio("agent_hangups", "handled"),
        ALL,
        4,
    ),
    Metric(
        "fcr",
        "ratio",
        "handled contacts whose customer had no further contact within repeat_window_h"
        " / handled contacts with a customer",
        ratio("fcr_resolved", "fcr_n"),
        ALL,
        4,
    ),
    Metric(
        "fcr_mature",
        "ratio",
        "FCR over the contacts whose repeat window has passed (those still inside it, resolved"
        " or not, are left out): what scorecards judge, since an open contact is not resolved",
        fcr_mature,
        ALL,
        4,
    ),
    Metric(
        "fcr_pending",
        "count",
        "of those counted resolved, how many are still inside the repeat window",
        count("fcr_pending"),
    ),
    Metric(
        "repeat_rate",
        "ratio",
        "contacts whose customer had another contact in the previous repeat_window_h"
        " / contacts with a customer",
        ratio("repeats", "with_customer"),
        QUEUEISH,
        4,
    ),
    Metric("missed", "count", "ring-no-answer (call.missed)", count("missed")),
    # surveys and evaluations, dated when they arrive
    Metric(
        "csat",
        "ratio",
        "share of csat answers >= 4 (top-two box)",
        ratio("csat_top2", "csat_n"),
        ALL,
        4,
    ),
    Metric("csat_mean", "score", "mean csat (1..5)", ratio("csat_sum", "csat_n"), ALL, 2),
    Metric("nps", "nps", "% of nps 9-10 minus % of nps 0-6", nps, ALL, 1),
    Metric(
        "survey_resolved_rate",
        "ratio",
        "share of surveys saying the issue was resolved",
        ratio("resolved_yes", "resolved_n"),
        ALL,
        4,
    ),
    Metric("qa_score", "score", "mean QA score (0..100)", ratio("qa_sum", "qa_n"), ALL, 1),
    # agent time, split at the window's edges
    Metric(
        "occupancy",
        "ratio",
        "(on_call + wrap_up) / (on_call + wrap_up + available) time",
        ratio(("t_on_call", "t_wrap_up"), ("t_on_call", "t_wrap_up", "t_available")),
        PEOPLE,
        4,
    ),
    Metric(
        "utilization",
        "ratio",
        "(on_call + wrap_up + available) / logged-in time",
        ratio(("t_on_call", "t_wrap_up", "t_available"), "t_logged_in"),
        PEOPLE,
        4,
    ),
    Metric(
        "adherence",
        "ratio",
        "scheduled time in the scheduled state class / scheduled time",
        ratio("adherent_s", "scheduled_s"),
        PEOPLE,
        4,
    ),
    Metric("calls_per_hour", "per_hour", "handled / hours logged in", calls_per_hour, PEOPLE, 2),
    Metric(
        "logged_in_s",
        "seconds",
        "time logged in (any state but logged_out)",
        value("t_logged_in"),
        PEOPLE,
        0,
    ),
    Metric("break_s", "seconds", "time away on break or lunch", value("t_breaks"), PEOPLE, 0),
)

BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}


_BY_LEVEL: dict[Level, list[tuple[str, Callable[[Parts], Any] | None, int | None]]] = {
    level: [(m.name, m.formula if level in m.levels else None, m.digits) for m in METRICS]
    for level in LEVELS
}


def evaluate(parts: Parts, level: Level) -> dict[str, Any]:
    """Every metric of the level from its parts; metrics of other levels are None."""
    out: dict[str, Any] = {}
    for name, formula, digits in _BY_LEVEL[level]:
        value = None if formula is None else formula(parts)
        if digits is not None and value.__class__ is float:
            value = round(value, digits)
        out[name] = value
    return out


# part -> the metrics of a level that read it (a live tick re-evaluates only those)
_READERS: dict[Level, dict[str, list[tuple[str, Callable[[Parts], Any], int | None]]]] = {
    level: {} for level in LEVELS
}
for _m in METRICS:
    for _level in _m.levels:
        for _part in _m.parts:
            _READERS[_level].setdefault(_part, []).append((_m.name, _m.formula, _m.digits))


def reevaluate(
    parts: Parts, level: Level, changed: Iterable[str], previous: dict[str, Any]
) -> dict[str, Any]:
    """`previous` (the level's metrics from parts differing from `parts` only in `changed`)
    with the metrics reading a changed part evaluated again: equal to evaluate(parts)."""
    out = dict(previous)
    readers = _READERS[level]
    for part in changed:
        for name, formula, digits in readers.get(part, ()):
            value = formula(parts)
            if digits is not None and value.__class__ is float:
                value = round(value, digits)
            out[name] = value
    return out
