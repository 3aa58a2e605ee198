"""Platform adapters over HTTP: Amazon Connect records (ingest token) and Twilio TaskRouter
event callbacks (Twilio's signature instead of a token). Bad records get per-record errors;
the good ones are stored."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from app.auth.deps import Ingester, Supervisor
from app.deps import ConnDep
from app.events.router import read_body
from app.sources.schemas import SourceError, SourceResponse, SourcesHealth
from ingest.sources.base import Item
from ingest.sources.commit import Committer, Summary
from ingest.sources.normalize import Normalizer

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])


@router.get(
    "",
    summary="Each source's health (what the /sup panel shows)",
    response_model=SourcesHealth,
)
def get_sources(request: Request, _: Supervisor, conn: ConnDep) -> dict[str, Any]:
    """Per source: the newest event's time and age, when it was last heard from, events per
    minute, stored, duplicates, rejects, gaps, followed files' offsets and lag, and whether it
    is stale (silent longer than its `max_silence_s`). Supervisors and admins."""
    from datetime import UTC, datetime

    from ingest.sources.health import sources_payload

    config = request.app.state.config
    now = request.app.state.clock.now()
    return sources_payload(conn, config, now, wall=datetime.now(UTC))


async def body_text(request: Request) -> str:
    body = await read_body(request)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"body is not UTF-8 text: {exc}") from exc


def commit(request: Request, conn: ConnDep, source: str, items: Iterable[Item]) -> Summary:
    """Through the one committer (aliases and away reasons applied, the source's health
    counted); inside the request's transaction."""
    normalizer = Normalizer.from_config(getattr(request.app.state, "config", None))
    summary = Committer(conn, source, normalizer=normalizer).run(items)
    request.app.state.telemetry.count_ingest(
        inserted=summary.inserted, duplicates=summary.duplicates, rejected=summary.rejected
    )
    return summary


def response(summary: Summary) -> SourceResponse:
    return SourceResponse(
        inserted=summary.inserted,
        duplicates=summary.duplicates,
        rejected=summary.rejected,
        skipped=dict(summary.skipped),
        errors=[SourceError(position=r.position, message=r.reason) for r in summary.rejects],
    )


@router.post(
    "/amazon-connect",
    response_model=SourceResponse,
    summary="Store Amazon Connect agent events and contact events",
    responses={
        401: {"description": "no or unknown token"},
        403: {"description": "the token's role may not send events"},
        413: {"description": "body too large"},
    },
)
def post_amazon_connect(
    request: Request,
    principal: Ingester,
    text: Annotated[str, Depends(body_text)],
    conn: ConnDep,
    source: Annotated[str, Query(min_length=1, max_length=64)] = "amazon-connect",
) -> SourceResponse:
    """The body: one record, a JSON array of records, JSON lines, or a Lambda `Records` batch
    from Kinesis; agent events and contact events may be mixed."""
    from ingest.sources.amazon_connect import parse

    if not principal.writes_source(source):
        raise HTTPException(403, f"this token may not write source {source!r}")
    return response(commit(request, conn, source, parse(text, source, where="body line")))


def _task_lookup(conn: ConnDep, source: str) -> Callable[[str], tuple[str | None, str | None]]:
    def lookup(task: str) -> tuple[str | None, str | None]:
        row = conn.execute(
            "SELECT (SELECT queue FROM events WHERE source = %(s)s AND call_id = %(c)s"
            "          AND queue IS NOT NULL ORDER BY ts DESC LIMIT 1),"
            "       (SELECT agent FROM events WHERE source = %(s)s AND call_id = %(c)s"
            "          AND type = 'call.answered' ORDER BY ts DESC LIMIT 1)",
            {"s": source, "c": task},
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    return lookup


@router.post(
    "/twilio",
    status_code=204,
    response_model=None,
    summary="Twilio TaskRouter event callbacks",
    responses={
        204: {"description": "stored, or a callback that makes no event"},
        403: {"description": "X-Twilio-Signature missing or wrong"},
        422: {"model": SourceResponse, "description": "the callback could not be read"},
        503: {"description": "[twilio] auth_token_file is not configured or not readable"},
    },
)
def post_twilio(
    request: Request,
    text: Annotated[str, Depends(body_text)],
    conn: ConnDep,
) -> Response:
    """TaskRouter's form POST, checked with Twilio's own request validator against the
    account's auth token (instead of a callboard token); answers 204 at once."""
    from twilio.request_validator import RequestValidator

    from ingest.sources.twilio import translate

    config = request.app.state.config.twilio
    if config.auth_token_file is None:
        raise HTTPException(
            503, "Twilio callbacks are not configured: set [twilio] auth_token_file"
        )
    try:
        token = Path(config.auth_token_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise HTTPException(503, f"cannot read [twilio] auth_token_file: {exc.strerror}") from exc
    form = dict(parse_qsl(text, keep_blank_values=True))
    url = config.public_url or str(request.url)
    signature = request.headers.get("x-twilio-signature", "")
    if not signature or not RequestValidator(token).validate(url, form, signature):
        raise HTTPException(403, "X-Twilio-Signature does not match this request")
    source = config.source
    items = translate(form, source, lookup=_task_lookup(conn, source))
    summary = commit(request, conn, source, items)
    if summary.rejected:
        return JSONResponse(response(summary).model_dump(), status_code=422)
    return Response(status_code=204)
