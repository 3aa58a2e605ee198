"""What GET /api/v1/scorecards answers: scored rows, best first, with their flags."""

from __future__ import annotations

from pydantic import BaseModel

from app.metrics.schemas import WindowOut

Number = int | float | None


class KpiLine(BaseModel):
    metric: str
    value: Number
    target: float
    floor: float
    weight: float
    perspective: str
    attainment: float | None  # 0..1 of the way from floor to target
    capped_by: str | None  # the weak KPI that caps this strong one


class FlagOut(BaseModel):
    code: str
    params: dict[str, Number | str]
    text: str  # the words, in English; programs read code and params


class ScoreRow(BaseModel):
    key: str
    score: float | None
    perspectives: dict[str, float | None]
    kpis: dict[str, KpiLine]
    contacts: int
    meaningful: bool  # enough contacts to be ranked
    no_quality_data: bool
    fcr_pending: int | None
    scorecard: str
    flags: list[FlagOut]
    team: str | None = None  # agents only


class ScorecardsOut(WindowOut):
    rows: list[ScoreRow]
    # the center only: the 90/90 headline and the four balances, as paired numbers
    balances: dict[str, dict[str, Number | bool]] | None = None
