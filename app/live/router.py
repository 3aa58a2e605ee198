"""WS /api/v1/live?topics=center,queue:billing,agent:a17&token=...

Frames: {"topic", "seq", "ts", "kind": "snapshot" | "patch", "data"}; a full snapshot of each
topic first, then patches (nested dicts of what changed; {"__deleted__": true} for a removed
key) against the frame `base` (the seq before); a client holding another seq sends
{"snapshot": [topic]} and gets a snapshot next; heartbeat frames (topic "_heartbeat") carry the
clock every few seconds. `ts` is when the data was computed. The payload's shape is in
app/live/topics.py (and docs/LIVE.md).

A socket holds only what its token may see: the `center` topic's teams are those the token
may see (the rule REST uses), and a token revoked while connected closes its sockets (4401)."""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.auth.service import READERS, Principal, digest, principal_for, team_of
from app.live.fanout import View
from app.live.hub import Hub
from app.live.topics import KINDS

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
    denied, principal = await anyio.to_thread.run_sync(_check, websocket, token, topics)
    if principal is None:
        await websocket.close(4401, "unknown or revoked token")
        return
    if not topics or len(topics) > MAX_TOPICS:
        await websocket.close(4400, f"give 1 to {MAX_TOPICS} topics (?topics=center,queue:q)")
        return
    if denied:
        await websocket.close(4403, f"not allowed: {', '.join(sorted(denied))}")
        return
    sub = hub.subscribe(topics, view=view_for(principal), token_sha256=digest(token))
    try:
        async with anyio.create_task_group() as tg:

            async def sender() -> None:
                while True:
                    await sub.wake.wait()
                    sub.wake.clear()
                    if sub.close is not None:
                        await websocket.close(*sub.close)
                        break
                    if sub not in hub.subscribers:
                        await websocket.close(1001, "server shutting down")
                        break
                    for frame in sub.frames(hub):
                        await websocket.send_text(orjson.dumps(frame).decode())
                tg.cancel_scope.cancel()

            async def receiver() -> None:
                # the client asks for snapshots ({"snapshot": ["center"]}: it missed a patch)
                # or closes; whichever side ends first ends both
                with contextlib.suppress(WebSocketDisconnect):
                    while (text := await client_text(websocket)) is not None:
                        sub.resend(_asked(text))
                tg.cancel_scope.cancel()

            tg.start_soon(sender)
            tg.start_soon(receiver)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.unsubscribe(sub)


async def client_text(websocket: WebSocket) -> str | None:
    """The client's next text message; None when the socket ended. A binary frame is closed
    with 1003 (unsupported data), as RFC 6455 says, not a traceback."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    if message.get("text") is None:
        await websocket.close(1003, "this socket takes no binary frames")
        return None
    text: str = message["text"]
    return text


def _asked(text: str) -> set[str]:
    """The topics a client message asks a snapshot of (anything else asks nothing)."""
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        return set()
    topics = message.get("snapshot") if isinstance(message, dict) else None
    if isinstance(topics, str):
        topics = [topics]
    return {t for t in topics if isinstance(t, str)} if isinstance(topics, list) else set()


def view_for(principal: Principal) -> View | None:
    """What a token sees of a payload: the center's teams are filtered like REST's rows (an
    agent sees their own team's aggregates, a supervisor their teams'); queue, team and agent
    topics are whole or refused at subscription."""
    if principal.role in ("admin", "wallboard"):
        return None

    def view(topic: str, data: dict[str, Any]) -> dict[str, Any]:
        if topic != "center":
            return data
        windows = {
            w: {
                **section,
                "teams": {
                    t: row
                    for t, row in (section.get("teams") or {}).items()
                    if principal.sees_team(t)
                },
            }
            for w, section in (data.get("windows") or {}).items()
        }
        return {**data, "windows": windows}

    return view


def _bearer(websocket: WebSocket) -> str | None:
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _check(
    websocket: WebSocket, token: str, topics: frozenset[str]
) -> tuple[set[str], Principal | None]:
    with websocket.app.state.engine.connect() as conn:
        pg: Any = conn.connection.driver_connection
        principal = principal_for(pg, token)
        if principal is None:
            return set(), None
        # agent:A and alerts:agent:A are checked against A's team (a supervisor's agents)
        agents = [
            t.removeprefix("alerts:").removeprefix("agent:")
            for t in topics
            if t.startswith(("agent:", "alerts:agent:"))
        ]
        teams = team_of(pg, agents)
    return {t for t in topics if not _allowed(principal, t, teams)}, principal


def _allowed(principal: Principal, topic: str, teams: dict[str, str | None]) -> bool:
    kind = KINDS.get(topic)
    if kind is not None:  # a plugged-in kind (alerts, sources)
        return kind.allow(principal) if kind.allow else principal.role in READERS
    return principal.sees_topic(topic, teams)
