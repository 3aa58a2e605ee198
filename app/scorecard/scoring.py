"""Balanced scorecards as pure functions of metric rows (docs/METRICS.md, Balanced scorecard).

attainment = (value - floor) / (target - floor), clipped to 0..1; a score is the weighted mean
of the attainments x 100, over the KPIs that have data (a KPI without data is left out of the
weights, not scored 0). Strong indicators (fast to move alone: AHT, calls per hour) are paired
with weak ones (resolution, quality, satisfaction): while the weak KPI is below its target, the
strong one's attainment is capped at the weak one's, so speed bought with quality earns nothing;
while the weak KPI has no data yet (no surveys, no QA), the strong one earns at most a neutral
`NEUTRAL`, so nothing rewards speed that nobody has checked. The agent's own behaviours (calls cut
short, hang-ups by the agent) are scored in the quality perspective. FCR is judged on mature
contacts only (`fcr_mature`: a contact still inside its repeat window is not resolved yet).

Flags are codes with parameters ({"code", "params"}); the screens put them into words in the
floor's language (app/i18n, keys `flag.<code>`).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.config import Balance, KpiTarget

PERSPECTIVES = ("efficiency", "quality", "customer", "employee")
DEFAULT_PERSPECTIVE = {
    "aht_s": "efficiency",
    "calls_per_hour": "efficiency",
    "occupancy": "efficiency",
    "adherence": "efficiency",
    "qa_score": "quality",
    "fcr": "quality",
    "transfer_rate": "quality",
    "short_call_rate": "quality",
    "agent_hangup_rate": "quality",
    "csat": "customer",
    "nps": "customer",
    "service_level": "customer",
    "abandon_rate": "customer",
}

# Shipped when callboard.toml has no [scorecards.default] (documented in docs/METRICS.md).
DEFAULT_CARD: dict[str, KpiTarget] = {
    "aht_s": KpiTarget(target=300, floor=600, weight=1, perspective="efficiency"),
    "calls_per_hour": KpiTarget(target=8, floor=4, weight=1, perspective="efficiency"),
    "occupancy": KpiTarget(target=0.8, floor=0.6, weight=1, perspective="efficiency"),
    "adherence": KpiTarget(target=0.95, floor=0.8, weight=1, perspective="efficiency"),
    "qa_score": KpiTarget(target=85, floor=60, weight=2, perspective="quality"),
    "fcr": KpiTarget(metric="fcr_mature", target=0.85, floor=0.5, weight=2, perspective="quality"),
    "transfer_rate": KpiTarget(target=0.05, floor=0.2, weight=1, perspective="quality"),
    # the agent's own behaviours: calls cut under 10 s, calls the agent hung up
    "short_call_rate": KpiTarget(target=0.02, floor=0.15, weight=1, perspective="quality"),
    "agent_hangup_rate": KpiTarget(target=0.05, floor=0.25, weight=2, perspective="quality"),
    # floors a real center meets on an ordinary day (top-two-box CSAT runs 60-80 %), so an
    # ordinary agent is not shown a red zero
    "csat": KpiTarget(target=0.8, floor=0.4, weight=2, perspective="customer"),
    "nps": KpiTarget(target=40, floor=-20, weight=1, perspective="customer"),
    "service_level": KpiTarget(target=0.8, floor=0.5, weight=1, perspective="customer"),
    "occupancy_ceiling": KpiTarget(
        metric="occupancy", target=0.85, floor=0.95, weight=1, perspective="employee"
    ),
}

# the most a strong KPI earns while its weak pair has no data yet
NEUTRAL = 0.5
# weak KPIs that only reviews and surveys produce: without any, the card says so
REVIEWED = ("qa_score", "csat", "nps")


def attainment(value: float | None, k: KpiTarget) -> float | None:
    if value is None:
        return None
    return min(1.0, max(0.0, (value - k.floor) / (k.target - k.floor)))


def _weighted(lines: Iterable[Mapping[str, Any]]) -> float | None:
    num = den = 0.0
    for line in lines:
        if line["attainment"] is not None and line["weight"] > 0:
            num += line["weight"] * line["attainment"]
            den += line["weight"]
    return None if den == 0 else round(100 * num / den, 1)


def score(
    row: Mapping[str, Any],
    card: Mapping[str, KpiTarget],
    balance: Balance,
    *,
    key: str | None = None,
) -> dict[str, Any]:
    lines: dict[str, dict[str, Any]] = {}
    for name, k in card.items():
        metric = k.metric or name
        value = row.get(metric)
        lines[name] = {
            "metric": metric,
            "value": value,
            "target": k.target,
            "floor": k.floor,
            "weight": k.weight,
            "perspective": k.perspective or DEFAULT_PERSPECTIVE.get(metric, "efficiency"),
            "attainment": attainment(value, k),
            "capped_by": None,
        }
    for strong, weak in balance.pairs:
        for w in (x for n, x in lines.items() if weak in (n, x["metric"])):
            if w["attainment"] is not None and w["attainment"] >= 1:
                continue
            cap = NEUTRAL if w["attainment"] is None else w["attainment"]
            for s in (x for n, x in lines.items() if strong in (n, x["metric"])):
                if s["attainment"] is not None and s["attainment"] > cap:
                    s["attainment"], s["capped_by"] = cap, weak
    for line in lines.values():
        if line["attainment"] is not None:
            line["attainment"] = round(line["attainment"], 3)
    contacts = int(row.get("handled") or 0)
    reviewed = [x for x in lines.values() if x["metric"] in REVIEWED]
    return {
        "key": key if key is not None else row.get("key"),
        "score": _weighted(lines.values()),
        "perspectives": {
            p: _weighted(x for x in lines.values() if x["perspective"] == p) for p in PERSPECTIVES
        },
        "kpis": lines,
        "contacts": contacts,
        "meaningful": contacts >= balance.min_contacts,
        # a card judged on speed alone so far: no surveys and no QA reviews yet
        "no_quality_data": bool(reviewed) and all(x["value"] is None for x in reviewed),
        "fcr_pending": row.get("fcr_pending"),
    }


def _median(rows: Iterable[Mapping[str, Any]], metric: str) -> float | None:
    values = [r[metric] for r in rows if r.get(metric) is not None]
    return statistics.median(values) if values else None


def _scored_as(card: Mapping[str, KpiTarget], name: str) -> str:
    """The metric a card line named (or measuring) `name` scores: "fcr" is judged as
    fcr_mature by the default card."""
    for line, k in card.items():
        if name in (line, k.metric):
            return k.metric or line
    return name


def _below_target(row: Mapping[str, Any], card: Mapping[str, KpiTarget], metric: str) -> bool:
    for name, k in card.items():
        if metric in (name, k.metric):
            a = attainment(row.get(k.metric or name), k)
            return a is not None and a < 1
    return False


Flag = dict[str, Any]  # {"code": str, "params": {name: value}}


def flag(code: str, **params: Any) -> Flag:
    return {"code": code, "params": params}


def flags(
    row: Mapping[str, Any],
    peers: Sequence[Mapping[str, Any]],
    card: Mapping[str, KpiTarget],
    balance: Balance,
    *,
    peer: str = "team",
) -> list[Flag]:
    """Reasons as codes, relative to the median of the other peers (the row itself left out:
    in a small team it would pull the median toward itself). `peer` names the group compared
    with (team, teams, queues, center); the words are the screen's."""
    peers = [p for p in peers if p is not row and p.get("key") != row.get("key")]
    out: list[Flag] = []
    for strong, weak in balance.pairs:
        if not _below_target(row, card, weak):
            continue
        mine, theirs = row.get(strong), _median(peers, strong)
        if mine is None or not theirs:
            continue
        if strong == "aht_s":
            edge = 1 - mine / theirs
        elif strong == "calls_per_hour":
            edge = mine / theirs - 1
        else:
            continue
        if edge < balance.faster_than_team:
            continue
        judged = _scored_as(card, weak)
        w_mine, w_theirs = row.get(judged), _median(peers, judged)
        if w_mine is not None and w_theirs is not None and w_theirs > w_mine:
            scale = 1 if weak == "qa_score" else 100
            gap = round((w_theirs - w_mine) * scale)
            out.append(flag(f"{strong}_but_{weak}", edge=round(edge, 2), gap=gap, peer=peer))
        else:
            out.append(flag(f"{strong}_weak_below_target", edge=round(edge, 2), weak=weak))
    for metric, floor in (("short_call_rate", 0.05), ("agent_hangup_rate", 0.10)):
        mine, theirs = row.get(metric), _median(peers, metric)
        if mine is not None and mine > max(floor, 2 * (theirs or 0)):
            out.append(flag(metric, mine=mine, theirs=theirs or 0, peer=peer))
    if int(row.get("handled") or 0) < balance.min_contacts:
        out.append(flag("few_contacts", n=int(row.get("handled") or 0), min=balance.min_contacts))
    return out


def balances(
    center: Mapping[str, Any],
    *,
    required: int | None,
    staffed: int | None,
    projected_sl: float | None,
    interval_sl: float | None,
) -> dict[str, Any]:
    """The center's headline (90/90) and its four balances, as paired numbers."""
    fcr, sl = center.get("fcr"), center.get("service_level")
    return {
        "ninety_ninety": {
            "fcr": fcr,
            "service_level": sl,
            "met": fcr is not None and sl is not None and fcr >= 0.9 and sl >= 0.9,
        },
        "efficiency_quality": {
            "aht_s": center.get("aht_s"),
            "fcr": fcr,
            "qa_score": center.get("qa_score"),
        },
        "service_cost": {
            "service_level": sl,
            "agents_staffed": staffed,
            "agents_required": required,
            "occupancy": center.get("occupancy"),
        },
        "customer_employee": {
            "csat": center.get("csat"),
            "nps": center.get("nps"),
            "occupancy": center.get("occupancy"),
            "break_s": center.get("break_s"),
            "adherence": center.get("adherence"),
        },
        "now_future": {"service_level_now": interval_sl, "service_level_next": projected_sl},
    }
