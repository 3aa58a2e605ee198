"""Scorecards by hand, and the balance between strong and weak indicators."""

from __future__ import annotations

from typing import Any

from app.config import Balance, CallboardConfig, KpiTarget
from app.scorecard.scoring import flags, score
from app.scorecard.service import rank, scored
from app.screens.words import flag_text

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
    "fcr_mature": 0.86,
    "qa_score": 86.0,
    "csat": 0.87,
    "calls_per_hour": 7.0,
    "short_call_rate": 0.01,
    "agent_hangup_rate": 0.05,
    "handled": 40,
}
PEER: dict[str, Any] = {
    **BALANCED,
    "key": "peer",
    "aht_s": 320.0,
    "fcr": 0.84,
    "fcr_mature": 0.84,
}
RUSHER: dict[str, Any] = {
    "key": "rush",
    "team": "t",
    "aht_s": 170.0,
    "fcr": 0.55,
    "fcr_mature": 0.55,
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
    # FCR 0.55 between floor 0.5 and target 0.85: (0.55 - 0.5) / 0.35 = 0.143 caps the speed
    assert rush["kpis"]["aht_s"]["capped_by"] == "fcr"
    assert rush["kpis"]["aht_s"]["attainment"] == 0.143
    # against the rest of the team's medians: AHT 325 s, FCR 0.85, QA 86, 7 calls/h
    codes = {f["code"]: f["params"] for f in rush["flags"]}
    assert codes["aht_s_but_fcr"] == {"edge": 0.48, "gap": 30, "peer": "team"}
    assert codes["calls_per_hour_but_qa_score"] == {"edge": 0.71, "gap": 21, "peer": "team"}
    assert codes["short_call_rate"] == {"mine": 0.12, "theirs": 0.01, "peer": "team"}
    text = " | ".join(flag_text(f) for f in rush["flags"])
    assert "calls 48% shorter than the team, but 30 points fewer resolved first time" in text
    assert "71% more calls per hour than the team, but 21 points lower on quality" in text
    assert "12% of calls end in under 10 s (the team: 1%)" in text
    assert "28% of calls hung up before the caller did (the team: 5%)" in text
    steady = next(r for r in rows if r["key"] == "steady")
    assert steady["flags"] == []


def test_too_few_contacts_are_marked() -> None:
    few = {**BALANCED, "handled": 3}
    [row] = scored(CallboardConfig(), "agent", [few])
    assert not row["meaningful"] and row["flags"][-1] == {
        "code": "few_contacts",
        "params": {"n": 3, "min": 10},
    }
    assert flag_text(row["flags"][-1]) == "only 3 contacts so far: too few to judge (from 10)"
    assert flags(BALANCED, [BALANCED], CallboardConfig().scorecards.get("x") or {}, Balance()) == []


def test_speed_without_any_quality_data_earns_at_most_a_neutral_value() -> None:
    """Before the first survey or QA review, a rusher must not top the ranking."""
    fast = {"key": "fast", "team": "t", "aht_s": 120.0, "calls_per_hour": 14.0, "handled": 60}
    [card] = scored(CallboardConfig(), "agent", [fast])
    assert card["kpis"]["aht_s"]["attainment"] == 0.5
    assert card["kpis"]["aht_s"]["capped_by"] in ("fcr", "csat")
    assert card["kpis"]["calls_per_hour"]["attainment"] == 0.5
    assert card["no_quality_data"] is True
    assert card["score"] is not None and card["score"] <= 60


def test_hanging_up_on_customers_costs_quality() -> None:
    rows = rank(scored(CallboardConfig(), "agent", [RUSHER, BALANCED, PEER]))
    rush = next(r for r in rows if r["key"] == "rush")
    steady = next(r for r in rows if r["key"] == "steady")
    assert rush["kpis"]["agent_hangup_rate"]["attainment"] == 0.0  # 28 % is past the floor
    assert rush["kpis"]["short_call_rate"]["attainment"] == 0.231
    assert rush["perspectives"]["quality"] < steady["perspectives"]["quality"]
    assert steady["no_quality_data"] is False


def test_fcr_is_judged_on_mature_contacts_only() -> None:
    """A contact still inside its repeat window is not resolved yet."""
    row = {"key": "a", "fcr": 0.95, "fcr_mature": 0.5, "fcr_pending": 30, "handled": 40}
    [card] = scored(CallboardConfig(), "agent", [row])
    assert card["kpis"]["fcr"]["value"] == 0.5 and card["kpis"]["fcr"]["attainment"] == 0.0
    assert card["fcr_pending"] == 30


def test_the_default_csat_floor_fits_an_ordinary_center() -> None:
    [card] = scored(CallboardConfig(), "agent", [{"key": "a", "csat": 0.62, "handled": 40}])
    assert card["kpis"]["csat"]["attainment"] > 0.5
    assert card["perspectives"]["customer"] > 0


def test_the_fcr_so_far_metric() -> None:
    from app.metrics.registry import evaluate

    # 10 contacts: 6 still inside their window (5 not back yet, 1 already back), 4 past it
    # (3 never back): so far 8 of 10 look resolved; of the mature ones 3 of 4 are
    row = evaluate({"fcr_n": 10, "fcr_resolved": 8, "fcr_pending": 5, "fcr_open": 6}, "agent")
    assert row["fcr"] == 0.8 and row["fcr_mature"] == 0.75
    all_open = {"fcr_n": 3, "fcr_resolved": 2, "fcr_pending": 2, "fcr_open": 3}
    assert evaluate(all_open, "agent")["fcr_mature"] is None
