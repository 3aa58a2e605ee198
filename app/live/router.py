"""WS /api/v1/live?topics=center,queue:billing,agent:a17&token=...

Frames: {"topic", "seq", "ts", "kind": "snapshot" | "patch", "data"}; a full snapshot of each
topic first, then patches (nested dicts of what changed; {"__deleted__": true} for a removed
key); heartbeat frames (topic "_heartbeat") carry the clock every few seconds."""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.auth.service import principal_for, team_of
from app.live.hub import Hub

router = APIRouter()

MAX_TOPICS = 200


@router.websocket("/api/v1/live")
async def live(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    token = websocket.query_params.get("token") or _bearer(websocket)
    topics = frozenset(t for t in websocket.query_params.get("topics", "").split(",") if t)
    await websocket.accept()
    if not token:
        await websocket.close(4401, "a token is required (?token=)")
        return
    denied, principal_ok = await anyio.to_thread.run_sync(_check, websocket, token, topics)
    if not principal_ok:
        await websocket.close(4401, "unknown or revoked token")
        return
    if not topics or len(topics) > MAX_TOPICS:
        await websocket.close(4400, f"give 1 to {MAX_TOPICS} topics (?topics=center,queue:q)")
        return
    if denied:
        await websocket.close(4403, f"not allowed: {', '.join(sorted(denied))}")
        return
    sub = hub.subscribe(topics)
    try:
        async with anyio.create_task_group() as tg:

            async def sender() -> None:
                while True:
                    await sub.wake.wait()
                    sub.wake.clear()
                    if sub not in hub.subscribers:
                        await websocket.close(1001, "server shutting down")
                        break
                    for frame in sub.frames(hub):
                        await websocket.send_text(orjson.dumps(frame).decode())
                tg.cancel_scope.cancel()

            async def receiver() -> None:
                # the client only talks to close; whichever side ends first ends both
                with contextlib.suppress(WebSocketDisconnect):
                    while True:
                        await websocket.receive_text()
                tg.cancel_scope.cancel()

            tg.start_soon(sender)
            tg.start_soon(receiver)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.unsubscribe(sub)


def _bearer(websocket: WebSocket) -> str | None:
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _check(websocket: WebSocket, token: str, topics: frozenset[str]) -> tuple[set[str], bool]:
    with websocket.app.state.engine.connect() as conn:
        pg: Any = conn.connection.driver_connection
        principal = principal_for(pg, token)
        if principal is None:
            return set(), False
        agents = [t.partition(":")[2] for t in topics if t.startswith("agent:")]
        teams = team_of(pg, agents)
    return {t for t in topics if not principal.sees_topic(t, teams)}, True
