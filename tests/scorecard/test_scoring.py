"""Scorecards by hand, and the balance between strong and weak indicators."""

from __future__ import annotations

from typing import Any

from app.config import Balance, CallboardConfig, KpiTarget
from app.scorecard.scoring import flags, score
from app.scorecard.service import rank, scored

CARD = {
    "aht_s": KpiTarget(target=300, floor=600, weight=1, perspective="efficiency"),
    "fcr": KpiTarget(target=0.85, floor=0.6, weight=2, perspective="quality"),
    "csat": KpiTarget(target=0.85, floor=0.6, weight=2, perspective="customer"),
}
ROW = {"key": "a1", "aht_s": 240.0, "fcr": 0.725, "csat": 0.85, "handled": 30}


def test_a_score_by_hand() -> None:
    s = score(ROW, CARD, Balance())
    # aht 240 s is past its target (1.0) but fcr is only half way (0.5): aht is capped at 0.5
    assert s["kpis"]["aht_s"]["attainment"] == 0.5
    assert s["kpis"]["aht_s"]["capped_by"] == "fcr"
    assert s["kpis"]["fcr"]["attainment"] == 0.5 and s["kpis"]["csat"]["attainment"] == 1.0
    assert s["score"] == 70.0  # (1 x 0.5 + 2 x 0.5 + 2 x 1.0) / 5
    assert s["perspectives"] == {
        "efficiency": 50.0,
        "quality": 50.0,
        "customer": 100.0,
        "employee": None,
    }
    assert s["meaningful"] and s["contacts"] == 30


def test_without_the_weak_kpi_below_target_speed_counts_fully() -> None:
    s = score({**ROW, "fcr": 0.9}, CARD, Balance())
    assert s["kpis"]["aht_s"]["attainment"] == 1.0 and s["kpis"]["aht_s"]["capped_by"] is None
    assert s["score"] == 100.0


def test_a_kpi_without_data_changes_nothing() -> None:
    with_qa = {**CARD, "qa_score": KpiTarget(target=85, floor=60, weight=3)}
    assert score(ROW, with_qa, Balance())["score"] == score(ROW, CARD, Balance())["score"]
    assert score(ROW, with_qa, Balance())["kpis"]["qa_score"]["attainment"] is None


def test_changed_weights_change_the_score_at_once() -> None:
    lighter = {**CARD, "fcr": KpiTarget(target=0.85, floor=0.6, weight=1)}
    assert score(ROW, lighter, Balance())["score"] == 75.0  # (0.5 + 0.5 + 2.0) / 4
    config = CallboardConfig.model_validate(
        {
            "scorecards": {
                "default": {
                    "aht_s": {"target": 300, "floor": 600, "weight": 1},
                    "fcr": {"target": 0.85, "floor": 0.6, "weight": 1},
                    "csat": {"target": 0.85, "floor": 0.6, "weight": 2},
                }
            }
        }
    )
    [row] = scored(config, "agent", [ROW])
    assert row["score"] == 75.0


def test_lower_is_better_when_the_target_is_below_the_floor() -> None:
    ceiling = {"occupancy_ceiling": KpiTarget(metric="occupancy", target=0.85, floor=0.95)}
    assert score({"occupancy": 0.7}, ceiling, Balance())["score"] == 100.0
    assert score({"occupancy": 0.9}, ceiling, Balance())["score"] == 50.0
    assert score({"occupancy": 0.97}, ceiling, Balance())["score"] == 0.0


BALANCED: dict[str, Any] = {
    "key": "steady",
    "team": "t",
    "aht_s": 330.0,
    "fcr": 0.86,
    "qa_score": 86.0,
    "csat": 0.87,
    "calls_per_hour": 7.0,
    "short_call_rate": 0.01,
    "agent_hangup_rate": 0.05,
    "handled": 40,
}
PEER: dict[str, Any] = {**BALANCED, "key": "peer", "aht_s": 320.0, "fcr": 0.84}
RUSHER: dict[str, Any] = {
    "key": "rush",
    "team": "t",
    "aht_s": 170.0,
    "fcr": 0.55,
    "qa_score": 65.0,
    "csat": 0.55,
    "calls_per_hour": 12.0,
    "short_call_rate": 0.12,
    "agent_hangup_rate": 0.28,
    "handled": 60,
}


def test_a_rushing_agent_is_flagged_and_does_not_outrank_a_balanced_one() -> None:
    rows = rank(scored(CallboardConfig(), "agent", [RUSHER, BALANCED, PEER]))
    order = [r["key"] for r in rows]
    assert order.index("rush") > order.index("steady")
    rush = next(r for r in rows if r["key"] == "rush")
    assert rush["kpis"]["aht_s"]["capped_by"] == "fcr" and rush["kpis"]["aht_s"]["attainment"] == 0
    # against the rest of the team's medians: AHT 325 s, FCR 0.85, QA 86, 7 calls/h
    text = " | ".join(rush["flags"])
    assert (
        "handles calls 48% faster than the team but resolves 30 points fewer on first contact"
        in text
    )
    assert (
        "takes 71% more calls per hour than the team but scores 21 points lower on quality" in text
    )
    assert "ends 12% of calls in under 10 s (the team: 1%)" in text
    assert "hangs up on 28% of calls (the team: 5%)" in text
    steady = next(r for r in rows if r["key"] == "steady")
    assert steady["flags"] == []


def test_too_few_contacts_are_marked() -> None:
    few = {**BALANCED, "handled": 3}
    [row] = scored(CallboardConfig(), "agent", [few])
    assert not row["meaningful"] and "only 3 contacts" in row["flags"][-1]
    assert flags(BALANCED, [BALANCED], CallboardConfig().scorecards.get("x") or {}, Balance()) == []
