"""The registry's declared parts: each metric reads exactly the parts it declares, and every
declared part is one the queries (or the service) really produce, at the metric's levels."""

from __future__ import annotations

import importlib
import random
from collections.abc import Iterator, Mapping
from typing import Any, cast, get_args

import psycopg
import pytest

import app.metrics
from app.config import CallboardConfig, SlFormula
from app.metrics import registry
from app.metrics import service as S
from app.metrics.parts import (
    PRODUCED,
    QUERIED,
    QueueWindow,
    waiting_now,
    window_parts,
)
from app.metrics.registry import (
    LEVELS,
    METRICS,
    Formula,
    Level,
    Metric,
    UnknownPart,
    check_parts,
    ratio,
    reads,
)
from ingest.writer import ingest
from tests.metrics.scenario import at, call, ev, state


def test_every_metric_reads_only_parts_that_are_produced() -> None:
    check_parts(METRICS, PRODUCED)  # what importing app.metrics did
    for m in METRICS:
        assert m.parts, m.name
        assert set(m.parts) <= PRODUCED, m.name


def test_a_misspelt_part_names_the_metric_the_part_and_the_nearest_known_part() -> None:
    answer_rate = Metric("answer_rate", "ratio", "answered / arrived", ratio("answerd", "arrived"))
    with pytest.raises(
        UnknownPart,
        match=r"metric 'answer_rate' reads part 'answerd', which no query produces"
        r" \(did you mean 'answered'\?\)",
    ):
        check_parts((*METRICS, answer_rate), PRODUCED)

    @reads("t_logedin", "t_breaks")
    def break_share(p: Mapping[str, Any]) -> float | None:
        return None

    hand_written = Metric("break_share", "ratio", "breaks / logged in", break_share)
    with pytest.raises(UnknownPart, match=r"'break_share' reads part 't_logedin'.*'t_logged_in'"):
        check_parts([hand_written], PRODUCED)


def test_a_formula_that_declares_nothing_is_refused() -> None:
    bare = Metric("bare", "count", "undeclared", cast(Formula, lambda p: p.get("answered")))
    with pytest.raises(UnknownPart, match=r"metric 'bare' declares no parts.*@reads"):
        check_parts([bare], PRODUCED)


def test_importing_the_metrics_runs_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    typo = Metric("asa_typo", "seconds", "", ratio("wait_answerd_sum", "wait_answered_n"))
    monkeypatch.setattr(registry, "METRICS", (*METRICS, typo))
    with pytest.raises(UnknownPart, match="'asa_typo' reads part 'wait_answerd_sum'"):
        importlib.reload(app.metrics)
    monkeypatch.undo()
    importlib.reload(app.metrics)


class Recording(Mapping[str, Any]):
    """Parts that log every name a formula reads."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("a formula reads its parts by name")

    def __len__(self) -> int:
        raise AssertionError("a formula reads its parts by name")


def _part_dicts() -> Iterator[dict[str, Any]]:
    """Empty, all zero, all one and random parts, under every SL formula (which parts a
    formula reads can depend on the values: a zero denominator, the SL variant)."""
    rng = random.Random(11)
    yield {}
    for formula in get_args(SlFormula):
        for fill in (0, 1):
            yield {**dict.fromkeys(QUERIED, fill), "sl_formula": formula, "agents_by_state": {}}
        for _ in range(30):
            values = {name: rng.choice([None, 0, 1, 2, 7]) for name in QUERIED}
            yield {**values, "sl_formula": formula, "agents_by_state": {"available": 1}}


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.name)
def test_the_declared_parts_are_what_the_formula_reads(metric: Metric) -> None:
    read: set[str] = set()
    for values in _part_dicts():
        parts = Recording(values)
        assert metric.formula(parts) == metric.formula(values)  # recording changes nothing
        read |= parts.read
    assert read == set(metric.parts)


def _a_bit_of_everything(pg: psycopg.Connection[Any]) -> None:
    """Some data for every query and every group: a queue, a team, an agent."""
    pg.execute("INSERT INTO schedules VALUES ('a1', %s, %s, 'productive')", (at(0), at(3600)))
    events = [
        state("a1", 0, "available"),
        *call("c1", "q", 10, answered=15, ended=300, wrapped=320, customer="k", agent="a1"),
        *call("c2", "q", 400, abandoned=430, customer="k"),
        ev("call.queued", 500, call_id="c3", queue="q"),
        ev("call.missed", 515, call_id="c3", queue="q", agent="a1", ring_s=15),
        ev("survey.completed", 600, call_id="c1", csat=5, nps=10, resolved=True),
        ev("qa.scored", 700, call_id="c1", agent="a1", score=90, evaluator="e"),
        state("a1", 1000, "away", reason="break"),
        ev("call.queued", 3500, call_id="w", queue="q"),  # still waiting at the end
    ]
    result = ingest(pg, events)
    assert result.rejected == 0, result.errors


def test_the_queries_return_exactly_the_parts_known(pg: psycopg.Connection[Any]) -> None:
    _a_bit_of_everything(pg)
    window = QueueWindow("q", 20, 5, 72, at(0), at(3600))
    found = window_parts(pg, LEVELS, [window], people_window=(at(0), at(3600)), now=at(3600))
    returned = {part for groups in found.values() for row in groups.values() for part in row}
    for level in ("center", "queue"):
        for row in waiting_now(pg, level, at(3600), 12).values():
            returned |= set(row)
    assert returned == QUERIED


def test_every_metric_gets_its_parts_at_each_of_its_levels(
    pg: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the service hands the formulas: PRODUCED, no more, no less (so PYTHON_PARTS are
    really set), and at each level every part its metrics read."""
    _a_bit_of_everything(pg)
    given: dict[Level, set[str]] = {level: set() for level in LEVELS}
    evaluate = S.evaluate

    def spy(parts: Mapping[str, Any], level: Level) -> dict[str, Any]:
        given[level] |= set(parts)
        return evaluate(parts, level)

    monkeypatch.setattr(S, "evaluate", spy)
    config = CallboardConfig.model_validate({"teams": {"north": {"agents": ["a1"]}}})
    S.compute_many(pg, config, levels=LEVELS, now=at(3600), window="60m")
    assert set().union(*given.values()) == PRODUCED
    for level in LEVELS:
        missing = {
            m.name: sorted(set(m.parts) - given[level]) for m in METRICS if level in m.levels
        }
        assert {name: parts for name, parts in missing.items() if parts} == {}, level
