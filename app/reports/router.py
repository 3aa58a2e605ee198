"""GET /api/v1/reports/{name}: a report of the past as JSON, CSV, XLSX or PDF."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.audit.service import record_by
from app.auth.deps import Supervisor
from app.auth.service import Principal
from app.deps import ConnDep
from app.i18n import t
from app.metrics.registry import Level
from app.reports import formats
from app.reports.figure import default_metric, figure
from app.reports.schemas import Format, Report
from app.reports.service import WAIT_BUCKETS_S, Days, ReportError, Scope, build
from app.screens.router import Lang, language

router = APIRouter(prefix="/api/v1", tags=["reports"])


def _buckets(text: str | None) -> list[float]:
    if not text:
        return list(WAIT_BUCKETS_S)
    try:
        return [float(x) for x in text.split(",")]
    except ValueError as exc:
        raise HTTPException(422, "buckets: seconds separated by commas, such as 5,10,20") from exc


@router.get(
    "/reports/{name}",
    response_model=Report,
    responses={200: {"content": {m: {} for f, m in formats.MEDIA.items() if f != "json"}}},
    summary="A report of the past (queues, agents, abandoned, waits) over days",
)
def get_report(
    request: Request,
    principal: Supervisor,
    conn: ConnDep,
    name: Annotated[str, Path(pattern=r"^(queues|agents|abandoned|waits)$")],
    first: Annotated[date, Query(alias="from", description="first day, YYYY-MM-DD")],
    last: Annotated[date, Query(alias="to", description="last day, inclusive")],
    by: Level = "queue",
    interval: Annotated[int | None, Query(description="15, 30 or 60: rows by time of day")] = None,
    format: Format = "json",
    lang: Lang = None,
    buckets: Annotated[
        str | None, Query(max_length=200, description="waits: bucket edges in seconds, 5,10,...")
    ] = None,
) -> Any:
    report = _build(request, principal, conn, name, first, last, by, interval, buckets)
    if format == "json":
        return report
    chosen = language(request.app.state.config, request, lang, None)
    body = formats.render(report, format, chosen)
    filename = f"callboard-{name}-{by}-{first}-{last}.{format}"
    # a file that leaves the server is in the audit trail, as the screens' exports are (the
    # JSON the reports page shows is not a download)
    record_by(
        conn,
        principal,
        action="report.download",
        address=request.client.host if request.client else None,
        target=filename,
        detail={"report": name, "format": format, "by": by, "from": str(first), "to": str(last)},
    )
    return Response(
        body,
        media_type=formats.MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _build(
    request: Request,
    principal: Principal,
    conn: Any,
    name: str,
    first: date,
    last: date,
    by: Level,
    interval: int | None,
    buckets: str | None,
) -> dict[str, Any]:
    config = request.app.state.config
    scope = Scope(None if principal.role == "admin" else frozenset(principal.teams))
    try:
        return build(
            conn,
            config,
            name=name,
            days=Days(first, last),
            by=by,
            interval=interval,
            now=request.app.state.clock.now(),
            scope=scope,
            wait_buckets=_buckets(buckets),
        )
    except ReportError as exc:
        raise HTTPException(422, str(exc)) from exc


class Figure(BaseModel):
    """A Plotly figure (data and layout) for the /reports page's chart."""

    data: list[dict[str, Any]]
    layout: dict[str, Any]


@router.get(
    "/reports/{name}/figure",
    response_model=Figure,
    summary="A report's chart: a Plotly figure of one metric, with its target",
)
def get_figure(
    request: Request,
    principal: Supervisor,
    conn: ConnDep,
    name: Annotated[str, Path(pattern=r"^(queues|agents|abandoned|waits)$")],
    first: Annotated[date, Query(alias="from", description="first day, YYYY-MM-DD")],
    last: Annotated[date, Query(alias="to", description="last day, inclusive")],
    by: Level = "queue",
    interval: Annotated[int | None, Query(description="15, 30 or 60")] = None,
    metric: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_]+$")] = None,
    lang: Lang = None,
    buckets: Annotated[str | None, Query(max_length=200)] = None,
) -> Figure:
    config = request.app.state.config
    report = _build(request, principal, conn, name, first, last, by, interval, buckets)
    chosen = metric or default_metric(name)
    if name in ("queues", "agents") and chosen not in report["columns"]:
        raise HTTPException(422, f"metric: one of {', '.join(report['columns'])}")
    keys = list(report["totals"]) or ["center"]
    per = {
        (config.queue(k).targets if by == "queue" else config.defaults.targets).get(chosen)
        for k in keys
    }
    target = per.pop() if len(per) == 1 else None
    lang_ = language(config, request, lang, None)
    return Figure.model_validate(
        figure(report, metric=chosen, target=target, w=lambda k: t(lang_, k), lang=lang_)
    )
