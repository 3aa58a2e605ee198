"""Platform adapters over HTTP: Amazon Connect records (ingest token) and Twilio TaskRouter
event callbacks (Twilio's signature instead of a token). Bad records get per-record errors;
the good ones are stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from app.auth.deps import Ingester
from app.deps import ConnDep
from app.events.router import MAX_BYTES
from app.sources.schemas import SourceError, SourceResponse
from app.sources.store import Summary, store

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])


async def body_text(request: Request) -> str:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BYTES:
        raise HTTPException(413, f"body larger than {MAX_BYTES} bytes; send smaller batches")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BYTES:
            raise HTTPException(413, f"body larger than {MAX_BYTES} bytes; send smaller batches")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, f"body is not UTF-8 text: {exc}") from exc


def response(summary: Summary) -> SourceResponse:
    return SourceResponse(
        inserted=summary.result.inserted,
        duplicates=summary.result.duplicates,
        rejected=len(summary.rejected),
        skipped=dict(summary.skipped),
        errors=[SourceError(position=r.position, message=r.reason) for r in summary.rejected],
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
    _: Ingester,
    text: Annotated[str, Depends(body_text)],
    conn: ConnDep,
    source: Annotated[str, Query(min_length=1, max_length=64)] = "amazon-connect",
) -> SourceResponse:
    """The body: one record, a JSON array of records, JSON lines, or a Lambda `Records` batch
    from Kinesis; agent events and contact events may be mixed."""
    from ingest.sources.amazon_connect import parse

    return response(store(conn, parse(text, source, where="body line"), source=source))
