"""Erlang C against the published check values (METRICS.md: R ErlangC manual, pyworkforce
README); Erlang A against Erlang C in its limit and against a simulation of the queue."""

from __future__ import annotations

import heapq
import json
import random
import subprocess
import sys

import pytest

from app.staffing.erlang import (
    agents_required,
    erlang_a_level,
    erlang_c,
    erlang_c_level,
    scheduled_required,
)
from app.staffing.service import plan

TRAFFIC = 100 * 180 / 1800  # 100 contacts per 30 min, AHT 180 s: 10 Erlangs


def test_published_check_values() -> None:
    level = erlang_c_level(TRAFFIC, 14, aht_s=180, within_s=20)
    assert TRAFFIC == 10
    assert level.p_wait == pytest.approx(0.1741319, abs=5e-8)
    assert level.service_level == pytest.approx(0.88835, abs=5e-6)
    assert level.asa_s == pytest.approx(7.8359, abs=5e-5)
    assert level.occupancy == pytest.approx(0.7142857, abs=5e-8)
    assert erlang_c_level(TRAFFIC, 13, aht_s=180, within_s=20).service_level == pytest.approx(
        0.7956, abs=5e-5
    )
    assert agents_required(TRAFFIC, aht_s=180, target=0.8, within_s=20) == 14
    assert scheduled_required(14, 0.3) == 20


def test_too_few_agents_never_catch_up() -> None:
    assert erlang_c(10, 10) == 1.0
    assert erlang_c_level(10, 9, aht_s=180, within_s=20).service_level == 0.0


def test_erlang_a_becomes_erlang_c_when_nobody_hangs_up() -> None:
    a = erlang_a_level(100 / 1800, 14, aht_s=180, patience_s=1e9, within_s=20)
    c = erlang_c_level(TRAFFIC, 14, aht_s=180, within_s=20)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-5)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-5)
    assert a.p_abandon < 1e-6


def _simulate(lam: float, agents: int, aht: float, patience: float, t: float, n: int, seed: int):
    """FCFS M/M/N+M: each arrival takes the first agent free after it, or leaves when its
    patience runs out before that."""
    rng = random.Random(seed)
    free = [0.0] * agents
    now = waited = abandoned = in_sl = 0
    now = 0.0
    for _ in range(n):
        now += rng.expovariate(lam)
        start = max(now, free[0])
        wait = start - now
        if wait > 0:
            waited += 1
        if wait > rng.expovariate(1 / patience):
            abandoned += 1
            continue
        if wait <= t:
            in_sl += 1
        heapq.heapreplace(free, start + rng.expovariate(1 / aht))
    return waited / n, abandoned / n, in_sl / n


@pytest.mark.parametrize(("agents", "patience"), [(12, 120.0), (14, 300.0), (11, 60.0)])
def test_erlang_a_matches_a_simulation_of_the_queue(agents: int, patience: float) -> None:
    lam, aht, t, n = 100 / 1800, 180.0, 20.0, 200_000
    p_wait, p_ab, sl = _simulate(lam, agents, aht, patience, t, n, seed=agents)
    model = erlang_a_level(lam, agents, aht_s=aht, patience_s=patience, within_s=t)
    # within sampling error (customers in a queue are correlated: allow a generous margin)
    assert model.p_wait == pytest.approx(p_wait, abs=0.01)
    assert model.p_abandon == pytest.approx(p_ab, abs=0.006)
    assert model.service_level == pytest.approx(sl, abs=0.01)


def test_plan_gives_levels_around_the_requirement() -> None:
    result = plan(arrivals=100, per_s=1800, aht_s=180, target=0.8, within_s=20, shrinkage=0.3)
    assert (result["traffic_erlangs"], result["agents_required"], result["scheduled_required"]) == (
        10.0,
        14,
        20,
    )
    agents = [lv["agents"] for lv in result["levels"]]
    assert agents == list(range(11, 18))
    assert set(result["levels"][0]) >= {"agents", "p_wait", "service_level", "asa_s", "occupancy"}
    with pytest.raises(ValueError):
        plan(arrivals=100, per_s=1800, aht_s=0, target=0.8, within_s=20)


def test_staffing_command_prints_json() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from app.cli import main; main()",
            "staffing",
            "--arrivals",
            "100",
            "--per",
            "30m",
            "--aht",
            "180",
            "--shrinkage",
            "0.3",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    body = json.loads(out.stdout)
    assert (body["agents_required"], body["scheduled_required"]) == (14, 20)
    [fourteen] = [lv for lv in body["levels"] if lv["agents"] == 14]
    assert fourteen["p_wait"] == pytest.approx(0.1741319, abs=1e-7)
