"""POST /api/v1/events: a JSON array of contract events; valid items are stored even when
others are rejected."""

from collections.abc import Iterable, Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import TypeAdapter

from app.auth.deps import Ingester
from app.auth.service import Principal
from app.deps import ConnDep
from app.events.schemas import IngestResponse, ItemErrorOut
from ingest.contract import Event
from ingest.sources.base import At, Item, Rejected
from ingest.sources.commit import Committer
from ingest.sources.events import HTTP_SOURCE, batch_items, errors_by_index
from ingest.sources.normalize import Normalizer

MAX_ITEMS = 10_000
MAX_BYTES = 10 * 1024 * 1024

router = APIRouter(prefix="/api/v1", tags=["events"])


async def read_body(request: Request) -> bytes:
    """The body, refused as soon as it is known to be larger than MAX_BYTES (every ingest
    route reads its body through this)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BYTES:
        raise HTTPException(413, f"body larger than {MAX_BYTES} bytes; send smaller batches")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BYTES:
            raise HTTPException(413, f"body larger than {MAX_BYTES} bytes; send smaller batches")
    return bytes(body)


async def read_batch(request: Request) -> list[Any]:
    """The body as a JSON array, refused early when it is too large."""
    body = await read_body(request)
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"body is not valid JSON: {exc}") from exc
    if not isinstance(items, list):
        raise HTTPException(422, "body must be a JSON array of events")
    if len(items) > MAX_ITEMS:
        raise HTTPException(413, f"{len(items)} events in one request; at most {MAX_ITEMS}")
    return items


def own_sources(items: Iterable[Item], principal: Principal) -> Iterator[Item]:
    """An ingest token limited to sources (`token create --source`) writes only those: an
    event of another source is that item's error, the others are stored."""
    for item in items:
        if isinstance(item, At) and not principal.writes_source(item.event.source):
            allowed = ", ".join(sorted(principal.sources or ()))
            yield Rejected(
                item.position,
                f"source: this token may write only source {allowed}, not {item.event.source!r}",
                index=item.index,
            )
        else:
            yield item


def _request_schema() -> dict[str, Any]:
    schema = TypeAdapter(list[Event]).json_schema(ref_template="#/components/schemas/{model}")
    schema["maxItems"] = MAX_ITEMS
    return schema


EVENTS_SCHEMA = _request_schema()


@router.post(
    "/events",
    response_model=IngestResponse,
    summary="Store a batch of events",
    responses={
        400: {"description": "body is not JSON"},
        401: {"description": "no or unknown token"},
        403: {"description": "the token's role may not send events"},
        413: {"description": "too many events or bytes in one request"},
        422: {"description": "body is not a JSON array"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {k: v for k, v in EVENTS_SCHEMA.items() if k != "$defs"}
                }
            },
        }
    },
)
def post_events(
    request: Request,
    principal: Ingester,
    items: Annotated[list[Any], Depends(read_batch)],
    conn: ConnDep,
) -> IngestResponse:
    # through the one committer (aliases and away reasons applied, the `api` source's health
    # counted); one request is one batch, in the request's transaction
    normalizer = Normalizer.from_config(getattr(request.app.state, "config", None))
    summary = Committer(
        conn, HTTP_SOURCE, normalizer=normalizer, batch=MAX_ITEMS + 1, keep_rejects=MAX_ITEMS
    ).run(own_sources(batch_items(items), principal))
    request.app.state.telemetry.count_ingest(
        inserted=summary.inserted, duplicates=summary.duplicates, rejected=summary.rejected
    )
    return IngestResponse(
        inserted=summary.inserted,
        duplicates=summary.duplicates,
        rejected=summary.rejected,
        errors=[ItemErrorOut.model_validate(e) for e in errors_by_index(summary)],
    )
