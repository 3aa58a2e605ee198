"""Who holds a token, without touching the request pool: a short-lived in-memory cache keyed
by the token's hash, filled through a small connection pool of its own.

A flood of requests (with real or made-up tokens) is answered from the cache or refused at
once; it never waits for, or holds, a connection the routes need. A revoked token stops
working within TTL_S everywhere (and at once in the process that revoked it).

Two lanes: the hashes of the tokens in force are known (re-read every KNOWN_TTL_S, one small
query), and a token among them is looked up in the main lane; any other token (made up, or
made in the last second) waits in a lane of its own, one lookup at a time. A flood of
made-up tokens then queues behind itself, never in front of a real one (it held the first
valid request back by 6 s)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import anyio
from sqlalchemy.engine import Engine

from app.auth.service import Principal, digest, in_force, principal_for
from app.ops.loops import PerLoop

TTL_S = 5.0
MAX_ENTRIES = 10_000  # made-up tokens are cached too (as unknown): bounded, oldest out first
LOOKUPS_AT_ONCE = 4
STRANGERS_AT_ONCE = 1  # lookups of tokens not known to be in force
LOOKUP_WAIT_S = 1.0
KNOWN_TTL_S = 1.0

Lookup = Callable[[str], Principal | None]
Known = Callable[[], set[str]]


class Busy(Exception):
    """No lookup could be made in time: answer 503, the client retries."""


def engine_lookup(engine: Engine) -> Lookup:
    def lookup(token: str) -> Principal | None:
        with engine.connect() as conn:
            pg: Any = conn.connection.driver_connection
            return principal_for(pg, token)

    return lookup


def engine_known(engine: Engine) -> Known:
    def known() -> set[str]:
        with engine.connect() as conn:
            pg: Any = conn.connection.driver_connection
            return in_force(pg)

    return known


class TokenCache:
    def __init__(self, lookup: Lookup, *, ttl_s: float = TTL_S, known: Known | None = None) -> None:
        self.lookup = lookup
        self.ttl_s = ttl_s
        self._entries: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()
        self._limiter = PerLoop(lambda: anyio.CapacityLimiter(LOOKUPS_AT_ONCE))
        self._strangers = PerLoop(lambda: anyio.CapacityLimiter(STRANGERS_AT_ONCE))
        self._known_read = known
        self._known: set[str] = set()
        self._known_at = -KNOWN_TTL_S
        self._known_lock = PerLoop(anyio.Lock)

    def cached(self, token: str) -> tuple[bool, Principal | None]:
        key = digest(token)
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def remember(self, token: str, principal: Principal | None) -> None:
        key = digest(token)
        self._entries[key] = (time.monotonic() + self.ttl_s, principal)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)

    def forget(self, token_sha256: str | None = None) -> None:
        """After a revoke: drop one token's entry (by its hash), or all."""
        if token_sha256 is None:
            self._entries.clear()
        else:
            self._entries.pop(token_sha256, None)

    async def principal(self, token: str, lookup: Lookup | None = None) -> Principal | None:
        """From the event loop: the cache, or one bounded lookup; Busy when none fits in
        LOOKUP_WAIT_S."""
        hit, principal = self.cached(token)
        if hit:
            return principal
        with anyio.move_on_after(LOOKUP_WAIT_S):
            known = await self._known_digests()
            lane = self._limiter if digest(token) in known else self._strangers
            principal = await anyio.to_thread.run_sync(
                lookup or self.lookup, token, limiter=lane.get(), abandon_on_cancel=True
            )
            self.remember(token, principal)
            return principal
        raise Busy

    async def _known_digests(self) -> set[str]:
        """The hashes of the tokens in force, at most KNOWN_TTL_S old (one reader at a time;
        the others use the previous set meanwhile)."""
        if self._known_read is None or time.monotonic() - self._known_at < KNOWN_TTL_S:
            return self._known
        lock = self._known_lock.get()
        if lock.locked():
            return self._known
        async with lock:
            self._known = await anyio.to_thread.run_sync(
                self._known_read, limiter=self._limiter.get(), abandon_on_cancel=True
            )
            self._known_at = time.monotonic()
        return self._known

    def principal_blocking(self, token: str, lookup: Lookup | None = None) -> Principal | None:
        """From a worker thread (a page route)."""
        hit, principal = self.cached(token)
        if not hit:
            principal = (lookup or self.lookup)(token)
            self.remember(token, principal)
        return principal
