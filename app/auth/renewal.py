"""Sessions renewed while in use. A request or websocket handshake that carries a session's
cookie renews it (app/auth/transport.py calls `touch` before the request runs): at most every
`[oidc] renew_min`, the provider is asked with the session's refresh token whether the person
is still there. It answers no (the user was disabled, logged out there, or the grant revoked):
the session ends at once, and this very request is refused. It cannot be reached: the session
is not extended, and is asked again a minute later (it ends at its idle time if the provider
stays away). A session without a refresh token (the provider gave none: add `offline_access`
to `[oidc] scopes` where the provider wants it) is extended on use up to `max_hours`.

Each process asks the database at most every CHECK_S per session (an in-memory note), so a
busy screen costs no query per request. A screen that only watches (its live socket open, no
request for a while: a supervisor's /sup on a second monitor) is in use too: every
WATCHED_S the sessions holding this process's open sockets are renewed when due
(`renew_watched`, a task of the app's lifespan)."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

import anyio

from app.audit.service import record
from app.auth import oidc, sessions
from app.auth.service import digest
from app.auth.tokens import Busy
from app.ops.loops import PerLoop

CHECK_S = 2.0
WATCHED_S = 30.0
MAX_NOTES = 10_000
log = logging.getLogger(__name__)


class Renewals:
    def __init__(self) -> None:
        self._next: OrderedDict[str, float] = OrderedDict()
        self._limiter = PerLoop(lambda: anyio.CapacityLimiter(2))

    def _due_here(self, key: str) -> bool:
        now = time.monotonic()
        if self._next.get(key, 0.0) > now:
            return False
        self._next[key] = now + CHECK_S
        self._next.move_to_end(key)
        while len(self._next) > MAX_NOTES:
            self._next.popitem(last=False)
        return True

    async def touch(self, app: Any, token: str, address: str | None) -> None:
        """Renew this credential if it is a session whose renewal is due."""
        config = app.state.config.oidc
        if config is None or not self._due_here(digest(token)):
            return
        from app.auth.deps import resolve  # the app's token cache (and the tests' lookup)

        try:
            principal = await resolve(app, token)
        except Busy:
            return
        if principal is None or principal.kind != "session":
            return
        from app.auth.signin import provider_for

        provider = provider_for(app)
        sha256 = digest(token)
        ended = await anyio.to_thread.run_sync(
            renew, app.state.engine, provider, sha256, address, limiter=self._limiter.get()
        )
        if ended:
            app.state.tokens.forget(sha256)


async def renew_watched(app: Any) -> None:
    """The sessions whose live sockets are open here are in use: renewed when due (a
    session the provider ended closes its sockets by the hub's check)."""
    while True:
        await anyio.sleep(WATCHED_S)
        config = app.state.config.oidc
        hub = getattr(app.state, "hub", None)
        if config is None or hub is None:
            continue
        held = sorted({s.token_sha256 for s in list(hub.subscribers) if s.token_sha256})
        if not held:
            continue
        from app.auth.signin import provider_for

        try:
            await anyio.to_thread.run_sync(_renew_all, app, provider_for(app), held)
        except Exception:  # the database away: the next round tries again
            log.exception("renewing the watching screens' sessions failed")


def _renew_all(app: Any, provider: oidc.Provider, held: list[str]) -> None:
    with app.state.engine.connect() as conn:
        due = sessions.due_among(conn.connection.driver_connection, held)
    for sha256 in due:
        if renew(app.state.engine, provider, sha256, None):
            app.state.tokens.forget(sha256)


def renew(engine: Any, provider: oidc.Provider, sha256: str, address: str | None) -> bool:
    """One session's renewal (by its credential's SHA-256), if due, in a transaction of its
    own. True when it ended."""
    config = provider.config
    with engine.begin() as conn:
        pg: Any = conn.connection.driver_connection
        row = sessions.due(pg, sha256=sha256)
        if row is None:
            return False
        if row["refresh_token"] is None:
            sessions.renewed(pg, config=config, token_id=row["id"], refresh_token=None)
            return False
        try:
            answer = provider.renew(row["refresh_token"])
        except oidc.Refused as exc:
            sessions.ended_by_provider(pg, token_id=row["id"])
            record(
                pg,
                action="session.end",
                actor=row["name"] or f"session {row['id']}",
                role=row["role"],
                address=address,
                target=f"session {row['id']}",
                detail={"reason": "provider", "said": str(exc)[:300]},
            )
            return True
        except oidc.Unreachable as exc:
            log.warning("renewing session %s: the provider cannot be reached: %s", row["id"], exc)
            sessions.renewed(
                pg, config=config, token_id=row["id"], refresh_token=None, extend=False
            )
            return False
        sessions.renewed(
            pg, config=config, token_id=row["id"], refresh_token=answer.get("refresh_token")
        )
        return False
