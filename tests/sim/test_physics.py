"""The simulator is a queueing system, not random numbers: its physics checked against theory
and against the rules of the floor."""

from __future__ import annotations

import collections
import math
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.staffing.erlang import erlang_c_level
from ingest.contract import validate_items
from ingest.sim.center import AgentSpec, Center, QueueSpec, demo_center
from ingest.sim.engine import Knobs, Simulation

START = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def _waits(events: list[dict[str, Any]]) -> list[float]:
    queued: dict[str, datetime] = {}
    waits = []
    for e in events:
        ts = datetime.fromisoformat(e["ts"])
        if e["type"] == "call.queued":
            queued[e["call_id"]] = ts
        elif e["type"] == "call.answered":
            waits.append((ts - queued[e["call_id"]]).total_seconds())
    return waits


@pytest.mark.parametrize(("agents", "seed"), [(14, 1), (13, 2)])
def test_infinite_patience_and_fixed_staff_give_erlang_c(agents: int, seed: int) -> None:
    """100 contacts per 30 min, exponential talk of 180 s, no wrap-up: M/M/N."""
    queue = QueueSpec("q", "voice", 200, talk_s=180, acw_s=0, patience_s=math.inf)
    staff = tuple(
        AgentSpec(f"a{i}", f"A{i}", "t", ("q",), "steady", 0, 10_000, (), 0) for i in range(agents)
    )
    knobs = Knobs(
        ring_s=(0, 0),
        transfer_p=0,
        survey_p=0,
        qa_p=0,
        callback_after_abandon_p=0,
        callback_offer_p=0,
        return_if_unresolved_p=0,
        exponential_talk=True,
        hold=False,
        use_styles=False,
        arrival_curve=lambda hour: 1.0,
    )
    sim = Simulation(Center("UTC", (queue,), staff), start=START, hours=600, seed=seed, knobs=knobs)
    waits = _waits(list(sim.run(drain_h=24)))
    n = len(waits)
    assert n > 110_000
    theory = erlang_c_level(10.0, agents, aht_s=180, within_s=20)
    p_wait = sum(w > 0 for w in waits) / n
    sl = sum(w <= 20 for w in waits) / n
    # contacts in a queue are correlated, so the error is wider than binomial: 0.02
    assert p_wait == pytest.approx(theory.p_wait, abs=0.02)
    assert sl == pytest.approx(theory.service_level, abs=0.02)
    # the mean wait converges slowest (long waits come in bursts); 2,000 h per seed gave
    # 7.48 to 8.19 s around the theory's 7.84 s
    assert sum(waits) / n == pytest.approx(theory.asa_s, rel=0.2)


@pytest.fixture(scope="module")
def day() -> list[dict[str, Any]]:
    center = demo_center(agents=40)
    return list(
        Simulation(
            center, start=datetime.fromisoformat("2026-11-20T07:00:00+01:00"), hours=11.5, seed=3
        ).run()
    )


def test_every_event_keeps_the_contract(day: list[dict[str, Any]]) -> None:
    valid, errors = validate_items(day)
    assert errors == [] and len(valid) == len(day) > 10_000
    assert len({e["id"] for e in day}) == len(day)


def test_no_agent_handles_two_voice_contacts_at_once(day: list[dict[str, Any]]) -> None:
    talking: dict[str, str] = {}
    for e in sorted(day, key=lambda e: e["ts"]):
        if e["type"] in ("call.answered", "callback.connected"):  # a callback: the agent dials
            assert e["agent"] not in talking, (
                f"{e['agent']} answered {e['call_id']} while on {talking.get(e['agent'])}"
            )
            talking[e["agent"]] = e["call_id"]
        elif e["type"] == "call.ended":
            assert talking.pop(e["agent"]) == e["call_id"]


def test_every_queue_visit_gets_exactly_one_outcome(day: list[dict[str, Any]]) -> None:
    visits: dict[str, list[str]] = collections.defaultdict(list)
    for e in day:
        if e["type"] == "call.queued":
            visits[e["call_id"]].append("queued")
        elif e["type"] in ("call.answered", "call.abandoned", "call.overflowed"):
            visits[e["call_id"]].append("out")
        elif e["type"] == "callback.requested":  # leaves the line; the callback waits
            visits[e["call_id"]] += ["out", "queued"]
        elif e["type"] in ("callback.connected", "callback.failed"):
            visits[e["call_id"]].append("out")
    for call, seq in visits.items():
        assert seq == ["queued", "out"] * (len(seq) // 2), call


def test_a_day_looks_like_a_floor(day: list[dict[str, Any]]) -> None:
    """Arrivals peak mid-morning, the service level slips below target in some hour and
    recovers, and a few percent abandon."""
    arrivals = collections.Counter(
        datetime.fromisoformat(e["ts"]).hour for e in day if e["type"] == "call.queued"
    )
    assert max(arrivals, key=lambda h: arrivals[h]) in (9, 10, 11)
    assert arrivals[12] < arrivals[10]  # the lunch dip
    kinds = collections.Counter(e["type"] for e in day)
    abandon_rate = kinds["call.abandoned"] / (kinds["call.abandoned"] + kinds["call.answered"])
    assert 0.01 < abandon_rate < 0.15
    away = collections.Counter(e.get("reason") for e in day if e.get("state") == "away")
    assert away["break"] >= 60 and away["lunch"] >= 35 and away["ring-no-answer"] > 0
    assert kinds["call.transferred"] > 0 and kinds["call.overflowed"] > 0
    assert kinds["survey.completed"] > 0 and kinds["qa.scored"] > 0


def test_the_same_seed_gives_the_same_file(tmp_path: Path) -> None:
    def simulate(seed: int, name: str) -> bytes:
        out = tmp_path / name
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from app.cli import main; main()",
                "simulate",
                "--agents",
                "12",
                "--hours",
                "2",
                "--seed",
                str(seed),
                "--start",
                "2026-11-20T09:00:00+01:00",
                "--out",
                str(out),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return out.read_bytes()

    first, again, other = simulate(5, "a.jsonl"), simulate(5, "b.jsonl"), simulate(6, "c.jsonl")
    assert first == again and first != other and first.count(b"\n") > 300
