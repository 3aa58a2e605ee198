"""GET /api/v1/forecast: today (or a day) against its forecast, per queue and quarter hour;
/api/v1/forecast/figure: the same as the supervisor's Plotly chart (docs/FORECAST.md)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import AfterValidator

from app.auth.deps import Reader
from app.config import CallboardConfig
from app.deps import ConnDep
from app.forecast.figures import intraday_figure
from app.forecast.intraday import QueueDay, day_of, intraday
from app.forecast.schemas import FigureOut, ForecastOut
from app.forecast.summary import total
from app.i18n import t
from ingest.contract import TS_MAX, TS_MIN

router = APIRouter(prefix="/api/v1", tags=["forecast"])

QueueName = Annotated[str | None, Query(min_length=1, max_length=128)]
BoardName = Annotated[str | None, Query(min_length=1, max_length=128)]

# The days whose instants events can carry (ingest.contract): a day outside holds no history
# and no forecast, and the calendar's own ends have no day after them to end at.
FIRST_DAY, LAST_DAY = TS_MIN.date(), TS_MAX.date() - timedelta(days=1)


def _within(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return value


Day = Annotated[
    Annotated[date, AfterValidator(_within)] | None,
    Query(description=f"YYYY-MM-DD, {FIRST_DAY} to {LAST_DAY}; today in the queue's zone"),
]


def _queues(
    conn: ConnDep, config: CallboardConfig, queue: str | None, board: str | None
) -> list[str]:
    known = [r[0] for r in conn.execute("SELECT name FROM queues ORDER BY name").fetchall()]
    if queue is not None:
        if queue not in known and queue not in config.queues:
            raise HTTPException(404, f"no queue named {queue!r}")
        return [queue]
    if board is not None and board != "default":
        if board not in config.wallboards:
            raise HTTPException(404, f"no [wallboards.{board}] in callboard.toml")
        return config.wallboards[board].queues or known
    return known


def _days(
    request: Request, conn: ConnDep, queue: str | None, board: str | None, day: date | None
) -> tuple[date, list[QueueDay]]:
    config: CallboardConfig = request.app.state.config
    now = request.app.state.clock.now()
    names = _queues(conn, config, queue, board)
    which = day or day_of(config, queue, now)
    return which, intraday(conn, config, queues=names, day=which, now=now)


@router.get(
    "/forecast",
    response_model=ForecastOut,
    summary="Forecast, actual so far, reforecast and staffing per queue and quarter hour",
)
def get_forecast(
    request: Request,
    _: Reader,
    conn: ConnDep,
    queue: QueueName = None,
    board: BoardName = None,
    day: Day = None,
) -> ForecastOut:
    """One queue (`queue`), a wallboard's queues (`board`), or every queue; `day` is today in
    the queue's time zone unless given."""
    which, days = _days(request, conn, queue, board, day)
    return ForecastOut.model_validate(
        {
            "day": which,
            "now": request.app.state.clock.now(),
            "total": total(days),
            "queues": days,
        },
        from_attributes=True,
    )


@router.get("/forecast/figure", response_model=FigureOut, summary="The intraday chart (Plotly)")
def get_figure(
    request: Request,
    _: Reader,
    conn: ConnDep,
    queue: Annotated[str, Query(min_length=1, max_length=128)],
    day: Day = None,
    lang: Annotated[str, Query(max_length=16, pattern=r"^[A-Za-z-]+$")] = "en",
) -> FigureOut:
    config: CallboardConfig = request.app.state.config
    days = _days(request, conn, queue, None, day)[1]
    tz = ZoneInfo(config.queue(queue).timezone)
    return FigureOut.model_validate(intraday_figure(days[0], tz=tz, w=lambda k: t(lang, k)))
