"""POST /api/v1/events: a JSON array of contract events; valid items are stored even when
others are rejected."""

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import TypeAdapter

from app.auth.deps import Ingester
from app.deps import ConnDep
from app.events.schemas import IngestResponse
from ingest.contract import Event
from ingest.sources.normalize import Normalizer
from ingest.writer import ingest

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
    _: Ingester,
    items: Annotated[list[Any], Depends(read_batch)],
    conn: ConnDep,
) -> IngestResponse:
    normalizer = Normalizer.from_config(getattr(request.app.state, "config", None))
    result = ingest(conn, [normalizer.apply_raw(item) for item in items])
    request.app.state.telemetry.count_ingest(
        inserted=result.inserted, duplicates=result.duplicates, rejected=result.rejected
    )
    return IngestResponse.model_validate(result.as_dict())
